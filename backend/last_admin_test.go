package backend_test

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// TestLastAdminRefusedBeforePassword pins issue 11 (web 8): the last enabled administrator
// demoting or disabling themselves is refused (ECONFLICT) before any password is asked for
// (EREAUTH) or checked; with another administrator the same change asks for the password.
func TestLastAdminRefusedBeforePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Advance(11 * time.Minute) // the administrator's confirmation has lapsed
	self := e.admin.User.ID
	user, yes := backend.RoleUser, true
	before := e.verify.Load()
	for _, ch := range []backend.UserChanges{{Role: &user}, {Disabled: &yes}} {
		_, err := e.svc.UpdateUser(ctx, e.admin, self, ch)
		wantCode(t, "UpdateUser of the last administrator", err, backend.ECONFLICT)
		wantCode(t, "CheckUserChanges of the last administrator", e.svc.CheckUserChanges(ctx, e.admin, self, ch), backend.ECONFLICT)
	}
	if got := e.verify.Load() - before; got != 0 {
		t.Errorf("password verifications: %d, want none", got)
	}
	if u := e.user(self); u.Role != backend.RoleAdmin || u.Disabled {
		t.Errorf("the last administrator after the refusals: %+v", u)
	}
	if _, err := e.svc.CreateUser(ctx, e.svc.Operator(), backend.NewUser{Username: "second", Password: goodPassword, Role: backend.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckUserChanges(ctx, e.admin, self, backend.UserChanges{Role: &user}); err != nil {
		t.Errorf("CheckUserChanges with another administrator: %v, want nil", err)
	}
	_, err := e.svc.UpdateUser(ctx, e.admin, self, backend.UserChanges{Role: &user})
	wantCode(t, "UpdateUser with another administrator, password lapsed", err, backend.EREAUTH)
}
