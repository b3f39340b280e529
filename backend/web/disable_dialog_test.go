package web

import (
	"fmt"
	"html"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestDisableDialogOfPendingUser pins issue 11 (web 8): the Disable Two-Factor pop-up and page
// of a user pending setup say backend's sentence, which promises no setup to remove.
func TestDisableDialogOfPendingUser(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	pat := e.user("pat", backend.RoleUser, true)
	a := e.client()
	a.signIn("admin")
	want := html.EscapeString(backend.DescribeUserAction(backend.ActionDisableTwoFactor, pat).Confirm)
	base := fmt.Sprintf("/admin/users/%d", pat.ID)
	for _, path := range []string{base + "/edit", base + "/disable-two-factor"} {
		r := a.get(path)
		r.wantBody(t, want, "They have not set it up yet")
		if strings.Contains(r.body, "current setup and recovery codes will be removed") {
			t.Errorf("%s promises to remove a setup pat does not have", path)
		}
	}
}
