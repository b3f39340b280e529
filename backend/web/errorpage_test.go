package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/backend"
)

// wantSignedInFrame fails unless the page is in the signed-in layout (the user menu, and for an
// administrator the Administration tab) and its button leads back to back, not to Log in.
func wantSignedInFrame(t *testing.T, r *response, admin bool, back, label string) {
	t.Helper()
	r.wantBody(t, `class="user-menu"`, fmt.Sprintf(`href="%s" id="error-back">%s</a>`, back, label))
	if admin {
		r.wantBody(t, `>Administration</a>`)
	}
	if strings.Contains(r.body, "Go to Log in") {
		t.Errorf("%s %s: the page offers Go to Log in to someone signed in:\n%s", r.Request.Method, r.Request.URL.Path, excerpt(r.body))
	}
}

// TestRefusalKeepsSignedInLayout: "That cannot be done now" after a stale tab's Require, or
// Download after the codes were saved in another tab, keeps the signed-in layout and leads back
// to where the person was (issue 11: such pages looked like a logout).
func TestRefusalKeepsSignedInLayout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	a := e.client()
	a.signIn("admin")

	// Two tabs on bob's edit page: the first requires Two-Factor, the second then does too.
	path := fmt.Sprintf("/admin/users/%d/%s", bob.ID, backend.ActionRequireTwoFactor)
	a.post(path, nil).wantRedirect(t, userPath(bob))
	r := a.post(path, nil)
	r.wantStatus(t, http.StatusConflict)
	r.wantBody(t, "That cannot be done now")
	wantSignedInFrame(t, r, true, userPath(bob), "Back to "+bob.Name())
	r.wantBody(t, `class="active">Users</a>`) // the Administration section it came from

	// A user who is not there: back to the list.
	r = a.get("/admin/users/999")
	r.wantStatus(t, http.StatusNotFound)
	wantSignedInFrame(t, r, true, "/admin/users", "Back to Users")

	// Download after "I have saved these codes" in another tab.
	c := e.client()
	e.user("carol", backend.RoleUser, false)
	c.signIn("carol")
	c.get("/profile/two-factor")
	key := appKey(t, c.follow(c.post("/profile/two-factor/app", url.Values{"current_password": {testPassword}})).body)
	c.post("/profile/two-factor/app/confirm", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	r = c.post("/recovery-codes/download", nil)
	r.wantStatus(t, http.StatusGone)
	r.wantBody(t, "These recovery codes are no longer available")
	wantSignedInFrame(t, r, false, "/profile", "Back to your Profile")

	// Signed out, the same refusal offers Log in.
	r = e.client().post("/recovery-codes/download", nil)
	r.wantStatus(t, http.StatusGone)
	r.wantBody(t, `href="/login" id="error-back">Go to Log in</a>`)
}
