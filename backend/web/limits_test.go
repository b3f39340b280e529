package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

var inputPattern = regexp.MustCompile(`<input [^>]*>`)
var attrPattern = regexp.MustCompile(`\b(name|type|maxlength)="([^"]*)"`)

// TestFieldsHaveBackendLimits pins issue 11 (web 8): every field of every form that holds a
// username, a name, an email, a password or a phone number carries backend's limit as its
// maxlength, and backend takes a value of exactly that length and refuses one longer.
func TestFieldsHaveBackendLimits(t *testing.T) {
	e := newEnv(t, withSandbox)
	link, err := e.srv.FirstAdminURL(context.Background(), e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	anon := e.client()
	pages := map[string]string{"/login": anon.get("/login").body, "first admin": anon.get(strings.TrimPrefix(link, e.ts.URL)).body,
		"/sms-sandbox": anon.get("/sms-sandbox").body}
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	a := e.client()
	a.signIn("admin")
	e.clock.Advance(11 * time.Minute) // the forms with the password on them
	for _, p := range []string{"/admin/users/new", fmt.Sprintf("/admin/users/%d/edit", bob.ID), fmt.Sprintf("/admin/users/%d/password", bob.ID),
		"/profile/password", "/profile/two-factor"} {
		pages[p] = a.get(p).body
	}
	want := map[string]int{"username": backend.MaxUsernameLength, "name": backend.MaxDisplayNameLength,
		"email": backend.MaxEmailLength, "from": backend.MaxPhoneLength}
	seen := map[string]int{}
	for page, body := range pages {
		for _, in := range inputPattern.FindAllString(body, -1) {
			attrs := map[string]string{}
			for _, m := range attrPattern.FindAllStringSubmatch(in, -1) {
				attrs[m[1]] = m[2]
			}
			limit, ok := want[attrs["name"]]
			if attrs["type"] == "password" {
				limit, ok = backend.MaxPasswordLength, true
			}
			if !ok || strings.Contains(in, " disabled") {
				continue
			}
			seen[attrs["name"]]++
			if got := attrs["maxlength"]; got != strconv.Itoa(limit) {
				t.Errorf("%s: %s has maxlength %q, want %d", page, in, got, limit)
			}
		}
	}
	for _, name := range []string{"username", "name", "email", "from", "password", "current_password", "new_password", "confirm_password"} {
		if seen[name] == 0 {
			t.Errorf("no %s field found on the pages", name)
		}
	}

	// Backend takes exactly the limit, and refuses one more.
	e.clock.Advance(time.Second)
	a.post("/profile/confirm-password", url.Values{"password": {testPassword}})
	local := strings.Repeat("e", 64)
	longEmail := local + "@" + strings.Repeat("d", backend.MaxEmailLength-len(local)-1-4) + ".com"
	for _, tt := range []struct {
		field, ok, tooLong string
	}{
		{"username", strings.Repeat("u", backend.MaxUsernameLength), strings.Repeat("v", backend.MaxUsernameLength+1)},
		{"name", strings.Repeat("n", backend.MaxDisplayNameLength), strings.Repeat("m", backend.MaxDisplayNameLength+1)},
		{"email", longEmail, "x" + longEmail},
		{"password", strings.Repeat("correct horse ", 20)[:backend.MaxPasswordLength], strings.Repeat("correct horse ", 20)[:backend.MaxPasswordLength+1]},
	} {
		for i, value := range []string{tt.ok, tt.tooLong} {
			form := url.Values{"username": {fmt.Sprintf("%s%d", tt.field, i)}, "password": {testPassword}, "role": {"user"}, "two_factor": {"no"}}
			form.Set(tt.field, value)
			r := a.post("/admin/users/new", form)
			if created := r.StatusCode == http.StatusSeeOther; created != (i == 0) {
				t.Errorf("new user with a %s of %d characters: status %d, want created %v:\n%s", tt.field, len(value), r.StatusCode, i == 0, excerpt(r.body))
			}
		}
	}
}
