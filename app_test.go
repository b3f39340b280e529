package main

import (
	"context"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// ---- The desktop layer: the built binaries under Xvfb. ----
//
// These need the binaries, Xvfb, ImageMagick's import and Chromium, so they run only with
// GATEHOUSE_DESKTOP_TESTS=1; build/desktop-test.sh builds both binaries and runs them:
//
//	GATEHOUSE_DEV_BINARY  built with -tags dev,webkit2_41 (TestDesktopConsoleInChromium)
//	GATEHOUSE_BINARY      the production build, `go tool wails build -tags webkit2_41`
//	GATEHOUSE_SCREENSHOT_DIR  optional: where to keep a screenshot of every screen

func desktopTest(t *testing.T, binaryVar string) string {
	t.Helper()
	if os.Getenv("GATEHOUSE_DESKTOP_TESTS") != "1" {
		t.Skip("set GATEHOUSE_DESKTOP_TESTS=1 (build/desktop-test.sh) to run the desktop layer tests")
	}
	bin := os.Getenv(binaryVar)
	if bin == "" {
		t.Fatalf("%s is not set", binaryVar)
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("%s: %v", binaryVar, err)
	}
	return abs
}

// startXvfb starts a virtual X display of its own and returns its name (":N").
func startXvfb(t *testing.T) string {
	t.Helper()
	for n := 90; n < 140; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		display := fmt.Sprintf(":%d", n)
		cmd := exec.Command("Xvfb", display, "-screen", "0", "1280x860x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			t.Fatalf("start Xvfb: %v", err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
		for range 100 {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return display
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("Xvfb %s did not start", display)
	}
	t.Fatal("no free X display")
	return ""
}

// startConsole runs a desktop binary on display with a fresh data directory, logging to a file
// that is printed if the test fails.
func startConsole(t *testing.T, bin, display string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	data := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "console.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = data
	cmd.Env = append(os.Environ(), append([]string{"DISPLAY=" + display, "GATEHOUSE_DATA=" + data}, env...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("console log:\n%s", out)
		}
	})
	return cmd, data
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("GATEHOUSE_SCREENSHOT_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDesktopConsoleInChromium runs the real front end with the real Go bindings: a dev build
// serves both on loopback, and Chromium goes through the article's path — the first admin logs
// in, creates a user with Two-Factor "Yes"; that user logs in, must enroll, enrolls an app,
// prints and saves the recovery codes; the admin then sees "Enabled".
func TestDesktopConsoleInChromium(t *testing.T) {
	bin := desktopTest(t, "GATEHOUSE_DEV_BINARY")
	display := startXvfb(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	assetDir, err := filepath.Abs("frontend/dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(assetDir, "index.html")); err != nil {
		t.Fatalf("the front end is not built (cd frontend && npm run build): %v", err)
	}
	saveDir := t.TempDir()
	startConsole(t, bin, display, "devserver="+addr, "assetdir="+assetDir, "GATEHOUSE_TEST_SAVE_DIR="+saveDir)
	base := "http://" + addr + "/"
	waitHTTP(t, base)

	shots := screenshotDir(t)
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	b := &browser{t: t, ctx: ctx, shots: shots}
	b.do(chromedp.Navigate(base))

	// The first administrator.
	b.wait("#first-admin")
	b.shot("01-login-new-installation")
	b.click("#first-admin")
	b.fill("input[name=username]", "root")
	b.fill("input[name=displayName]", "Ada Admin")
	b.fill("input[name=password]", adminPassword)
	b.fill("input[name=confirm]", adminPassword)
	b.shot("02-first-admin")
	b.submit("form")
	b.waitText(".alert-info", "Administrator root created")
	b.login("root", adminPassword)
	b.wait("#users-table")
	b.shot("03-users")

	// New User with Two-Factor Authentication "Yes".
	b.click("#new-user")
	b.wait("#new-user-form")
	b.fill("input[name=username]", "bob")
	b.fill("input[name=displayName]", "Bob Baker")
	b.fill("input[name=email]", "bob@example.com")
	b.fill("input[name=password]", "bobs long password")
	b.click("#must-change")
	b.click("#two-factor-yes")
	b.shot("04-new-user")
	b.submit("#new-user-form")
	b.waitText("#two-factor-status", "Pending setup on next login")
	b.shot("05-user-page")
	b.click("#edit-user")
	b.wait("#edit-user-form")
	b.shot("06-edit-user")
	b.logout()

	// Bob must enroll at login: "Use an App".
	b.login("bob", "bobs long password")
	b.wait("#enroll-required")
	b.shot("07-enroll-required")
	b.click("#use-sms")
	b.waitText(".alert-error", "SMS is not configured")
	b.shot("08-use-sms-not-configured")
	b.click(".btn-success") // "Use an App instead"
	b.wait("#totp-key")
	key := b.text("#totp-key")
	b.shot("09-use-an-app")
	code, err := totp.GenerateCode(strings.ReplaceAll(key, " ", ""), time.Now())
	if err != nil {
		t.Fatalf("totp from the key shown (%q): %v", key, err)
	}
	b.fill("input[name=code]", code)
	b.submit("#enroll-app-form")
	b.wait("#recovery-codes")
	codes := strings.Fields(b.text("#recovery-codes"))
	if len(codes) != 5 {
		t.Fatalf("recovery codes shown: %q, want 5", codes)
	}
	b.shot("10-recovery-codes")

	// Print (window.print stubbed: the GTK print dialog is modal) and Save.
	b.eval(`window.__printed = 0; window.print = () => { window.__printed++; }; true`)
	b.click("#codes-print")
	if n := evalAs[int](b, `window.__printed`); n != 1 {
		t.Errorf("window.print called %d times, want 1", n)
	}
	if html := evalAs[string](b, `document.getElementById("print-root").innerText`); !strings.Contains(html, codes[0]) {
		t.Errorf("print sheet lacks the codes: %q", html)
	}
	b.click("#codes-save")
	b.waitText(".alert-success", "Saved to")
	saved, err := os.ReadFile(filepath.Join(saveDir, "gatehouse-recovery-codes-bob.txt"))
	if err != nil {
		t.Fatalf("saved codes: %v", err)
	}
	for _, c := range codes {
		if !strings.Contains(string(saved), c) {
			t.Errorf("saved file lacks %s", c)
		}
	}
	if evalAs[bool](b, `document.getElementById("codes-continue").disabled`) != true {
		t.Errorf(`"Continue" enabled before "I have saved these codes"`)
	}
	b.click("#codes-saved")
	b.click("#codes-continue")
	b.waitText("#app .badge", "Enabled")
	b.shot("11-profile-enabled")
	b.logout()

	// The next login asks for the code.
	b.login("bob", "bobs long password")
	b.wait("#verify-form")
	b.shot("12-verify")
	b.click("#use-recovery")
	b.wait("#recovery-form")
	b.fill("input[name=recovery-code]", codes[0])
	b.submit("#recovery-form")
	b.waitText("#app .badge", "Enabled")
	b.logout()

	// The admin sees "Enabled".
	b.login("root", adminPassword)
	b.wait(`#users-table tr[data-username="bob"]`)
	if got := b.text(`#users-table tr[data-username="bob"] .status-cell`); got != "Enabled" {
		t.Errorf("admin sees bob as %q, want Enabled", got)
	}
	b.shot("13-users-enabled")
	b.click(`#users-table tr[data-username="bob"]`)
	b.click("#edit-user")
	b.click("#reset-two-factor")
	b.wait(".modal")
	b.shot("14-reset-dialog")
	b.submit(".modal")
	b.waitText("#status-bar", "reset")
	b.waitText("#two-factor-status", "Pending setup on next login")
	b.shot("15-status-bar")
	// "Disable Two-Factor", then "Require Two-Factor" with its pop-up and the light-blue bar.
	b.click("#disable-two-factor")
	b.submit(".modal")
	b.waitText("#two-factor-status", "No")
	b.click("#require-two-factor")
	b.waitText(".modal", "will now be required to enroll in Two-Factor Authentication upon log in")
	b.shot("15b-require-dialog")
	b.submit(".modal")
	b.waitText("#status-bar", "require Two-Factor Authentication")
	b.waitText("#two-factor-status", "Pending setup on next login")
	b.eval(`document.querySelector(".tab-menu .menu button:nth-child(2)").click(); true`)
	b.wait("#audit-table")
	b.shot("16-audit-log")
}

// TestDesktopProductionStarts starts the production binary under Xvfb: the window shows the login
// screen (checked in a screenshot of the display), and SIGTERM closes it cleanly.
func TestDesktopProductionStarts(t *testing.T) {
	bin := desktopTest(t, "GATEHOUSE_BINARY")
	display := startXvfb(t)
	cmd, _ := startConsole(t, bin, display)
	shot := filepath.Join(screenshotDir(t), "00-production-login.png")

	// WebKit takes a few seconds to start under Xvfb: poll until the login screen is drawn.
	var last loginScreenStats
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := exec.Command("import", "-display", display, "-window", "root", shot).Run(); err == nil {
			last = readLoginScreen(t, shot)
			if last.looksLikeLogin() {
				break
			}
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			t.Fatalf("no login screen on the display (%+v); screenshot %s", last, shot)
		}
		time.Sleep(time.Second)
	}
	t.Logf("login screen: %+v (%s)", last, shot)

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGTERM: %v, want a clean exit", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15 s after SIGTERM")
	}
}

// loginScreenStats is what a screenshot of the display holds.
type loginScreenStats struct {
	Colors     int // distinct colours
	ButtonBlue int // pixels of the "Log in" button's blue (--blue, #1f67c9)
	PageGrey   int // pixels of the page background (--bg, #f3f5f8)
	White      int // pixels of the login card
}

// looksLikeLogin: a drawn page (not a blank or black display), with the login card and its
// blue "Log in" button.
func (s loginScreenStats) looksLikeLogin() bool {
	return s.Colors > 50 && s.ButtonBlue > 3000 && s.PageGrey > 100000 && s.White > 50000
}

func readLoginScreen(t *testing.T, path string) loginScreenStats {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return loginScreenStats{}
	}
	var s loginScreenStats
	seen := map[color.RGBA]bool{}
	near := func(c color.RGBA, r, g, b uint8) bool {
		d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
		return d(c.R, r) <= 6 && d(c.G, g) <= 6 && d(c.B, b) <= 6
	}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			switch {
			case near(c, 0x1f, 0x67, 0xc9):
				s.ButtonBlue++
			case near(c, 0xf3, 0xf5, 0xf8):
				s.PageGrey++
			case near(c, 0xff, 0xff, 0xff):
				s.White++
			}
		}
	}
	s.Colors = len(seen)
	return s
}

func chromiumPath() string {
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return "chromium"
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	for range 200 {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer", url)
}

// browser drives one Chromium tab; every step fails the test with the step's name.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) wait(sel string) { b.t.Helper(); b.do(chromedp.WaitVisible(chromedp.CSS(sel))) }

func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

// submit presses the submit button of the form sel.
func (b *browser) submit(sel string) { b.t.Helper(); b.click(sel + " button[type=submit]") }

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// waitText waits until the element sel is visible and contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && !e.hidden && e.innerText.includes(%q); })()`, sel, want)
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.shot("failed")
		b.t.Fatalf("waiting for %q in %s: %v (page: %q)", want, sel, err, evalAs[string](b, `document.getElementById("app").innerText`))
	}
}

func (b *browser) eval(js string) { b.t.Helper(); evalAs[bool](b, js) }

func evalAs[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (b *browser) login(username, password string) {
	b.t.Helper()
	b.wait("#login-form")
	b.fill("input[name=username]", username)
	b.fill("input[name=password]", password)
	b.submit("#login-form")
}

// logout uses "Log out" in the username menu of the upper right corner.
func (b *browser) logout() {
	b.t.Helper()
	b.eval(`document.querySelector(".user-menu .menu button:last-child").click(); true`)
	b.wait("#login-form")
}

func (b *browser) shot(name string) {
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
}
