package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"gatehouse/backend"
	"gatehouse/backend/sqlite"
)

// The bound methods of App, end to end against a real SQLite file: everything the desktop
// front end can do, through the same calls it makes. The desktop layer itself (the real front
// end in WebKit and Chromium) is tested by TestDesktop* below, which need the built binaries.

// clock is the tests' clock, shared by the service and the store, so that TOTP steps, session
// timeouts and stored times agree.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	svc   *backend.Service
	clock *clock
	dir   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)}
	db.Now = c.Now
	svc, err := backend.New(backend.Config{
		Store:     db,
		SecretKey: []byte("0123456789abcdef0123456789abcdef"),
		Now:       c.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Passwords: backend.PasswordPolicy{Argon2: backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}},
	})
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	return &env{t: t, svc: svc, clock: c, dir: dir}
}

// app returns a console window of its own, as a second desktop console on the same data would be.
func (e *env) app() *App {
	a := NewApp(e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	a.saveDialog = func(_ context.Context, o runtime.SaveDialogOptions) (string, error) {
		return filepath.Join(e.dir, o.DefaultFilename), nil
	}
	return a
}

const adminPassword = "correct horse battery"

// admin creates the first administrator and returns a console signed in as them.
func (e *env) admin() *App {
	e.t.Helper()
	a := e.app()
	if _, err := a.CreateFirstAdmin(NewUserForm{Username: "root", DisplayName: "Ada Admin", Password: adminPassword}); err != nil {
		e.t.Fatalf("CreateFirstAdmin: %v", err)
	}
	e.login(a, "root", adminPassword, "done")
	return a
}

func (e *env) login(a *App, username, password, wantStep string) *LoginView {
	e.t.Helper()
	v, err := a.Login(username, password)
	if err != nil {
		e.t.Fatalf("Login(%s): %v", username, err)
	}
	if v.Step != wantStep {
		e.t.Fatalf("Login(%s): step %q, want %q", username, v.Step, wantStep)
	}
	return v
}

// code returns the current code of the authenticator app holding key.
func (e *env) code(key string) string {
	e.t.Helper()
	c, err := totp.GenerateCode(strings.ReplaceAll(key, " ", ""), e.clock.Now())
	if err != nil {
		e.t.Fatalf("totp: %v", err)
	}
	return c
}

func wantCode(t *testing.T, a *App, err error, code string) ErrorView {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code %q", code)
	}
	v := a.formatError(err).(ErrorView)
	if v.Code != code {
		t.Fatalf("got error %q (%s), want code %q", v.Code, v.Message, code)
	}
	if v.Message == "" {
		t.Fatalf("error %q has no message", code)
	}
	return v
}

func mustUser(t *testing.T, admin *App, f NewUserForm) *UserView {
	t.Helper()
	u, err := admin.CreateUser(f)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", f.Username, err)
	}
	return u
}

// enrollAtLogin logs username in, enrolls an app at the forced enroll step and returns the key
// and the recovery codes. The console ends signed in.
func (e *env) enrollAtLogin(a *App, username, password string) (key string, codes []string) {
	e.t.Helper()
	e.login(a, username, password, "enroll")
	setup, err := a.BeginAppEnrollment()
	if err != nil {
		e.t.Fatalf("BeginAppEnrollment: %v", err)
	}
	res, err := a.ConfirmAppEnrollment(e.code(setup.Key))
	if err != nil {
		e.t.Fatalf("ConfirmAppEnrollment: %v", err)
	}
	if res.Login == nil || res.Login.Step != "done" {
		e.t.Fatalf("after enrollment: login %+v, want step done", res.Login)
	}
	return setup.Key, res.RecoveryCodes
}

func TestFirstAdmin(t *testing.T) {
	e := newEnv(t)
	a := e.app()
	if need, err := a.NeedsFirstAdmin(); err != nil || !need {
		t.Fatalf("NeedsFirstAdmin on an empty store = %v, %v; want true", need, err)
	}
	_, err := a.Login("root", adminPassword)
	if v := wantCode(t, a, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("failed login: signedOut false, want true")
	}
	admin := e.admin()
	if need, _ := a.NeedsFirstAdmin(); need {
		t.Errorf("NeedsFirstAdmin after creating one = true")
	}
	_, err = a.CreateFirstAdmin(NewUserForm{Username: "mallory", Password: "another long password"})
	wantCode(t, a, err, backend.ECONFLICT)

	me, err := admin.Session()
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if me.Username != "root" || me.Role != "admin" || me.TwoFactorStatus != "No" {
		t.Errorf("Session = %+v, want root, admin, No", me)
	}
	if err := admin.Logout(); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err = admin.Session()
	if v := wantCode(t, admin, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("after logout: signedOut false, want true")
	}
}

// The article's main path: an admin creates a user with Two-Factor "Yes"; the user must enroll at
// login (no way around it but "Log out"), gets 5 codes, saves them; then logs in with the app.
func TestForcedEnrollmentAndTOTPLogin(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	u := mustUser(t, admin, NewUserForm{Username: "bob", DisplayName: "Bob Baker", Password: "bobs long password", RequireTwoFactor: true})
	if u.TwoFactorStatus != "Pending setup on next login" {
		t.Fatalf("new user with Two-Factor Yes: status %q", u.TwoFactorStatus)
	}

	bob := e.app()
	v := e.login(bob, "bob", "bobs long password", "enroll")
	if v.User.Username != "bob" {
		t.Errorf("login user = %q, want bob", v.User.Username)
	}
	// Not signed in until enrolled: nothing but enrollment (and "Log out") works.
	_, err := bob.Session()
	wantCode(t, bob, err, backend.EUNAUTHORIZED)
	_, err = bob.Profile()
	wantCode(t, bob, err, backend.EUNAUTHORIZED)
	wantCode(t, bob, bob.BeginSMSEnrollment(), backend.EUNAVAILABLE)

	setup, err := bob.BeginAppEnrollment()
	if err != nil {
		t.Fatalf("BeginAppEnrollment: %v", err)
	}
	if !strings.HasPrefix(setup.QRCodeURL, "data:image/png;base64,") || !strings.Contains(setup.URI, "otpauth://totp/") || setup.Account != "bob" || setup.Issuer == "" {
		t.Errorf("app enrollment = %+v", setup)
	}
	_, err = bob.ConfirmAppEnrollment("000000")
	if v := wantCode(t, bob, err, backend.EINVALID); v.SignedOut {
		t.Errorf("a wrong code ended the login")
	}
	res, err := bob.ConfirmAppEnrollment(e.code(setup.Key))
	if err != nil {
		t.Fatalf("ConfirmAppEnrollment: %v", err)
	}
	if res.Login == nil || res.Login.Step != "done" {
		t.Fatalf("login after enrollment = %+v, want done", res.Login)
	}
	if len(res.RecoveryCodes) != 5 || len(slices.Compact(slices.Sorted(slices.Values(res.RecoveryCodes)))) != 5 {
		t.Fatalf("recovery codes = %v, want 5 unique", res.RecoveryCodes)
	}

	path, err := bob.SaveRecoveryCodes()
	if err != nil {
		t.Fatalf("SaveRecoveryCodes: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.RecoveryCodes {
		if !strings.Contains(string(data), c) {
			t.Errorf("saved file lacks code %s", c)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("saved file mode %v, want 0600", fi.Mode().Perm())
	}
	bob.AcknowledgeRecoveryCodes()
	_, err = bob.SaveRecoveryCodes()
	wantCode(t, bob, err, backend.ECONFLICT)

	me, err := bob.Session()
	if err != nil || me.TwoFactorStatus != "Enabled" || me.Method != "app" {
		t.Fatalf("Session after enrollment = %+v, %v; want Enabled, app", me, err)
	}
	if got, _ := admin.User(u.ID); got.TwoFactorStatus != "Enabled" {
		t.Errorf("admin sees %q, want Enabled", got.TwoFactorStatus)
	}

	// Next login: password, then the app's code. The enrollment's code is used up, so wait
	// for the next time step.
	if err := bob.Logout(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	v = e.login(bob, "bob", "bobs long password", "verify")
	if v.User.Method != "app" {
		t.Errorf("verify step for method %q, want app", v.User.Method)
	}
	_, err = bob.VerifyTOTP("123456")
	if v := wantCode(t, bob, err, backend.EUNAUTHORIZED); v.SignedOut {
		t.Fatalf("a wrong code ended the login")
	}
	_, err = bob.VerifySMSCode("123456")
	wantCode(t, bob, err, backend.EUNAVAILABLE)
	if v, err := bob.VerifyTOTP(e.code(setup.Key)); err != nil || v.Step != "done" {
		t.Fatalf("VerifyTOTP = %+v, %v; want done", v, err)
	}
	if _, err := bob.Session(); err != nil {
		t.Fatalf("Session after TOTP login: %v", err)
	}
}

func TestEnrollLogOut(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "carol", Password: "carols long password", RequireTwoFactor: true})
	carol := e.app()
	e.login(carol, "carol", "carols long password", "enroll")
	if err := carol.Logout(); err != nil {
		t.Fatalf("Logout at the enroll step: %v", err)
	}
	_, err := carol.BeginAppEnrollment()
	if v := wantCode(t, carol, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("after Log out: signedOut false")
	}
	// Logging in again still leads to enrollment: there is no skipping it.
	e.login(carol, "carol", "carols long password", "enroll")
}

func TestRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "dave", Password: "daves long password", RequireTwoFactor: true})
	dave := e.app()
	_, codes := e.enrollAtLogin(dave, "dave", "daves long password")
	dave.Logout()

	// Log in with a recovery code, typed as people type them.
	e.login(dave, "dave", "daves long password", "verify")
	if v, err := dave.VerifyRecoveryCode(strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))); err != nil || v.Step != "done" {
		t.Fatalf("VerifyRecoveryCode = %+v, %v; want done", v, err)
	}
	dave.Logout()
	e.login(dave, "dave", "daves long password", "verify")
	_, err := dave.VerifyRecoveryCode(codes[0])
	wantCode(t, dave, err, backend.EUNAUTHORIZED) // each code works once
	if _, err := dave.VerifyRecoveryCode(codes[1]); err != nil {
		t.Fatalf("second code: %v", err)
	}
	p, err := dave.Profile()
	if err != nil || p.RecoveryCodesLeft != 3 {
		t.Fatalf("Profile = %+v, %v; want 3 codes left", p, err)
	}

	// Regenerating needs the password again, then voids the old set.
	_, err = dave.RegenerateRecoveryCodes()
	wantCode(t, dave, err, backend.EREAUTH)
	wantCode(t, dave, dave.ConfirmPassword("wrong password"), backend.EUNAUTHORIZED)
	if err := dave.ConfirmPassword("daves long password"); err != nil {
		t.Fatalf("ConfirmPassword: %v", err)
	}
	fresh, err := dave.RegenerateRecoveryCodes()
	if err != nil || len(fresh) != 5 {
		t.Fatalf("RegenerateRecoveryCodes = %v, %v", fresh, err)
	}
	if path, err := dave.SaveRecoveryCodes(); err != nil || path == "" {
		t.Fatalf("SaveRecoveryCodes after regenerating: %q, %v", path, err)
	}
	dave.Logout()
	e.login(dave, "dave", "daves long password", "verify")
	_, err = dave.VerifyRecoveryCode(codes[2])
	wantCode(t, dave, err, backend.EUNAUTHORIZED)
	if _, err := dave.VerifyRecoveryCode(fresh[0]); err != nil {
		t.Fatalf("new code: %v", err)
	}
	// A required user cannot turn Two-Factor off.
	wantCode(t, dave, dave.DisableOwnTwoFactor(), backend.EREAUTH)
	dave.ConfirmPassword("daves long password")
	wantCode(t, dave, dave.DisableOwnTwoFactor(), backend.EFORBIDDEN)
}

// A user who is not required opts in from the profile ("Setup Two-Factor") and may opt out.
func TestProfileSetupAndPassword(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "erin", Password: "erins long password"})
	erin := e.app()
	e.login(erin, "erin", "erins long password", "done")

	_, err := erin.BeginAppEnrollment()
	wantCode(t, erin, err, backend.EREAUTH)
	if err := erin.ConfirmPassword("erins long password"); err != nil {
		t.Fatal(err)
	}
	setup, err := erin.BeginAppEnrollment()
	if err != nil {
		t.Fatalf("BeginAppEnrollment: %v", err)
	}
	res, err := erin.ConfirmAppEnrollment(e.code(setup.Key))
	if err != nil || res.Login != nil || len(res.RecoveryCodes) != 5 {
		t.Fatalf("ConfirmAppEnrollment from the profile = %+v, %v", res, err)
	}
	if p, _ := erin.Profile(); p.User.TwoFactorStatus != "Enabled" || p.RecoveryCodesLeft != 5 {
		t.Errorf("profile after setup = %+v", p)
	}
	if err := erin.DisableOwnTwoFactor(); err != nil {
		t.Fatalf("DisableOwnTwoFactor: %v", err)
	}
	if p, _ := erin.Profile(); p.User.TwoFactorStatus != "No" {
		t.Errorf("status after turning off = %q, want No", p.User.TwoFactorStatus)
	}

	wantCode(t, erin, erin.ChangePassword("wrong password", "a brand new passphrase"), backend.EUNAUTHORIZED)
	if err := erin.ChangePassword("erins long password", "a brand new passphrase"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	erin.Logout()
	_, err = erin.Login("erin", "erins long password")
	wantCode(t, erin, err, backend.EUNAUTHORIZED)
	e.login(erin, "erin", "a brand new passphrase", "done")
}

// Every administration action, as the admin pages use them.
func TestAdminActions(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	frank := mustUser(t, admin, NewUserForm{Username: "frank", DisplayName: "Frank Fisher", Email: "frank@example.com", Password: "franks long password"})
	grace := mustUser(t, admin, NewUserForm{Username: "grace", Password: "graces long password", RequireTwoFactor: true})
	_, err := admin.CreateUser(NewUserForm{Username: "frank", Password: "whatever long password"})
	wantCode(t, admin, err, backend.ECONFLICT)
	_, err = admin.CreateUser(NewUserForm{Username: "heidi", Password: "short"})
	wantCode(t, admin, err, backend.EINVALID)

	// The list: search and the status filter.
	list, err := admin.Users(UserQuery{Search: "fish"})
	if err != nil || list.Total != 1 || list.Users[0].Username != "frank" {
		t.Fatalf("Users(search fish) = %+v, %v", list, err)
	}
	list, _ = admin.Users(UserQuery{Status: "Pending setup on next login"})
	if list.Total != 1 || list.Users[0].Username != "grace" {
		t.Errorf("Users(Pending) = %+v", list)
	}
	_, err = admin.Users(UserQuery{Status: "Maybe"})
	wantCode(t, admin, err, backend.EINVALID)

	// "Require Two-Factor" -> "Pending setup on next login"; frank must then enroll at login.
	u, err := admin.RequireTwoFactor(frank.ID)
	if err != nil || u.TwoFactorStatus != "Pending setup on next login" || !u.TwoFactorRequired {
		t.Fatalf("RequireTwoFactor = %+v, %v", u, err)
	}
	fr := e.app()
	e.enrollAtLogin(fr, "frank", "franks long password")
	if u, _ := admin.User(frank.ID); u.TwoFactorStatus != "Enabled" {
		t.Errorf("after enrolling: %q, want Enabled", u.TwoFactorStatus)
	}
	// Reset keeps the requirement and signs frank out at once.
	if u, err = admin.ResetTwoFactor(frank.ID); err != nil || u.TwoFactorStatus != "Pending setup on next login" {
		t.Fatalf("ResetTwoFactor = %+v, %v", u, err)
	}
	_, err = fr.Session()
	if v := wantCode(t, fr, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("frank's console still signed in after the reset")
	}
	// Disable removes requirement and enrollment.
	if u, err = admin.DisableTwoFactor(frank.ID); err != nil || u.TwoFactorStatus != "No" || u.TwoFactorRequired {
		t.Fatalf("DisableTwoFactor = %+v, %v", u, err)
	}
	e.login(fr, "frank", "franks long password", "done")

	// Edit this User: only what changed is saved.
	u, err = admin.UpdateUser(frank.ID, UserForm{DisplayName: "Frank F. Fisher", Email: "ff@example.com", Role: "user"})
	if err != nil || u.DisplayName != "Frank F. Fisher" || u.Email != "ff@example.com" {
		t.Fatalf("UpdateUser = %+v, %v", u, err)
	}
	_, err = admin.UpdateUser(frank.ID, UserForm{DisplayName: "Frank", Email: "not an address", Role: "user"})
	wantCode(t, admin, err, backend.EINVALID)
	if _, err = admin.UpdateUser(frank.ID, UserForm{DisplayName: "Frank F. Fisher", Email: "ff@example.com", Role: "user", Disabled: true}); err != nil {
		t.Fatalf("disable: %v", err)
	}
	_, err = fr.Session()
	wantCode(t, fr, err, backend.EUNAUTHORIZED)
	_, err = fr.Login("frank", "franks long password")
	wantCode(t, fr, err, backend.EUNAUTHORIZED)
	admin.UpdateUser(frank.ID, UserForm{DisplayName: "Frank F. Fisher", Email: "ff@example.com", Role: "user"})
	// The last administrator cannot demote themselves.
	me, _ := admin.Session()
	_, err = admin.UpdateUser(me.ID, UserForm{DisplayName: me.DisplayName, Role: "user"})
	wantCode(t, admin, err, backend.ECONFLICT)

	// Set Password with "must change": frank chooses his own at the next login.
	if err := admin.SetUserPassword(frank.ID, "temporary password 1", true); err != nil {
		t.Fatalf("SetUserPassword: %v", err)
	}
	e.login(fr, "frank", "temporary password 1", "change_password")
	_, err = fr.ChangeExpiredPassword("short")
	wantCode(t, fr, err, backend.EINVALID)
	if v, err := fr.ChangeExpiredPassword("franks own new password"); err != nil || v.Step != "done" {
		t.Fatalf("ChangeExpiredPassword = %+v, %v", v, err)
	}

	// The overview and the audit log.
	counts, err := admin.StatusCounts()
	if err != nil {
		t.Fatal(err)
	}
	want := []StatusCount{{"No", 2}, {"Pending setup on next login", 1}, {"Enabled", 0}}
	if !slices.Equal(counts, want) {
		t.Errorf("StatusCounts = %v, want %v", counts, want)
	}
	log, err := admin.AuditLog(AuditQuery{Action: "admin."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range log.Events {
		firstAdmin := ev.Action == backend.AuditUserCreated && ev.Target == "root" // created with no one signed in
		if (ev.Actor != "root" && !firstAdmin) || ev.At == "" {
			t.Errorf("event %+v: want actor root and a time", ev)
		}
		actions = append(actions, ev.Action)
	}
	for _, a := range []string{backend.AuditUserCreated, backend.AuditRequireTwoFactor, backend.AuditResetTwoFactor, backend.AuditDisableTwoFactor, backend.AuditUserUpdated, backend.AuditPasswordSet} {
		if !slices.Contains(actions, a) {
			t.Errorf("audit log lacks %s; has %v", a, actions)
		}
	}
	if log, _ := admin.AuditLog(AuditQuery{Username: "grace"}); log.Total != 1 || log.Events[0].Target != grace.Username {
		t.Errorf("AuditLog(grace) = %+v", log)
	}
}

func TestAdminMethodsRefusedForNonAdmin(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	target := mustUser(t, admin, NewUserForm{Username: "ivan", Password: "ivans long password"})
	mustUser(t, admin, NewUserForm{Username: "judy", Password: "judys long password"})
	judy := e.app()
	e.login(judy, "judy", "judys long password", "done")
	nobody := e.app()

	calls := map[string]func(a *App) error{
		"Users": func(a *App) error { _, err := a.Users(UserQuery{}); return err },
		"User":  func(a *App) error { _, err := a.User(target.ID); return err },
		"CreateUser": func(a *App) error {
			_, err := a.CreateUser(NewUserForm{Username: "x", Password: "xs long password"})
			return err
		},
		"UpdateUser":       func(a *App) error { _, err := a.UpdateUser(target.ID, UserForm{Role: "admin"}); return err },
		"SetUserPassword":  func(a *App) error { return a.SetUserPassword(target.ID, "a new long password", false) },
		"RequireTwoFactor": func(a *App) error { _, err := a.RequireTwoFactor(target.ID); return err },
		"DisableTwoFactor": func(a *App) error { _, err := a.DisableTwoFactor(target.ID); return err },
		"ResetTwoFactor":   func(a *App) error { _, err := a.ResetTwoFactor(target.ID); return err },
		"StatusCounts":     func(a *App) error { _, err := a.StatusCounts(); return err },
		"AuditLog":         func(a *App) error { _, err := a.AuditLog(AuditQuery{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if v := wantCode(t, judy, call(judy), backend.EFORBIDDEN); v.SignedOut {
				t.Errorf("a refused call signed judy out")
			}
			wantCode(t, nobody, call(nobody), backend.EUNAUTHORIZED)
		})
	}
	if u, _ := admin.User(target.ID); u.Role != "user" || u.TwoFactorStatus != "No" {
		t.Errorf("ivan changed by refused calls: %+v", u)
	}
}

// The session ends after the idle timeout, as on the web; the front end then shows the login.
func TestSessionIdleTimeout(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	e.clock.Advance(20 * time.Minute)
	if _, err := admin.Users(UserQuery{}); err != nil {
		t.Fatalf("after 20 idle minutes: %v", err)
	}
	e.clock.Advance(31 * time.Minute)
	_, err := admin.Users(UserQuery{})
	if v := wantCode(t, admin, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("after the idle timeout: signedOut false, want true")
	}
}

// An internal error reaches the front end as a generic sentence, never its details.
func TestFormatErrorHidesInternals(t *testing.T) {
	a := newEnv(t).app()
	v := a.formatError(os.ErrPermission).(ErrorView)
	if v.Code != backend.EINTERNAL || strings.Contains(v.Message, "permission") {
		t.Errorf("formatError(internal) = %+v", v)
	}
}
