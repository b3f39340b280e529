package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"gatehouse/backend"
)

// TestBrowserOIDCPages: in real Chromium, a sign-in from an application starts at the Gatehouse
// login and, for an administrators-only app, ends at the no-access page; an application's
// "Log out" asks first and logs out on the button. Both pages are checked and shown at desktop
// and phone widths.
func TestBrowserOIDCPages(t *testing.T) {
	o := newOIDCEnv(t)
	o.user("bob", backend.RoleUser, false)
	_, cfg := o.app("Admin Tools", func(na *backend.NewApp) { na.Audience = backend.AudienceAdmins })
	tb := o.env.tab(t, browser(t))
	u, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("nonce", "n")))
	tb.open(u.RequestURI())
	tb.waitHeading("Log in")
	if got := tb.eval(`location.pathname`); got != "/login" {
		t.Fatalf("a sign-in from an application without a session: at %s, want /login", got)
	}
	tb.fill("Username", "bob")
	tb.fill("Password", testPassword)
	tb.click("Log in")
	tb.waitHeading("No access")
	tb.wantText("You don't have access to Admin Tools: it is for administrators only.")
	tb.screenshots("oidc-no-access")

	q := url.Values{"client_id": {cfg.ClientID}}
	tb.open("/oidc/end_session?" + q.Encode())
	tb.waitHeading("Log out of Gatehouse?")
	tb.wantText("Admin Tools asks to log you out")
	tb.screenshots("oidc-logout-confirm")
	tb.do(chromedp.Click(chromedp.CSS("#logout-confirm")))
	tb.waitHeading("Log in")
	if !strings.Contains(tb.text(), backend.LoggedOutNotice) {
		t.Errorf("after the application's logout: no %q on the login page", backend.LoggedOutNotice)
	}
	tb.open("/profile")
	tb.waitHeading("Log in")
}
