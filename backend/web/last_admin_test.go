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

// TestLastAdminDemotingThemselves pins issue 11 (web 8): the only administrator who makes
// themselves a user, or disables their own account, is told at once that it would leave no
// administrator: not asked for the password first, and a password typed with it is not checked.
func TestLastAdminDemotingThemselves(t *testing.T) {
	e := newEnv(t)
	root := e.user("root", backend.RoleAdmin, false)
	a := e.client()
	a.signIn("root")
	e.clock.Advance(11 * time.Minute) // a password would be due
	page := fmt.Sprintf("/admin/users/%d/edit", root.ID)
	for _, form := range []url.Values{
		{"name": {"Root Example"}, "email": {"root@example.com"}, "role": {"user"}, "account": {"active"}},
		{"name": {"Root Example"}, "email": {"root@example.com"}, "role": {"user"}, "account": {"active"}, "current_password": {"not my password"}},
		{"name": {"Root Example"}, "email": {"root@example.com"}, "role": {"admin"}, "account": {"disabled"}, "current_password": {testPassword}},
	} {
		r := a.post(page, form)
		r.wantStatus(t, http.StatusConflict)
		r.wantBody(t, "This change would leave no enabled administrator.")
		if strings.Contains(r.body, "Confirm your password to continue.") || strings.Contains(r.body, "Incorrect password.") {
			t.Errorf("refused after the password: %s", excerpt(r.body))
		}
	}
	if n := e.auditCount(backend.AuditLoginFailure); n != 0 {
		t.Errorf("%d failed password checks recorded, want none", n)
	}
}
