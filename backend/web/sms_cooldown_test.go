package web

import (
	"net/http"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestSMSFreshLoginNotHeldByCooldown pins issue 11 (web 8): "Send code" on a new login works
// at once, even seconds after the previous login's code; "Send again" on the same login waits.
func TestSMSFreshLoginNotHeldByCooldown(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("sam", backend.RoleUser, false)
	c := e.client()
	c.signIn("sam")
	c.enrollBySMS("/profile/two-factor", testPhone)
	c.post("/logout", nil)

	e.clock.Advance(time.Minute)
	c.login("sam", testPassword).wantRedirect(t, "/login/verify")
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	c.post("/login/cancel", nil) // "Log out", then straight back in
	e.clock.Advance(5 * time.Second)
	c.login("sam", testPassword).wantRedirect(t, "/login/verify")
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	again := c.post("/login/verify/sms/send", nil)
	again.wantStatus(t, http.StatusTooManyRequests)
	again.wantBody(t, "A code was sent moments ago.")
}
