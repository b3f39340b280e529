package backend_test

import (
	"errors"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestSeedUsers: test users go in through the Service, in one transaction with their audit
// events, only for an administrator or the operator, and only into a store without users who
// are not administrators.
func TestSeedUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.svc.SeedUsers(ctx, nil, 3, goodPassword); backend.ErrorCode(err) != backend.EFORBIDDEN {
		t.Errorf("SeedUsers without an identity: %v, want EFORBIDDEN", err)
	}
	for _, n := range []int{0, -1, backend.MaxSeedUsers + 1} {
		if _, err := e.svc.SeedUsers(ctx, e.admin, n, goodPassword); backend.ErrorCode(err) != backend.EINVALID {
			t.Errorf("SeedUsers(%d): %v, want EINVALID", n, err)
		}
	}
	if _, err := e.svc.SeedUsers(ctx, e.admin, 3, "password123"); backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(backend.ErrorMessage(err), "commonly used") {
		t.Errorf("SeedUsers with a common password: %v, want the password rule", err)
	}

	got, err := e.svc.SeedUsers(ctx, e.admin, 12, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if want := (backend.Seeded{Count: 12, First: "user000000", Last: "user000011"}); *got != want {
		t.Errorf("SeedUsers: got %+v, want %+v", *got, want)
	}
	counts, err := e.svc.StatusCounts(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	// 0, 3, 6, 9 are required; 1, 5, 9 enrolled by SMS; the administrator is No.
	if counts[backend.StatusPending] != 3 || counts[backend.StatusEnabled] != 3 || counts[backend.StatusNo] != 7 {
		t.Errorf("status counts after seed: %v, want 3 pending, 3 enabled, 7 no", counts)
	}
	e.login("user000000", goodPassword, backend.StepEnroll) // required, not enrolled
	e.login("user000011", goodPassword, backend.StepDone)
	created := e.auditEvents(backend.AuditUserCreated)
	if len(created) != 3 || !strings.Contains(created[0].Detail, "11 more test users, user000001 to user000011") || created[0].ActorName != "admin" ||
		created[1].TargetName != "user000000" {
		t.Errorf("audit events of the seed: %+v, want the first administrator's, the first user's and one for the other 11", created)
	}

	// Twice: refused, and nothing more is added.
	_, err = e.svc.SeedUsers(ctx, e.svc.Operator(), 5, goodPassword)
	var refused *backend.SeedRefusedError
	if !errors.As(err, &refused) || refused.Users != 12 || backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("seed again: %v, want a SeedRefusedError (ECONFLICT) counting 12 users", err)
	}
	if n := len(e.auditEvents(backend.AuditUserCreated)); n != 3 {
		t.Errorf("a refused seed recorded events: %d, want 3", n)
	}
}

// TestSeedUsersOneTransaction: when one of the users cannot be inserted, none is, not even the
// first, created as CreateUser creates.
func TestSeedUsersOneTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "user000004", Role: backend.RoleAdmin})
	if _, err := e.svc.SeedUsers(ctx, e.svc.Operator(), 6, goodPassword); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Errorf("SeedUsers over a taken username: %v, want ECONFLICT", err)
	}
	if p, err := e.svc.Users(ctx, e.admin, backend.UserFilter{Role: backend.RoleUser}); err != nil || p.Total != 0 {
		t.Errorf("after a failed seed: %d users (%v), want none", p.Total, err)
	}
	if ev := e.auditEvents(backend.AuditUserCreated); len(ev) != 2 { // admin's and user000004's
		t.Errorf("a failed seed left %d user_created events, want 2", len(ev))
	}
}
