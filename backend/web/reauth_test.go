package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestLoginConfirmsPasswordWeb pins issue 11 (web 6) through the pages: right after logging
// in, Setup Two-Factor, Regenerate and an administrator's Disable Two-Factor go through without
// the password again (the login confirmed it); ten minutes after the login they ask for it.
func TestLoginConfirmsPasswordWeb(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, true)
	e.user("alice", backend.RoleUser, false)
	field := `name="current_password"`
	noField := func(r *response) {
		t.Helper()
		if strings.Contains(r.body, field) {
			t.Errorf("%s %s right after logging in asks for the password again", r.Request.Method, r.Request.URL.Path)
		}
	}

	c := e.client()
	c.signIn("alice")
	noField(c.get("/profile/two-factor"))
	r := c.post("/profile/two-factor/app", nil)
	r.wantRedirect(t, "/profile/two-factor/app")
	key := appKey(t, c.get("/profile/two-factor/app").body)
	c.post("/profile/two-factor/app/confirm", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	noField(c.get("/profile/recovery-codes"))
	c.post("/profile/recovery-codes", nil).wantRedirect(t, "/recovery-codes")

	a := e.client()
	a.signIn("admin")
	page := fmt.Sprintf("/admin/users/%d", bob.ID)
	noField(a.get(page + "/disable-two-factor"))
	if r := a.post(page+"/disable-two-factor", nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("Disable Two-Factor right after logging in: status %d, want 303 (done)", r.StatusCode)
	}

	// Ten minutes and a second after the logins: asked again, on the form.
	e.clock.Advance(10*time.Minute + time.Second)
	c.get("/profile/recovery-codes").wantBody(t, field)
	c.post("/profile/recovery-codes", nil).wantBody(t, "<h1>Confirm your password</h1>")
	a.get(page+"/password").wantBody(t, field)
	a.post(page+"/password", url.Values{"password": {"a password from the admin"}}).wantBody(t, "Confirm your password to continue.")
}
