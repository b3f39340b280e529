package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// auditRow is one row of the audit log table, its cells' HTML by column.
type auditRow struct{ When, Event, By, User string }

var auditRowPattern = regexp.MustCompile(`(?s)<tr><td class="nowrap" data-label="When">([^<]*)</td><td data-label="Event"[^>]*>([^<]*)</td><td data-label="By" class="names">(.*?)</td><td data-label="User" class="names">(.*?)</td>`)

func auditRows(body string) []auditRow {
	var rows []auditRow
	for _, m := range auditRowPattern.FindAllStringSubmatch(body, -1) {
		rows = append(rows, auditRow{m[1], m[2], m[3], m[4]})
	}
	return rows
}

// TestAuditLogReadable: every time is to the second in one format (the log's and the user
// page's); the users of a row link to their pages; "Logged out" names who; the first
// administrator made with the setup link says so under By; "Account locks and unlocks" shows
// the lock and the Unlock (issue 11).
func TestAuditLogReadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	link, err := e.srv.FirstAdminURL(t.Context(), e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	a := e.client()
	a.post(strings.TrimPrefix(link, e.ts.URL), url.Values{"username": {"root"}, "password": {testPassword}, "confirm_password": {testPassword}}).wantRedirect(t, "/login")
	a.signIn("root")
	a.post("/logout", nil).wantRedirect(t, "/login")
	a.signIn("root")
	root := e.userNamed("root")
	bob := e.user("bob", backend.RoleUser, false)

	b := e.client()
	for i := range 10 {
		e.clock.Advance(31 * time.Second)
		b.login("bob", fmt.Sprintf("wrong password %d", i))
	}
	a.post(fmt.Sprintf("/admin/users/%d/unlock", bob.ID), url.Values{"current_password": {testPassword}}).wantRedirect(t, userPath(bob))

	rows := auditRows(a.get("/admin/audit").body)
	if len(rows) < 5 {
		t.Fatalf("%d rows in the audit log", len(rows))
	}
	when := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`)
	find := func(event string) *auditRow {
		for i := range rows {
			if rows[i].Event == event && (event != "User created" || strings.Contains(rows[i].User, ">root<")) {
				return &rows[i]
			}
		}
		t.Fatalf("no %q row in %+v", event, rows)
		return nil
	}
	for _, r := range rows {
		if !when.MatchString(r.When) {
			t.Errorf("%s at %q, want YYYY-MM-DD hh:mm:ss UTC", r.Event, r.When)
		}
	}
	rootLink := fmt.Sprintf(`<a href="/admin/users/%d">root</a>`, root.ID)
	if r := find("User created"); r.By != backend.AuditActorSetupLink || r.User != rootLink {
		t.Errorf("the first administrator's row: by %q, user %q; want by %q, user %q", r.By, r.User, backend.AuditActorSetupLink, rootLink)
	}
	if r := find("Logged out"); r.User != rootLink || r.By != rootLink {
		t.Errorf("Logged out: by %q, user %q; want root, linked, in both", r.By, r.User)
	}
	if r := find("Account unlocked by an administrator"); r.By != rootLink || r.User != fmt.Sprintf(`<a href="/admin/users/%d">bob</a>`, bob.ID) {
		t.Errorf("Unlock: by %q, user %q", r.By, r.User)
	}

	// "Account locks and unlocks": both, and nothing else.
	var events []string
	for _, r := range auditRows(a.get("/admin/audit?action=account.").body) {
		events = append(events, r.Event)
	}
	if got := strings.Join(events, ", "); got != "Account unlocked by an administrator, Account locked" {
		t.Errorf("Account locks and unlocks lists %q, want the unlock and the lock", got)
	}

	// The user page writes its times the same way.
	r := a.get(userPath(bob))
	r.wantStatus(t, http.StatusOK)
	r.wantBody(t, "<dd>"+backend.FormatTime(bob.CreatedAt)+"</dd>")
	if !when.MatchString(backend.FormatTime(bob.CreatedAt)) {
		t.Errorf("FormatTime = %q", backend.FormatTime(bob.CreatedAt))
	}
}

// userNamed is the account with the username.
func (e *env) userNamed(username string) *backend.User {
	e.t.Helper()
	p, err := e.svc.Users(e.t.Context(), e.svc.Operator(), backend.UserFilter{Search: username})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range p.Users {
		if u.Username == username {
			return u
		}
	}
	e.t.Fatalf("no user %q", username)
	return nil
}
