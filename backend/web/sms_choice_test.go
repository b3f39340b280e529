package web

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestChoiceSaysSMSIsNotSetUp pins issue 11 (desktop 5, and the web alike): with SMS off, the
// choice screen says so with backend's sentence (Service.SMSAvailable, the one the console's
// choice screen shows) and "Use SMS" is not a working button; with SMS on, it is.
func TestChoiceSaysSMSIsNotSetUp(t *testing.T) {
	useSMS := `formaction="/login/enroll/sms"`
	t.Run("off", func(t *testing.T) {
		e := newEnv(t)
		e.user("bob", backend.RoleUser, true)
		c := e.client()
		c.login("bob", testPassword).wantRedirect(t, "/login/enroll")
		page := c.get("/login/enroll")
		_, why := e.svc.SMSAvailable()
		if why == "" {
			t.Fatal("SMSAvailable gives no reason with SMS off")
		}
		page.wantBody(t, `id="sms-unavailable"`, why)
		if strings.Contains(page.body, useSMS) {
			t.Errorf("SMS off: the choice screen offers a working Use SMS:\n%s", excerpt(page.body))
		}
	})
	t.Run("on", func(t *testing.T) {
		e := newEnv(t, withSMS)
		e.user("bob", backend.RoleUser, true)
		c := e.client()
		c.login("bob", testPassword).wantRedirect(t, "/login/enroll")
		page := c.get("/login/enroll")
		page.wantBody(t, useSMS)
		if strings.Contains(page.body, `id="sms-unavailable"`) {
			t.Errorf("SMS on: the choice screen says SMS is not set up")
		}
	})
}
