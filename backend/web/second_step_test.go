package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestSecondStepPagesNameNobody pins issue 11 (web 8): before the second factor, the pages of
// the login greet nobody by name and show no email: the password alone does not show whose
// account it opens. A wrong app code there says to check the phone's clock.
func TestSecondStepPagesNameNobody(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	key, _ := c.enrollFromProfile()
	c.post("/logout", nil)
	e.clock.Advance(time.Minute)

	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	pages := map[string]string{"/login/verify": c.get("/login/verify").body, "/login/recovery": c.get("/login/recovery").body}
	wrong := c.post("/login/verify", url.Values{"code": {wrongCode(e.code(key))}})
	wrong.wantBody(t, "check that your phone&#39;s time is set automatically")
	pages["wrong code"] = wrong.body

	// A user who gets codes by text.
	e.user("sam", backend.RoleUser, false)
	s := e.client()
	s.signIn("sam")
	s.enrollBySMS("/profile/two-factor", testPhone)
	s.post("/logout", nil)
	e.clock.Advance(time.Minute)
	s.login("sam", testPassword).wantRedirect(t, "/login/verify")
	pages["sms verify"] = s.get("/login/verify").body
	s.post("/login/verify/sms/send", nil)
	pages["sms code sent"] = s.get("/login/verify").body

	for name, body := range pages {
		for _, personal := range []string{"Alice Example", "alice@example.com", "Sam Example", "sam@example.com", "Hello"} {
			if strings.Contains(body, personal) {
				t.Errorf("%s before the second factor shows %q", name, personal)
			}
		}
	}
}

// wrongCode is a 6-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}
