package web

import (
	"testing"

	"gatehouse/backend"
)

// TestBrowserAuditLogFits: at 1280 px the audit log's seven columns fit their frame ("IP
// address" was cut off by 23 px), with the long details a login through Two-Factor setup
// writes; on a phone the overview chart's labels stay readable (they scaled to ~8 px).
func TestBrowserAuditLogFits(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withKeys)
	e.user("root", backend.RoleAdmin, false)
	e.user("maximilian", backend.RoleUser, true)
	tb := e.tab(t, b)
	tb.logIn("maximilian", testPassword)
	tb.waitHeading("Two-Factor Authentication is required")
	tb.click("Use an App")
	tb.enrollWithApp("maximilian")
	tb.logOut()
	tb.logIn("root", testPassword)
	tb.waitFor(`location.pathname !== "/login" && document.readyState === "complete"`)
	tb.open("/admin/audit")
	tb.wantText("then Two-Factor setup")
	if over := tb.eval(`String(document.querySelector(".table-wrap").scrollWidth - document.querySelector(".table-wrap").clientWidth)`); over != "0" {
		t.Errorf("at 1280 px the audit log is %spx wider than its frame", over)
	}
	tb.screenshots("audit-fits")
	tb.open("/admin")
	tb.screenshots("overview-chart")
}
