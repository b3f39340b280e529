package backend_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
)

// madeUsers numbers the users CreateUser makes in adminCalls.
var madeUsers atomic.Int64

// adminCalls are every administrator-only method, each called on the target user.
var adminCalls = []struct {
	name string
	call func(e *env, id *backend.Identity, target int64) error
}{
	{"CreateUser", func(e *env, id *backend.Identity, _ int64) error {
		_, err := e.svc.CreateUser(ctx, id, backend.NewUser{Username: fmt.Sprintf("made%d", madeUsers.Add(1)), Password: goodPassword, Role: backend.RoleAdmin})
		return err
	}},
	{"Users", func(e *env, id *backend.Identity, _ int64) error {
		_, err := e.svc.Users(ctx, id, backend.UserFilter{})
		return err
	}},
	{"User", func(e *env, id *backend.Identity, target int64) error {
		_, err := e.svc.User(ctx, id, target)
		return err
	}},
	{"UserByUsername", func(e *env, id *backend.Identity, _ int64) error {
		_, err := e.svc.UserByUsername(ctx, id, "target")
		return err
	}},
	{"UpdateUser", func(e *env, id *backend.Identity, target int64) error {
		// A new name each time: a form that changes nothing is refused for its own reason.
		name := fmt.Sprintf("Changed %d", madeUsers.Add(1))
		_, err := e.svc.UpdateUser(ctx, id, target, backend.UserChanges{DisplayName: &name})
		return err
	}},
	{"UpdateUser role", func(e *env, id *backend.Identity, target int64) error {
		role := backend.RoleAdmin // or back, if an earlier call made target one
		if u, err := e.db.FindUserByID(ctx, target); err == nil && u.Role == backend.RoleAdmin {
			role = backend.RoleUser
		}
		_, err := e.svc.UpdateUser(ctx, id, target, backend.UserChanges{Role: &role})
		return err
	}},
	{"SetUserPassword", func(e *env, id *backend.Identity, target int64) error {
		return e.svc.SetUserPassword(ctx, id, target, "a password set by someone", false)
	}},
	{"RequireTwoFactor", func(e *env, id *backend.Identity, target int64) error {
		_, err := e.svc.RequireTwoFactor(ctx, id, target)
		return err
	}},
	{"DisableTwoFactor", func(e *env, id *backend.Identity, target int64) error {
		_, err := e.svc.DisableTwoFactor(ctx, id, target)
		return err
	}},
	{"ResetTwoFactor", func(e *env, id *backend.Identity, target int64) error {
		_, err := e.svc.ResetTwoFactor(ctx, id, target)
		return err
	}},
	{"StatusCounts", func(e *env, id *backend.Identity, _ int64) error {
		_, err := e.svc.StatusCounts(ctx, id)
		return err
	}},
	{"AuditLog", func(e *env, id *backend.Identity, _ int64) error {
		_, err := e.svc.AuditLog(ctx, id, backend.AuditFilter{})
		return err
	}},
}

func TestAdminMethodsRequireAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	target := e.createUser(backend.NewUser{Username: "target"})
	e.createUser(backend.NewUser{Username: "user"})
	user := e.signIn("user", goodPassword)
	// An administrator required to enroll, at the enroll step: not signed in yet.
	e.createUser(backend.NewUser{Username: "admin2", Role: backend.RoleAdmin, RequireTwoFactor: true})
	enrolling, err := e.svc.EnrollmentIdentity(ctx, e.login("admin2", goodPassword, backend.StepEnroll).AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	// An administrator demoted while signed in.
	e.createUser(backend.NewUser{Username: "demoted", Role: backend.RoleAdmin})
	demotedToken := e.login("demoted", goodPassword, backend.StepDone).SessionToken
	demoted := e.identity(demotedToken)
	role := backend.RoleUser
	if _, err := e.svc.UpdateUser(ctx, e.admin, demoted.User.ID, backend.UserChanges{Role: &role}); err != nil {
		t.Fatal(err)
	}
	demoted = e.identity(demotedToken)

	refused := []struct {
		name string
		id   *backend.Identity
	}{
		{"user session", user},
		{"admin at the enroll step", enrolling},
		{"demoted admin", demoted},
		{"nobody", nil},
	}
	before := e.user(target.ID)
	_, usersBefore, _ := e.db.FindUsers(ctx, backend.UserFilter{})
	for _, who := range refused {
		for _, c := range adminCalls {
			t.Run(who.name+"/"+c.name, func(t *testing.T) {
				err := c.call(e, who.id, target.ID)
				wantCode(t, c.name, err, backend.EFORBIDDEN)
			})
		}
	}
	// Refused calls changed nothing.
	if after := e.user(target.ID); *after != *before {
		t.Errorf("target after refused calls: got %+v, want %+v", after, before)
	}
	if _, n, _ := e.db.FindUsers(ctx, backend.UserFilter{}); n != usersBefore {
		t.Errorf("users after refused calls: got %d, want %d", n, usersBefore)
	}
	if _, err := e.svc.Login(ctx, "target", "a password set by someone"); err == nil {
		t.Errorf("the password set by a refused SetUserPassword: got accepted, want refused")
	}

	for _, who := range []struct {
		name string
		id   *backend.Identity
	}{{"admin session", e.admin}, {"operator", e.svc.Operator()}} {
		for _, c := range adminCalls {
			t.Run(who.name+"/"+c.name, func(t *testing.T) {
				err := c.call(e, who.id, target.ID)
				if c.name == "ResetTwoFactor" && backend.ErrorCode(err) == backend.ECONFLICT {
					err = nil // allowed, and refused for its own reason: target has nothing to reset
				}
				if err != nil {
					t.Errorf("%s: got %v, want nil", c.name, err)
				}
			})
		}
	}
}

// TestLastAdmin: the last enabled administrator can be neither demoted nor disabled.
func TestLastAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin.User
	role := func(r backend.Role) backend.UserChanges { return backend.UserChanges{Role: &r} }
	disabled := func(b bool) backend.UserChanges { return backend.UserChanges{Disabled: &b} }

	for _, ch := range []backend.UserChanges{role(backend.RoleUser), disabled(true)} {
		_, err := e.svc.UpdateUser(ctx, e.admin, admin.ID, ch)
		wantCode(t, "changing the only administrator", err, backend.ECONFLICT)
	}
	if u := e.user(admin.ID); u.Role != backend.RoleAdmin || u.Disabled {
		t.Fatalf("the only administrator: got role %s disabled %v, want admin, enabled", u.Role, u.Disabled)
	}

	// A disabled administrator does not count.
	other := e.createUser(backend.NewUser{Username: "other", Role: backend.RoleAdmin})
	if _, err := e.svc.UpdateUser(ctx, e.admin, other.ID, disabled(true)); err != nil {
		t.Fatalf("disable the second administrator: %v", err)
	}
	_, err := e.svc.UpdateUser(ctx, e.svc.Operator(), admin.ID, role(backend.RoleUser))
	wantCode(t, "demoting the only enabled administrator", err, backend.ECONFLICT)

	// With a second enabled administrator, the first may go; then the second is the last.
	if _, err := e.svc.UpdateUser(ctx, e.admin, other.ID, disabled(false)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateUser(ctx, e.admin, admin.ID, role(backend.RoleUser)); err != nil {
		t.Fatalf("demote one of two administrators: %v", err)
	}
	op := e.svc.Operator()
	for _, ch := range []backend.UserChanges{role(backend.RoleUser), disabled(true)} {
		_, err := e.svc.UpdateUser(ctx, op, other.ID, ch)
		wantCode(t, "changing the last administrator", err, backend.ECONFLICT)
	}
	// The demoted admin's session has lost administration.
	_, err = e.svc.Users(ctx, e.identity(e.adminToken), backend.UserFilter{})
	wantCode(t, "Users by the demoted administrator", err, backend.EFORBIDDEN)
}

// TestTwoFactorStatuses: the article's three statuses across require, enroll, reset, disable.
func TestTwoFactorStatuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	bob := e.createUser(backend.NewUser{Username: "bob"})
	opted := e.createUser(backend.NewUser{Username: "carol"})
	status := func(id int64) backend.TwoFactorStatus { return e.user(id).TwoFactorStatus() }
	want := func(step string, id int64, s backend.TwoFactorStatus) {
		t.Helper()
		if got := status(id); got != s {
			t.Errorf("%s: got status %q, want %q", step, got, s)
		}
	}
	wantCounts := func(step string, no, pending, enabled int) {
		t.Helper()
		c, err := e.svc.StatusCounts(ctx, e.admin)
		if err != nil {
			t.Fatal(err)
		}
		// admin is "No" throughout.
		wantC := backend.StatusCounts{backend.StatusNo: no + 1, backend.StatusPending: pending, backend.StatusEnabled: enabled}
		for _, s := range backend.Statuses {
			if c[s] != wantC[s] {
				t.Errorf("%s: StatusCounts[%s]: got %d, want %d", step, s, c[s], wantC[s])
			}
		}
		page, err := e.svc.Users(ctx, e.admin, backend.UserFilter{Status: backend.StatusPending})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != pending {
			t.Errorf("%s: Users(status %q): got %d, want %d", step, backend.StatusPending, page.Total, pending)
		}
	}

	want("new user", bob.ID, backend.StatusNo)
	if bob.TwoFactorRequired {
		t.Errorf("new user: got two-factor required, want the form's default No")
	}
	wantCounts("new users", 2, 0, 0)

	u, err := e.svc.RequireTwoFactor(ctx, e.admin, bob.ID)
	if err != nil || u.TwoFactorStatus() != backend.StatusPending {
		t.Errorf("RequireTwoFactor: got %v, %v, want status %q", u, err, backend.StatusPending)
	}
	want("required", bob.ID, backend.StatusPending)
	wantCounts("required", 1, 1, 0)

	e.enrollApp(e.enrollmentIdentity("bob"), "")
	want("enrolled at login", bob.ID, backend.StatusEnabled)
	wantCounts("enrolled", 1, 0, 1)

	u, err = e.svc.ResetTwoFactor(ctx, e.admin, bob.ID)
	if err != nil || u.TwoFactorStatus() != backend.StatusPending || u.Method != backend.MethodNone || !u.TwoFactorRequired {
		t.Errorf("ResetTwoFactor: got %+v, %v, want status %q, method none, still required", u, err, backend.StatusPending)
	}
	want("reset", bob.ID, backend.StatusPending)
	e.login("bob", goodPassword, backend.StepEnroll) // enrolls anew at the next login

	e.enrollApp(e.enrollmentIdentity("bob"), "")
	want("enrolled again", bob.ID, backend.StatusEnabled)

	u, err = e.svc.DisableTwoFactor(ctx, e.admin, bob.ID)
	if err != nil || u.TwoFactorStatus() != backend.StatusNo || u.TwoFactorRequired || u.Method != backend.MethodNone {
		t.Errorf("DisableTwoFactor: got %+v, %v, want status %q, not required, method none", u, err, backend.StatusNo)
	}
	want("disabled", bob.ID, backend.StatusNo)
	e.login("bob", goodPassword, backend.StepDone) // the password alone again

	// Opted in from the profile: Enabled without a requirement; a reset makes it No.
	e.enrollApp(e.signIn("carol", goodPassword), goodPassword)
	want("opted in", opted.ID, backend.StatusEnabled)
	if e.user(opted.ID).TwoFactorRequired {
		t.Errorf("opted in: got required, want not required")
	}
	wantCounts("opted in", 1, 0, 1)
	if _, err := e.svc.ResetTwoFactor(ctx, e.admin, opted.ID); err != nil {
		t.Fatal(err)
	}
	want("opted in, reset", opted.ID, backend.StatusNo)
	// Created with "Two-Factor Authentication: Yes".
	dan := e.createUser(backend.NewUser{Username: "dan", RequireTwoFactor: true})
	want("created with Yes", dan.ID, backend.StatusPending)
	wantCounts("end", 2, 1, 0)
}

// enrollmentIdentity logs a required user in to the enroll step.
func (e *env) enrollmentIdentity(username string) *backend.Identity {
	e.t.Helper()
	id, err := e.svc.EnrollmentIdentity(ctx, e.login(username, goodPassword, backend.StepEnroll).AttemptToken)
	if err != nil {
		e.t.Fatalf("EnrollmentIdentity: %v", err)
	}
	return id
}

// TestDisableOwnTwoFactor: a user may turn off their own two-factor unless it is required.
func TestDisableOwnTwoFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)

	// Required: cannot opt out.
	bob := e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})
	app := e.enrollApp(e.enrollmentIdentity("bob"), "")
	id := e.identity(app.login.SessionToken)
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "DisableOwnTwoFactor by a required user", e.svc.DisableOwnTwoFactor(ctx, id), backend.EFORBIDDEN)
	if s := e.user(bob.ID).TwoFactorStatus(); s != backend.StatusEnabled {
		t.Errorf("required user after refusal: got status %q, want %q", s, backend.StatusEnabled)
	}

	// Opted in: may opt out, with the password.
	carol, capp := e.enrolledUser("carol")
	otherToken := e.signInTOTP("carol", goodPassword, capp)
	token := e.signInTOTP("carol", goodPassword, capp)
	id = e.identity(token)
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPassword)
	wantCode(t, "DisableOwnTwoFactor without ConfirmPassword", e.svc.DisableOwnTwoFactor(ctx, id), backend.EREAUTH)
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DisableOwnTwoFactor(ctx, id); err != nil {
		t.Fatalf("DisableOwnTwoFactor: %v", err)
	}
	if s := e.user(carol.ID).TwoFactorStatus(); s != backend.StatusNo {
		t.Errorf("after opting out: got status %q, want %q", s, backend.StatusNo)
	}
	if n, _ := e.svc.RecoveryCodesLeft(ctx, id); n != 0 {
		t.Errorf("recovery codes after opting out: got %d, want 0", n)
	}
	// The session that turned it off goes on; the other one has ended.
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Errorf("the session that turned two-factor off: %v, want it to go on", err)
	}
	if _, err := e.svc.Authenticate(ctx, otherToken); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
		t.Errorf("another session after opting out: got %v, want code %s", err, backend.EUNAUTHORIZED)
	}
	e.login("carol", goodPassword, backend.StepDone)
	if n := len(e.auditEvents(backend.AuditTwoFactorDisabled)); n != 1 {
		t.Errorf("audit %s: got %d events, want 1", backend.AuditTwoFactorDisabled, n)
	}
}

// TestAdminAudit: every administrator action is in the audit log with who, whom and what.
func TestAdminAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := backend.WithClient(ctx, backend.Client{IP: "192.0.2.7", UserAgent: "test"})
	bob, err := e.svc.CreateUser(ctx, e.admin, backend.NewUser{Username: "bob", Password: goodPassword, RequireTwoFactor: true})
	if err != nil {
		t.Fatal(err)
	}
	e.enrollApp(e.enrollmentIdentity("bob"), "") // so that there is something to reset
	name, off := "Bob B.", true
	steps := []struct {
		action string
		do     func() error
		detail string
	}{
		{backend.AuditUserCreated, func() error { return nil }, "Two-Factor Authentication Yes"},
		{backend.AuditUserUpdated, func() error {
			_, err := e.svc.UpdateUser(ctx, e.admin, bob.ID, backend.UserChanges{DisplayName: &name})
			return err
		}, "name"},
		{backend.AuditPasswordSet, func() error {
			return e.svc.SetUserPassword(ctx, e.admin, bob.ID, "a temporary password", true)
		}, "Yes"},
		{backend.AuditResetTwoFactor, func() error {
			_, err := e.svc.ResetTwoFactor(ctx, e.admin, bob.ID)
			return err
		}, backend.StatusPending.Label()},
		{backend.AuditDisableTwoFactor, func() error {
			_, err := e.svc.DisableTwoFactor(ctx, e.admin, bob.ID)
			return err
		}, backend.StatusNo.Label()},
		{backend.AuditRequireTwoFactor, func() error {
			_, err := e.svc.RequireTwoFactor(ctx, e.admin, bob.ID)
			return err
		}, backend.StatusPending.Label()},
		{backend.AuditUserUpdated, func() error {
			_, err := e.svc.UpdateUser(ctx, e.admin, bob.ID, backend.UserChanges{Disabled: &off})
			return err
		}, "disabled"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.action, err)
		}
		ev := e.auditEvents(s.action)
		if len(ev) == 0 {
			t.Errorf("%s: got no audit event, want one", s.action)
			continue
		}
		got := ev[0] // the newest
		if got.ActorID != e.admin.User.ID || got.ActorName != "admin" || got.TargetID != bob.ID || got.TargetName != "bob" ||
			got.IP != "192.0.2.7" || !strings.Contains(got.Detail, s.detail) || !got.At.Equal(t0) {
			t.Errorf("%s: got %+v, want actor admin, target bob, IP 192.0.2.7, detail containing %q, at %v", s.action, got, s.detail, t0)
		}
	}

	// Filtered by user: bob's events, and only those.
	p, err := e.svc.AuditLog(ctx, e.admin, backend.AuditFilter{Username: "BOB", Action: "admin."})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != len(steps) {
		t.Errorf("AuditLog(bob, admin.): got %d events, want %d", p.Total, len(steps))
	}

	// The command line is recorded as such.
	if _, err := e.svc.DisableTwoFactor(ctx, e.svc.Operator(), bob.ID); err != nil {
		t.Fatal(err)
	}
	if ev := e.auditEvents(backend.AuditDisableTwoFactor)[0]; ev.ActorName != "cli" || ev.ActorID != 0 {
		t.Errorf("disable by the operator: got actor %q (%d), want cli (0)", ev.ActorName, ev.ActorID)
	}

	// Logins are recorded too.
	e.createUser(backend.NewUser{Username: "carol"})
	e.svc.Login(ctx, "carol", "wrong password")
	e.svc.Login(ctx, "nobody", "wrong password")
	if _, err := e.svc.Login(ctx, "carol", goodPassword); err != nil {
		t.Fatal(err)
	}
	var failures []string
	for _, ev := range e.auditEvents(backend.AuditLoginFailure) {
		failures = append(failures, ev.TargetName+": "+ev.Detail)
	}
	// An unknown name is not recorded (it may be a password typed in the wrong field): a
	// fingerprint of it is.
	got, want := strings.Join(failures, "; "), `^\(unknown username\): unknown username, fingerprint [0-9a-f]{4}; carol: wrong password$`
	if !regexp.MustCompile(want).MatchString(got) || strings.Contains(got, "nobody") {
		t.Errorf("audit %s: got %q, want %q", backend.AuditLoginFailure, got, want)
	}
	if ev := e.auditEvents(backend.AuditLoginSuccess)[0]; ev.TargetName != "carol" || ev.IP != "192.0.2.7" {
		t.Errorf("audit %s: got %+v, want carol from 192.0.2.7", backend.AuditLoginSuccess, ev)
	}
}

// TestUsersList: search, filter by status and role, and pages.
func TestUsersList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 7 {
		e.createUser(backend.NewUser{Username: fmt.Sprintf("user%d", i), Email: fmt.Sprintf("u%d@example.com", i), RequireTwoFactor: i%2 == 0})
	}
	e.createUser(backend.NewUser{Username: "zed", DisplayName: "Zed Findme"})
	tests := []struct {
		name  string
		f     backend.UserFilter
		total int
		first string
		n     int
	}{
		{"all", backend.UserFilter{}, 9, "admin", 9},
		{"page", backend.UserFilter{Offset: 2, Limit: 3}, 9, "user1", 3},
		{"last page", backend.UserFilter{Offset: 8, Limit: 3}, 9, "zed", 1},
		{"search username", backend.UserFilter{Search: "USER"}, 7, "user0", 7},
		{"search display name", backend.UserFilter{Search: "findme"}, 1, "zed", 1},
		{"search email", backend.UserFilter{Search: "u3@"}, 1, "user3", 1},
		{"search wildcard is literal", backend.UserFilter{Search: "%"}, 0, "", 0},
		{"pending", backend.UserFilter{Status: backend.StatusPending}, 4, "user0", 4},
		{"no", backend.UserFilter{Status: backend.StatusNo}, 5, "admin", 5},
		{"admins", backend.UserFilter{Role: backend.RoleAdmin}, 1, "admin", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.svc.Users(ctx, e.admin, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != tt.total || len(p.Users) != tt.n {
				t.Fatalf("got total %d and %d users, want %d and %d", p.Total, len(p.Users), tt.total, tt.n)
			}
			if tt.n > 0 && p.Users[0].Username != tt.first {
				t.Errorf("first user: got %s, want %s", p.Users[0].Username, tt.first)
			}
		})
	}
	_, err := e.svc.Users(ctx, e.admin, backend.UserFilter{Status: "Maybe"})
	wantCode(t, "Users with an unknown status", err, backend.EINVALID)
}

// TestCreateUserReportsEveryProblem: a form with several bad fields hears about all of them in
// one answer, not one per submission.
func TestCreateUserReportsEveryProblem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.CreateUser(ctx, e.admin, backend.NewUser{Username: "", Email: "not an address", Password: "short"})
	wantCode(t, "CreateUser with three bad fields", err, backend.EINVALID)
	msg := backend.ErrorMessage(err)
	if check := backend.CheckNewUser(backend.NewUser{Username: " ", Email: "not an address", Password: "short"}); backend.ErrorMessage(check) != msg {
		t.Errorf("CheckNewUser: got %v, want the message of CreateUser %q", check, msg)
	}
	for _, want := range []string{"Enter a username.", `"not an address" is not an email address.`, "The password must be at least 8 characters long."} {
		if !strings.Contains(msg, want) {
			t.Errorf("message: got %q, want it to contain %q", msg, want)
		}
	}
}

// TestAdminConfirmsPassword: removing a user's second factor, setting a password and changing a
// role need the administrator's recently confirmed password, on their own account as on
// anyone's, so a stolen administrator session cannot strip factors or take accounts over.
// Refused, they change nothing.
func TestAdminConfirmsPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "root", Role: backend.RoleAdmin})
	root := e.signIn("root", goodPassword) // signed in, password not confirmed since
	e.clock.Advance(11 * time.Minute)      // past the login's own confirmation of the password (TestLoginConfirmsPassword)
	bob, _ := e.enrolledUser("bob")
	off := e.createUser(backend.NewUser{Username: "off"})
	disabled := true
	if _, err := e.svc.UpdateUser(ctx, e.admin, off.ID, backend.UserChanges{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	locked := e.createUser(backend.NewUser{Username: "locked"})
	e.failLogins("locked", 10)
	admin := backend.RoleAdmin
	guarded := []struct {
		name string
		call func(target int64) error
	}{
		{"DisableTwoFactor", func(target int64) error { _, err := e.svc.DisableTwoFactor(ctx, root, target); return err }},
		{"ResetTwoFactor", func(target int64) error { _, err := e.svc.ResetTwoFactor(ctx, root, target); return err }},
		{"SetUserPassword", func(target int64) error {
			return e.svc.SetUserPassword(ctx, root, target, "a password set by someone", false)
		}},
		{"UpdateUser role", func(target int64) error {
			_, err := e.svc.UpdateUser(ctx, root, target, backend.UserChanges{Role: &admin})
			return err
		}},
		{"UpdateUser enable", func(int64) error {
			_, err := e.svc.UpdateUser(ctx, root, off.ID, backend.UserChanges{Disabled: new(bool)})
			return err
		}},
		{"UnlockUser", func(int64) error { _, err := e.svc.UnlockUser(ctx, root, locked.ID); return err }},
		{"CreateUser admin", func(int64) error {
			_, err := e.svc.CreateUser(ctx, root, backend.NewUser{Username: "evil", Password: goodPassword, Role: backend.RoleAdmin})
			return err
		}},
	}
	check := func(when string) {
		t.Helper()
		before := *e.user(bob.ID)
		for _, g := range guarded {
			wantCode(t, when+": "+g.name, g.call(bob.ID), backend.EREAUTH)
		}
		if after := *e.user(bob.ID); after != before {
			t.Errorf("%s: bob after the refused calls: %+v, want %+v", when, after, before)
		}
		if !e.user(off.ID).Disabled || !e.svc.Locked(e.user(locked.ID)) {
			t.Errorf("%s: the refused calls enabled off or unlocked locked", when)
		}
		if _, err := e.svc.UserByUsername(ctx, e.admin, "evil"); backend.ErrorCode(err) != backend.ENOTFOUND {
			t.Errorf("%s: the refused CreateUser made evil: %v", when, err)
		}
	}
	check("never confirmed")
	// Their own account too: this is what a stolen session would try first.
	rootUser := *root.User
	_, err := e.svc.ResetTwoFactor(ctx, root, root.User.ID)
	wantCode(t, "ResetTwoFactor of one's own account", err, backend.EREAUTH)
	if got := *e.user(rootUser.ID); got != rootUser {
		t.Errorf("root after the refused reset: %+v, want %+v", got, rootUser)
	}
	// Changes that weaken nothing go through without it.
	name := "Bob B."
	if _, err := e.svc.UpdateUser(ctx, root, bob.ID, backend.UserChanges{DisplayName: &name, Role: &bob.Role}); err != nil {
		t.Errorf("UpdateUser name, same role: %v", err)
	}
	if _, err := e.svc.RequireTwoFactor(ctx, root, bob.ID); err != nil {
		t.Errorf("RequireTwoFactor: %v", err)
	}

	if err := e.svc.ConfirmPassword(ctx, root, goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ResetTwoFactor(ctx, root, bob.ID); err != nil {
		t.Errorf("ResetTwoFactor once confirmed: %v", err)
	}
	// An administrator cannot lift a lock on their own account, confirmed or not.
	_, err = e.svc.UnlockUser(ctx, root, root.User.ID)
	wantCode(t, "UnlockUser of one's own account", err, backend.EFORBIDDEN)

	e.clock.Advance(11 * time.Minute) // past the default ReauthWindow of 10 minutes; locked's 15-minute lock goes on
	check("11 minutes after confirming")
}

// TestAdminChangeThatChangesNothing: requiring two-factor of a user already required,
// disabling it for a user with none, resetting a user with nothing set up are refused with a
// clear message, and neither end the user's sessions nor appear in the audit log.
func TestAdminChangeThatChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	none := e.createUser(backend.NewUser{Username: "none"})
	pending := e.createUser(backend.NewUser{Username: "pending", RequireTwoFactor: true})
	token := e.login("none", goodPassword, backend.StepDone).SessionToken
	audited := len(e.auditEvents(""))
	for _, tc := range []struct {
		name, want string
		call       func() (*backend.User, error)
	}{
		{"Disable for status No", "Two-Factor Authentication is not on for none: there is nothing to disable.",
			func() (*backend.User, error) { return e.svc.DisableTwoFactor(ctx, e.admin, none.ID) }},
		{"Reset for status No", "none has not set up Two-Factor Authentication: there is nothing to reset.",
			func() (*backend.User, error) { return e.svc.ResetTwoFactor(ctx, e.admin, none.ID) }},
		{"Reset for a pending user", "pending has not set up Two-Factor Authentication: there is nothing to reset.",
			func() (*backend.User, error) { return e.svc.ResetTwoFactor(ctx, e.admin, pending.ID) }},
		{"Require for a pending user", "Two-Factor Authentication is already required for pending.",
			func() (*backend.User, error) { return e.svc.RequireTwoFactor(ctx, e.admin, pending.ID) }},
	} {
		_, err := tc.call()
		if backend.ErrorCode(err) != backend.ECONFLICT || backend.ErrorMessage(err) != tc.want {
			t.Errorf("%s: got %v, want conflict %q", tc.name, err, tc.want)
		}
	}
	if n := len(e.auditEvents("")); n != audited {
		t.Errorf("audit events after the refused changes: got %d more", n-audited)
	}
	if _, err := e.svc.Authenticate(ctx, token); err != nil {
		t.Errorf("none's session after the refused changes: %v, want it to go on", err)
	}
}

// TestUpdateUserKeepsAnAdmin: the last-administrator rule, decided by the Service on the row
// and the count it locks. A refused update changes nothing and records nothing.
func TestUpdateUserKeepsAnAdmin(t *testing.T) {
	t.Parallel()
	type step struct {
		user string
		ch   backend.UserChanges
		code string // "" for success
	}
	role := func(r backend.Role) *backend.Role { return &r }
	yes, no := true, false
	demote := backend.UserChanges{Role: role(backend.RoleUser)}
	disable := backend.UserChanges{Disabled: &yes}
	name := "The Root"
	for _, tc := range []struct {
		name  string
		users []backend.NewUser // besides "admin", the only administrator at first
		steps []step
	}{
		{"demote the only admin", nil, []step{{"admin", demote, backend.ECONFLICT}}},
		{"disable the only admin", nil, []step{{"admin", disable, backend.ECONFLICT}}},
		{"demote and disable in one update", nil, []step{
			{"admin", backend.UserChanges{Role: role(backend.RoleUser), Disabled: &yes}, backend.ECONFLICT}}},
		{"demote one of two, then the other", []backend.NewUser{{Username: "second", Role: backend.RoleAdmin}},
			[]step{{"admin", demote, ""}, {"second", demote, backend.ECONFLICT}}},
		{"a disabled admin does not count", []backend.NewUser{{Username: "second", Role: backend.RoleAdmin}},
			[]step{{"second", disable, ""}, {"admin", demote, backend.ECONFLICT}, {"admin", disable, backend.ECONFLICT}}},
		{"re-enabling an admin makes room", []backend.NewUser{{Username: "second", Role: backend.RoleAdmin}},
			[]step{{"second", disable, ""}, {"second", backend.UserChanges{Disabled: &no}, ""}, {"admin", disable, ""}}},
		{"other edits of the only admin are fine", nil, []step{
			{"admin", backend.UserChanges{DisplayName: &name, Role: role(backend.RoleAdmin), Disabled: &no}, ""}}},
		{"users are not admins", []backend.NewUser{{Username: "user"}},
			[]step{{"user", disable, ""}, {"user", backend.UserChanges{Role: role(backend.RoleAdmin), Disabled: &no}, ""},
				{"user", demote, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			for _, nu := range tc.users {
				e.createUser(nu)
			}
			op := e.svc.Operator()
			for i, s := range tc.steps {
				u, err := e.db.FindUserByUsername(ctx, s.user)
				if err != nil {
					t.Fatal(err)
				}
				events := len(e.auditEvents(backend.AuditUserUpdated))
				_, err = e.svc.UpdateUser(ctx, op, u.ID, s.ch)
				wantCode(t, fmt.Sprintf("step %d", i), err, s.code)
				if s.code == "" {
					continue
				}
				if got := backend.ErrorMessage(err); got != "This change would leave no enabled administrator." {
					t.Errorf("step %d: got message %q, want the last-administrator sentence", i, got)
				}
				if after := e.user(u.ID); *after != *u {
					t.Errorf("step %d: refused update changed the user:\n got %+v\nwant %+v", i, *after, *u)
				}
				if n := len(e.auditEvents(backend.AuditUserUpdated)); n != events {
					t.Errorf("step %d: refused update: got %d %s events, want %d", i, n, backend.AuditUserUpdated, events)
				}
			}
		})
	}
}

// TestLastAdminRace: two administrators demoting each other at once, from two Services on one
// database file (two servers on one store), leave one administrator: the count the rule
// decides on is taken under the write lock of the update's transaction, not before it. Each
// store sleeps after counting, so a count outside the lock would let both through.
func TestLastAdminRace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.createUser(backend.NewUser{Username: "other", Role: backend.RoleAdmin})
	svcs := make([]*backend.Service, 2)
	for i := range svcs {
		cfg := e.cfg
		cfg.Store = &slowCount{Store: e.h.OpenStore()}
		var err error
		if svcs[i], err = backend.New(cfg); err != nil {
			t.Fatal(err)
		}
	}
	targets := []int64{other.ID, e.admin.User.ID}
	user := backend.RoleUser
	for round := range 5 {
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				_, errs[i] = svcs[i].UpdateUser(ctx, svcs[i].Operator(), targets[i], backend.UserChanges{Role: &user})
			})
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			if backend.ErrorCode(err) == backend.ECONFLICT {
				refused++
			} else if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		n, err := e.db.CountEnabledAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if refused != 1 || n != 1 {
			t.Fatalf("round %d: got %d refused and %d administrators left, want 1 and 1", round, refused, n)
		}
		// Make both administrators again for the next round.
		admin := backend.RoleAdmin
		for _, id := range targets {
			if _, err := e.svc.UpdateUser(ctx, e.svc.Operator(), id, backend.UserChanges{Role: &admin}); err != nil && backend.ErrorCode(err) != backend.ECONFLICT {
				t.Fatal(err)
			}
		}
	}
}

// slowCount is the real store, pausing after it counts administrators.
type slowCount struct{ backend.Store }

func (s *slowCount) CountEnabledAdmins(ctx context.Context) (int, error) {
	n, err := s.Store.CountEnabledAdmins(ctx)
	time.Sleep(50 * time.Millisecond)
	return n, err
}

// TestUpdateUserRecordsWhatChanged: "Save changes" audits the fields whose value changed, and
// a form that changes nothing writes nothing, records nothing and says so.
func TestUpdateUserRecordsWhatChanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bob := e.createUser(backend.NewUser{Username: "bob", DisplayName: "Bob", Email: "bob@example.com"})
	str := func(s string) *string { return &s }
	role := func(r backend.Role) *backend.Role { return &r }
	no := false
	// The whole form, as the web page sends it: every field, as typed.
	form := func(name, email string, r backend.Role) backend.UserChanges {
		return backend.UserChanges{DisplayName: str(name), Email: str(email), Role: role(r), Disabled: &no}
	}
	for _, s := range []struct {
		name   string
		ch     backend.UserChanges
		detail string // "" for nothing changed
	}{
		{"nothing changed", form("Bob", "bob@example.com", backend.RoleUser), ""},
		{"nothing changed but spaces", form(" Bob ", "bob@example.com ", backend.RoleUser), ""},
		{"nothing sent", backend.UserChanges{}, ""},
		{"the email", form("Bob", "robert@example.com", backend.RoleUser), "email"},
		{"the name", form("Robert", "robert@example.com", backend.RoleUser), "name"},
		{"the role", form("Robert", "robert@example.com", backend.RoleAdmin), "role admin"},
	} {
		before := e.user(bob.ID)
		events := e.auditEvents(backend.AuditUserUpdated)
		u, err := e.svc.UpdateUser(ctx, e.admin, bob.ID, s.ch)
		after := e.user(bob.ID)
		got := e.auditEvents(backend.AuditUserUpdated)
		if s.detail == "" {
			wantCode(t, s.name, err, backend.ECONFLICT)
			if msg := backend.ErrorMessage(err); !strings.Contains(msg, "Nothing to change") {
				t.Errorf("%s: got message %q, want it to say there is nothing to change", s.name, msg)
			}
			if *after != *before {
				t.Errorf("%s: the user changed:\n got %+v\nwant %+v", s.name, *after, *before)
			}
			if len(got) != len(events) {
				t.Errorf("%s: got %d %s events, want %d", s.name, len(got), backend.AuditUserUpdated, len(events))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if *u != *after {
			t.Errorf("%s: returned %+v, the store holds %+v", s.name, *u, *after)
		}
		if len(got) != len(events)+1 || got[0].Detail != s.detail {
			t.Errorf("%s: got %d events, the newest %+v; want one more, detail %q", s.name, len(got), got[0], s.detail)
		}
	}
}
