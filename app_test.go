package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/browsertest"
	"gatehouse/backend/desktoptest"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// The bound methods of App, end to end against a real SQLite file: everything the desktop
// front end can do, through the same calls it makes. The desktop layer itself (the real front
// end in WebKit and Chromium) is tested by TestDesktop* below, which need the built binaries.

type env struct {
	t     *testing.T
	svc   *backend.Service
	clock *fakeclock.Clock
	dir   string

	// With SMS (newSMSEnv): the fake Twilio the Service sends through, and the URL of the
	// real inbound webhook, which is also the configuration's public URL + sms.WebhookPath.
	fake       *smstest.Server
	webhookURL string
}

// newEnv is the System without SMS, as a console with no Twilio settings runs.
func newEnv(t *testing.T) *env {
	t.Helper()
	return fromHarness(backendtest.New(t))
}

// newSMSEnv is the System with SMS configured as main does it, against a fake Twilio: the
// real twilio-go Gateway sends to smstest's REST server, and inbound texts reach the real
// webhook on an httptest server whose URL is the configured public URL, signed as Twilio signs.
func newSMSEnv(t *testing.T) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := backendtest.New(t, backendtest.WithSMS(srv.URL))
	mux.Handle("POST "+sms.WebhookPath, h.Webhook(h.Service))
	e := fromHarness(h)
	e.fake, e.webhookURL = h.Twilio, h.SMS.WebhookURL()
	return e
}

// fromHarness is the System backendtest built (a real SQLite file, the fake clock).
func fromHarness(h *backendtest.Env) *env {
	return &env{t: h.T.(*testing.T), svc: h.Service, clock: h.Clock, dir: h.Dir}
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
	return backendtest.TOTP(e.t, key, e.clock.Now())
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
	// CheckNewUser names every bad field at once and creates nothing.
	v := wantCode(t, a, a.CheckNewUser(NewUserForm{Email: "nope", Password: "short", Role: "admin"}), backend.EINVALID)
	for _, want := range []string{"Enter a username.", "is not an email address.", "at least 8 characters"} {
		if !strings.Contains(v.Message, want) {
			t.Errorf("CheckNewUser: got %q, want it to contain %q", v.Message, want)
		}
	}
	if err := a.CheckNewUser(NewUserForm{Username: "root", Password: adminPassword, Role: "admin"}); err != nil {
		t.Errorf("CheckNewUser of a good form: %v", err)
	}
	if need, _ := a.NeedsFirstAdmin(); !need {
		t.Error("CheckNewUser created an administrator")
	}
	_, err := a.Login("root", adminPassword)
	if v := wantCode(t, a, err, backend.EUNAUTHORIZED); v.SignedOut {
		t.Errorf("failed login: signedOut true, want false (the error stays on the Log in form)")
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
	if me.Username != "root" || me.Role != "admin" || me.TwoFactorStatus != backend.StatusNo {
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
	if u.TwoFactorStatus != backend.StatusPending {
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
	_, err = bob.BeginSMSEnrollment()
	wantCode(t, bob, err, backend.EUNAVAILABLE)

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

	// A file already there, readable by all (an older sheet), is replaced by one that only its
	// owner can read: writing over it kept its mode (L6).
	if err := os.WriteFile(filepath.Join(e.dir, backend.RecoveryCodeSheetFilename("bob")), []byte("an older sheet"), 0o644); err != nil {
		t.Fatal(err)
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
	if err != nil || me.TwoFactorStatus != backend.StatusEnabled || me.Method != "app" {
		t.Fatalf("Session after enrollment = %+v, %v; want Enabled, app", me, err)
	}
	if got, _ := admin.User(u.ID); got.TwoFactorStatus != backend.StatusEnabled {
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
	wantCode(t, bob, err, backend.EINVALID) // bob has no SMS
	_, err = bob.SendSMSCode()
	wantCode(t, bob, err, backend.EINVALID)
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
	} else if want := "You used a recovery code to log in. 4 recovery codes left"; !strings.HasPrefix(v.Notice, want) {
		t.Errorf("VerifyRecoveryCode's notice: %q, want it to start %q", v.Notice, want)
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

	// Regenerating needs the password again (past the login's own confirmation), then voids
	// the old set.
	e.clock.Advance(11 * time.Minute)
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
	// The new codes' screen says the old ones stopped working, in backend's words.
	if sh, err := dave.RecoveryCodeSheet(); err != nil || sh.Replaced != backend.RecoveryCodesReplacedText {
		t.Errorf("RecoveryCodeSheet after regenerating = %+v, %v; want Replaced %q", sh, err, backend.RecoveryCodesReplacedText)
	}
	dave.Logout()
	e.login(dave, "dave", "daves long password", "verify")
	_, err = dave.VerifyRecoveryCode(codes[2])
	wantCode(t, dave, err, backend.EUNAUTHORIZED)
	if _, err := dave.VerifyRecoveryCode(fresh[0]); err != nil {
		t.Fatalf("new code: %v", err)
	}
	// A required user cannot turn Two-Factor off, and is told so before any password is asked.
	wantCode(t, dave, dave.DisableOwnTwoFactor(), backend.EFORBIDDEN)
}

// A user who is not required opts in from the profile ("Setup Two-Factor") and may opt out.
func TestProfileSetupAndPassword(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "erin", Password: "erins long password"})
	erin := e.app()
	e.login(erin, "erin", "erins long password", "done")

	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password
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
	if p, _ := erin.Profile(); p.User.TwoFactorStatus != backend.StatusEnabled || p.RecoveryCodesLeft != 5 {
		t.Errorf("profile after setup = %+v", p)
	}
	if err := erin.DisableOwnTwoFactor(); err != nil {
		t.Fatalf("DisableOwnTwoFactor: %v", err)
	}
	if p, _ := erin.Profile(); p.User.TwoFactorStatus != backend.StatusNo {
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

// ---- SMS: the console against the real Twilio gateway and webhook, with a fake Twilio. ----

// text sends a text message from the phone from to the System Phone Number, through the real
// webhook, signed as Twilio signs it.
func (e *env) text(from, body string) {
	e.t.Helper()
	status, answer, err := e.fake.SendInbound(e.webhookURL, smstest.Inbound{From: from, Body: body})
	if err != nil || status != http.StatusOK {
		e.t.Fatalf("inbound text: %d %q, %v", status, answer, err)
	}
}

func (e *env) smsState(a *App, want string) *SMSEnrollmentStatusView {
	e.t.Helper()
	st, err := a.SMSEnrollmentStatus()
	if err != nil {
		e.t.Fatalf("SMSEnrollmentStatus: %v", err)
	}
	if st.State != want {
		e.t.Fatalf("SMS enrollment state %q, want %q", st.State, want)
	}
	return st
}

// lastCode is the login code of the last text the fake Twilio sent, and its recipient.
func (e *env) lastCode() (code, to string) {
	e.t.Helper()
	msgs := e.fake.Messages()
	if len(msgs) == 0 {
		e.t.Fatal("no text message was sent")
	}
	m := msgs[len(msgs)-1]
	if m.From != smstest.PhoneNumber {
		e.t.Errorf("text sent from %q, want the System Phone Number %s", m.From, smstest.PhoneNumber)
	}
	for _, w := range strings.Fields(m.Body) {
		if w = strings.TrimSuffix(w, "."); len(w) == 6 && strings.Trim(w, "0123456789") == "" {
			return w, m.To
		}
	}
	e.t.Fatalf("no 6-digit code in %q", m.Body)
	return "", ""
}

// enrollSMSAtLogin logs username in, enrolls by texting the Authorization Code from phone at the
// forced enroll step, and returns the recovery codes. The console ends signed in.
func (e *env) enrollSMSAtLogin(a *App, username, password, phone string) []string {
	e.t.Helper()
	e.login(a, username, password, "enroll")
	setup, err := a.BeginSMSEnrollment()
	if err != nil {
		e.t.Fatalf("BeginSMSEnrollment: %v", err)
	}
	e.text(phone, setup.Code)
	e.smsState(a, "received")
	res, err := a.ConfirmSMSEnrollment()
	if err != nil {
		e.t.Fatalf("ConfirmSMSEnrollment: %v", err)
	}
	if res.Login == nil || res.Login.Step != "done" {
		e.t.Fatalf("after SMS enrollment: login %+v, want done", res.Login)
	}
	return res.RecoveryCodes
}

// The article's "Use SMS" at a forced enrollment: the page shows the Authorization Code and the
// System Phone Number; the user texts the code; the page, polling, sees the text, shows the
// masked number, and "Confirm" enables SMS with that number and gives the recovery codes.
func TestSMSEnrollmentAtLogin(t *testing.T) {
	e := newSMSEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "frank", Password: "franks long password", RequireTwoFactor: true})
	frank := e.app()
	e.login(frank, "frank", "franks long password", "enroll")

	e.smsState(frank, "none")
	setup, err := frank.BeginSMSEnrollment()
	if err != nil {
		t.Fatalf("BeginSMSEnrollment: %v", err)
	}
	if len(strings.ReplaceAll(setup.Code, "-", "")) != 10 || setup.PhoneNumber != smstest.PhoneNumber ||
		setup.PhoneDisplay != backend.FormatPhone(smstest.PhoneNumber) || setup.PhoneDisplay == setup.PhoneNumber || setup.ExpiresAt == "" {
		t.Errorf("SMS enrollment = %+v", setup)
	}
	// The page, opened again, finds the setup waiting and shows the same code.
	st := e.smsState(frank, "waiting")
	if st.Setup == nil || st.Setup.Code != setup.Code || st.ExpiresAt != setup.ExpiresAt {
		t.Errorf("waiting status = %+v, want the code shown, %s", st, setup.Code)
	}
	// Another console of the same user has no setup in progress: the setup is this login's.
	other := e.app()
	e.login(other, "frank", "franks long password", "enroll")
	if st := e.smsState(other, "none"); st.Setup != nil {
		t.Errorf("another console sees the code: %+v", st)
	}
	other.Logout()

	_, err = frank.ConfirmSMSEnrollment()
	if v := wantCode(t, frank, err, backend.ECONFLICT); v.SignedOut {
		t.Errorf("confirming before the text ended the login")
	}
	e.text("+16502530067", "WRONG-CODE1")
	e.smsState(frank, "waiting")

	// The code from a number no login code can go to: the wait ends with backend's reason, and
	// the code is used up; a new one starts over.
	e.text("555-12", setup.Code)
	if st := e.smsState(frank, "refused"); st.Refused != backend.SMSRefusedSenderText || st.Setup != nil || st.MaskedPhone != "" {
		t.Errorf("refused status = %+v, want backend's sentence %q", st, backend.SMSRefusedSenderText)
	}
	_, err = frank.ConfirmSMSEnrollment()
	if v := wantCode(t, frank, err, backend.ECONFLICT); v.Message != backend.SMSRefusedSenderText {
		t.Errorf("confirming a refused setup: %q, want %q", v.Message, backend.SMSRefusedSenderText)
	}
	if setup, err = frank.BeginSMSEnrollment(); err != nil {
		t.Fatalf("BeginSMSEnrollment after a refused sender: %v", err)
	}
	if st := e.smsState(frank, "waiting"); st.Refused != "" {
		t.Errorf("a new code still says refused: %+v", st)
	}

	e.text("+1 (650) 253-0067", strings.ToLower(setup.Code))
	st = e.smsState(frank, "received")
	if st.MaskedPhone != "+1 ••• ••• ••67" || st.Setup != nil {
		t.Errorf("received status = %+v, want masked +1 ••• ••• ••67 and no code", st)
	}
	_, err = frank.Session()
	wantCode(t, frank, err, backend.EUNAUTHORIZED) // not signed in before "Confirm"

	res, err := frank.ConfirmSMSEnrollment()
	if err != nil {
		t.Fatalf("ConfirmSMSEnrollment: %v", err)
	}
	if res.Login == nil || res.Login.Step != "done" || len(res.RecoveryCodes) != 5 {
		t.Fatalf("ConfirmSMSEnrollment = %+v, want done and 5 codes", res)
	}
	if path, err := frank.SaveRecoveryCodes(); err != nil || path == "" {
		t.Fatalf("SaveRecoveryCodes after SMS enrollment: %q, %v", path, err)
	}
	p, err := frank.Profile()
	if err != nil {
		t.Fatalf("Profile: %v", err)
	}
	if u := p.User; u.Method != "sms" || u.TwoFactorStatus != backend.StatusEnabled || u.SMSPhone != "+16502530067" ||
		u.SMSPhoneDisplay != "+1 650-253-0067" || !p.SMSConfigured || p.RecoveryCodesLeft != 5 {
		t.Errorf("profile after SMS enrollment = %+v", p)
	}
	if u, _ := admin.User(p.User.ID); u.TwoFactorStatus != backend.StatusEnabled || u.SMSPhone != "+16502530067" {
		t.Errorf("admin sees %+v", u)
	}
	// The setup is over: texting the code again changes nothing.
	e.text("+16502530099", setup.Code)
	e.smsState(frank, "none")
	if u, _ := admin.User(p.User.ID); u.SMSPhone != "+16502530067" {
		t.Errorf("after the code was texted again: phone %q", u.SMSPhone)
	}
}

// TestSetupBelongsToItsConsole pins issue 9 F4 in the console: a setup in progress belongs to
// the login that began it. A second console logged in as the same required user sees no SMS
// setup (neither the code nor, once texted from another phone, the number), and can confirm
// neither that setup nor the first console's app setup; the first console can.
func TestSetupBelongsToItsConsole(t *testing.T) {
	e := newSMSEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "gina", Password: "ginas long password", RequireTwoFactor: true})
	gina, other := e.app(), e.app()
	e.login(gina, "gina", "ginas long password", "enroll")
	e.login(other, "gina", "ginas long password", "enroll")

	setup, err := gina.BeginSMSEnrollment()
	if err != nil {
		t.Fatalf("BeginSMSEnrollment: %v", err)
	}
	if st := e.smsState(other, "none"); st.Setup != nil {
		t.Errorf("another console sees the code: %+v", st)
	}
	e.text("+12025550123", setup.Code)
	if st := e.smsState(other, "none"); st.MaskedPhone != "" {
		t.Errorf("another console sees the number: %+v", st)
	}
	_, err = other.ConfirmSMSEnrollment()
	wantCode(t, other, err, backend.ECONFLICT)
	if st := e.smsState(gina, "received"); st.MaskedPhone != "+1 ••• ••• ••23" {
		t.Errorf("the first console sees %+v, want the number received", st)
	}

	app, err := gina.BeginAppEnrollment()
	if err != nil {
		t.Fatalf("BeginAppEnrollment: %v", err)
	}
	_, err = other.ConfirmAppEnrollment(e.code(app.Key))
	wantCode(t, other, err, backend.ECONFLICT)
	res, err := gina.ConfirmAppEnrollment(e.code(app.Key))
	if err != nil || res.Login == nil || res.Login.Step != "done" {
		t.Fatalf("ConfirmAppEnrollment by the console that began it = %+v, %v", res, err)
	}
	if u, _ := admin.User(res.Login.User.ID); u.Method != "app" {
		t.Errorf("method %q, want app", u.Method)
	}
	// The recovery codes are backend's, for the console that received them only.
	if path, err := other.SaveRecoveryCodes(); err == nil {
		t.Errorf("another console saved the recovery codes to %s", path)
	}
	if path, err := gina.SaveRecoveryCodes(); err != nil || path == "" {
		t.Errorf("SaveRecoveryCodes by the console that enrolled = %q, %v", path, err)
	}
}

// SMS login: "Send code", the code from the text, "Verify"; "Send again" after the cooldown; a
// Twilio failure uses nothing up; recovery codes still work.
func TestSMSLogin(t *testing.T) {
	e := newSMSEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "gina", Password: "ginas long password", RequireTwoFactor: true})
	gina := e.app()
	codes := e.enrollSMSAtLogin(gina, "gina", "ginas long password", "+16502530042")
	gina.Logout()

	v := e.login(gina, "gina", "ginas long password", "verify")
	// Only the password is proven so far: the screen gets the number masked, not in full.
	if u := v.User; u.Method != "sms" || u.SMSPhone != "" || u.SMSPhoneDisplay != "" || u.SMSPhoneMasked != "+1 ••• ••• ••42" {
		t.Errorf("verify step user: method %q, phone %q/%q, masked %q", u.Method, u.SMSPhone, u.SMSPhoneDisplay, u.SMSPhoneMasked)
	}
	sent, err := gina.SendSMSCode()
	if err != nil {
		t.Fatalf("SendSMSCode: %v", err)
	}
	if sent.MaskedPhone != "+1 ••• ••• ••42" || sent.ResendAt == "" || sent.ExpiresAt <= sent.ResendAt {
		t.Errorf("SendSMSCode = %+v", sent)
	}
	first, to := e.lastCode()
	if to != "+16502530042" {
		t.Errorf("code texted to %s, want +16502530042", to)
	}
	resendAt, _ := time.Parse(time.RFC3339, sent.ResendAt)
	if wait := resendAt.Sub(e.clock.Now()); wait != 30*time.Second {
		t.Errorf("resend after %v, want 30s", wait)
	}

	// "Send again" before the cooldown says how long to wait, and sends nothing.
	_, err = gina.SendSMSCode()
	if v := wantCode(t, gina, err, backend.ETOOMANY); v.SignedOut || !strings.Contains(v.Message, "30 seconds") {
		t.Errorf("Send again at once: %+v", v)
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Errorf("%d texts sent, want 1", n)
	}

	// A Twilio failure: a clear message, nothing used up, nobody signed in.
	e.clock.Advance(31 * time.Second)
	e.fake.FailWith(&smstest.Error{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient"})
	_, err = gina.SendSMSCode()
	if v := wantCode(t, gina, err, backend.EUNAVAILABLE); v.SignedOut {
		t.Errorf("a Twilio failure ended the login")
	}
	e.fake.FailWith(nil)
	if _, err := gina.SendSMSCode(); err != nil {
		t.Fatalf("Send again after the cooldown: %v", err)
	}
	second, _ := e.lastCode()

	_, err = gina.VerifySMSCode(wrongCode(first, second))
	if v := wantCode(t, gina, err, backend.EUNAUTHORIZED); v.SignedOut {
		t.Fatalf("a wrong code ended the login")
	}
	if v, err := gina.VerifySMSCode(second); err != nil || v.Step != "done" || v.User.SMSPhone != "+16502530042" {
		t.Fatalf("VerifySMSCode = %+v, %v; want done", v, err)
	}
	if _, err := gina.Session(); err != nil {
		t.Fatalf("Session after SMS login: %v", err)
	}
	gina.Logout()

	// A used code does not work twice, even in a new login (which says first that no code
	// is waiting); recovery codes work for SMS users.
	e.login(gina, "gina", "ginas long password", "verify")
	_, err = gina.VerifySMSCode(second)
	if v := wantCode(t, gina, err, backend.EINVALID); !strings.Contains(v.Message, "Send code") {
		t.Errorf("VerifySMSCode before Send code: %q, want it to say to press Send code", v.Message)
	}
	e.clock.Advance(30 * time.Second)
	if _, err := gina.SendSMSCode(); err != nil {
		t.Fatal(err)
	}
	_, err = gina.VerifySMSCode(second)
	wantCode(t, gina, err, backend.EUNAUTHORIZED)
	if v, err := gina.VerifyRecoveryCode(codes[0]); err != nil || v.Step != "done" {
		t.Fatalf("VerifyRecoveryCode for an SMS user = %+v, %v", v, err)
	}
}

// wrongCode is a 6-digit code that is neither a nor b.
func wrongCode(a, b string) string {
	for _, c := range []string{"000000", "111111", "222222"} {
		if c != a && c != b {
			return c
		}
	}
	return "333333"
}

// "Use SMS" from the profile: the password is confirmed first; the SMS settings show the phone;
// enrolling again changes it; an expired code starts over.
func TestSMSEnrollmentFromProfile(t *testing.T) {
	e := newSMSEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "hank", Password: "hanks long password"})
	hank := e.app()
	e.login(hank, "hank", "hanks long password", "done")
	if p, err := hank.Profile(); err != nil || !p.SMSConfigured || p.SMSUnavailable != "" || p.User.SMSPhone != "" {
		t.Fatalf("Profile = %+v, %v; want SMS configured, no phone", p, err)
	}

	// The login counts as a confirmation of the password for ReauthWindow: let it pass.
	e.clock.Advance(11 * time.Minute)
	_, err := hank.BeginSMSEnrollment()
	wantCode(t, hank, err, backend.EREAUTH)
	if err := hank.ConfirmPassword("hanks long password"); err != nil {
		t.Fatal(err)
	}
	old, err := hank.BeginSMSEnrollment()
	if err != nil {
		t.Fatalf("BeginSMSEnrollment: %v", err)
	}
	// Too late: the page shows "expired", and the old code does nothing.
	e.clock.Advance(11 * time.Minute)
	if st := e.smsState(hank, "expired"); st.Setup != nil {
		t.Errorf("expired status shows a code: %+v", st)
	}
	_, err = hank.BeginSMSEnrollment()
	wantCode(t, hank, err, backend.EREAUTH) // the confirmation was 11 minutes ago
	hank.ConfirmPassword("hanks long password")
	setup, err := hank.BeginSMSEnrollment()
	if err != nil || setup.Code == old.Code {
		t.Fatalf("BeginSMSEnrollment again = %+v, %v; want a new code", setup, err)
	}
	e.text("+16502530011", old.Code)
	e.smsState(hank, "waiting")
	e.text("+16502530011", setup.Code)
	e.smsState(hank, "received")
	res, err := hank.ConfirmSMSEnrollment()
	if err != nil || res.Login != nil || len(res.RecoveryCodes) != 5 {
		t.Fatalf("ConfirmSMSEnrollment from the profile = %+v, %v", res, err)
	}
	if p, _ := hank.Profile(); p.User.Method != "sms" || p.User.SMSPhoneDisplay != "+1 650-253-0011" {
		t.Errorf("profile after SMS setup = %+v", p.User)
	}

	// Change the phone by enrolling again, from another phone.
	setup, err = hank.BeginSMSEnrollment()
	if err != nil {
		t.Fatalf("BeginSMSEnrollment to change the phone: %v", err)
	}
	e.text("+16502530022", setup.Code)
	if st := e.smsState(hank, "received"); st.MaskedPhone != "+1 ••• ••• ••22" {
		t.Errorf("received from %q, want +1 ••• ••• ••22", st.MaskedPhone)
	}
	if _, err := hank.ConfirmSMSEnrollment(); err != nil {
		t.Fatalf("ConfirmSMSEnrollment (new phone): %v", err)
	}
	if p, _ := hank.Profile(); p.User.SMSPhone != "+16502530022" {
		t.Errorf("phone after enrolling again = %q, want +16502530022", p.User.SMSPhone)
	}
	e.smsState(hank, "none")
}

// Without Twilio settings "Use SMS" says why, and nothing else changes.
func TestSMSNotConfigured(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	p, err := admin.Profile()
	if err != nil || p.SMSConfigured || !strings.Contains(p.SMSUnavailable, "SMS is not available") {
		t.Fatalf("Profile = %+v, %v; want SMS not configured, with the reason", p, err)
	}
	admin.ConfirmPassword(adminPassword)
	_, err = admin.BeginSMSEnrollment()
	if v := wantCode(t, admin, err, backend.EUNAVAILABLE); v.Message != p.SMSUnavailable {
		t.Errorf("BeginSMSEnrollment says %q, the profile %q", v.Message, p.SMSUnavailable)
	}
	e.smsState(admin, "none")
}

// Every administration action, as the admin pages use them.
func TestAdminActions(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	frank := mustUser(t, admin, NewUserForm{Username: "frank", DisplayName: "Frank Fisher", Email: "frank@example.com", Password: "franks long password"})
	// The status bar's sentences are backend's, as on the web (TestFlashShowsOnceToItsSession).
	if want := backend.UserCreatedNotice(&backend.User{Username: "frank", DisplayName: "Frank Fisher"}); frank.Notice != want {
		t.Errorf("CreateUser's notice %q, want %q", frank.Notice, want)
	}
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
	list, _ = admin.Users(UserQuery{Status: backend.StatusPending})
	if list.Total != 1 || list.Users[0].Username != "grace" {
		t.Errorf("Users(Pending) = %+v", list)
	}
	_, err = admin.Users(UserQuery{Status: "Maybe"})
	wantCode(t, admin, err, backend.EINVALID)

	// "Require Two-Factor" -> "Pending setup on next login"; frank must then enroll at login.
	u, err := admin.RequireTwoFactor(frank.ID)
	if err != nil || u.TwoFactorStatus != backend.StatusPending || !u.TwoFactorRequired {
		t.Fatalf("RequireTwoFactor = %+v, %v", u, err)
	}
	// The buttons the console offers now, backend's: Disable only (nothing is set up to reset),
	// and Set password.
	var keys []backend.ActionKey
	for _, a := range u.Actions {
		keys = append(keys, a.Key)
	}
	if want := []backend.ActionKey{backend.ActionDisableTwoFactor, backend.ActionSetPassword}; !slices.Equal(keys, want) {
		t.Errorf("after Require: actions %v, want %v", keys, want)
	}
	fr := e.app()
	e.enrollAtLogin(fr, "frank", "franks long password")
	if u, _ := admin.User(frank.ID); u.TwoFactorStatus != backend.StatusEnabled {
		t.Errorf("after enrolling: %q, want Enabled", u.TwoFactorStatus)
	}
	// Removing a factor needs the administrator's password, confirmed in the last minutes
	// (the login counts as one: let it pass).
	e.clock.Advance(11 * time.Minute)
	_, err = admin.ResetTwoFactor(frank.ID)
	wantCode(t, admin, err, backend.EREAUTH)
	if err := admin.ConfirmPassword(adminPassword); err != nil {
		t.Fatal(err)
	}
	// Reset keeps the requirement and signs frank out at once.
	if u, err = admin.ResetTwoFactor(frank.ID); err != nil || u.TwoFactorStatus != backend.StatusPending {
		t.Fatalf("ResetTwoFactor = %+v, %v", u, err)
	}
	_, err = fr.Session()
	if v := wantCode(t, fr, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("frank's console still signed in after the reset")
	}
	// Disable removes requirement and enrollment.
	if u, err = admin.DisableTwoFactor(frank.ID); err != nil || u.TwoFactorStatus != backend.StatusNo || u.TwoFactorRequired {
		t.Fatalf("DisableTwoFactor = %+v, %v", u, err)
	}
	e.login(fr, "frank", "franks long password", "done")

	// Edit this User: only what changed is saved.
	u, err = admin.UpdateUser(frank.ID, UserForm{DisplayName: "Frank F. Fisher", Email: "ff@example.com", Role: "user"})
	if err != nil || u.DisplayName != "Frank F. Fisher" || u.Email != "ff@example.com" {
		t.Fatalf("UpdateUser = %+v, %v", u, err)
	}
	if want := backend.UserUpdatedNotice(&backend.User{Username: "frank", DisplayName: "Frank F. Fisher"}); u.Notice != want {
		t.Errorf("UpdateUser's notice %q, want %q", u.Notice, want)
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
	want := []StatusCount{{backend.StatusNo, "No", 2}, {backend.StatusPending, "Pending setup on next login", 1}, {backend.StatusEnabled, "Enabled", 0}}
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
		if ev.Text != backend.AuditActionText(ev.Action) || ev.Text == ev.Action {
			t.Errorf("event %s: text %q, want the plain words %q", ev.Action, ev.Text, backend.AuditActionText(ev.Action))
		}
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
	app, err := admin.CreateApp(AppForm{Name: "Wiki", RedirectURIs: "https://wiki.example.com/cb", Audience: "everyone"})
	if err != nil {
		t.Fatal(err)
	}

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
		"Apps":             func(a *App) error { _, err := a.Apps(AppQuery{}); return err },
		"Application":      func(a *App) error { _, err := a.Application(app.App.ID); return err },
		"CreateApp": func(a *App) error {
			_, err := a.CreateApp(AppForm{Name: "Mallory", RedirectURIs: "https://evil.example/cb", Audience: "everyone"})
			return err
		},
		"UpdateApp": func(a *App) error {
			_, err := a.UpdateApp(app.App.ID, AppForm{Name: "Wiki", RedirectURIs: "https://evil.example/cb", Audience: "everyone"})
			return err
		},
		"RegenerateAppSecret": func(a *App) error { _, err := a.RegenerateAppSecret(app.App.ID); return err },
		"DeleteApp":           func(a *App) error { _, err := a.DeleteApp(app.App.ID); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if v := wantCode(t, judy, call(judy), backend.EFORBIDDEN); v.SignedOut {
				t.Errorf("a refused call signed judy out")
			}
			wantCode(t, nobody, call(nobody), backend.EUNAUTHORIZED)
		})
	}
	if u, _ := admin.User(target.ID); u.Role != "user" || u.TwoFactorStatus != backend.StatusNo {
		t.Errorf("ivan changed by refused calls: %+v", u)
	}
	if list, _ := admin.Apps(AppQuery{}); list.Total != 1 || list.Apps[0].Name != "Wiki" || !slices.Equal(list.Apps[0].RedirectURIs, []string{"https://wiki.example.com/cb"}) {
		t.Errorf("applications after refused calls: %+v", list)
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
//
// The machinery (Xvfb, starting the console, Chromium, screenshots) is backend/desktoptest's and
// backend/browsertest's.

// TestDesktopConsoleInChromium runs the real front end with the real Go bindings: a dev build
// serves both on loopback, and Chromium goes through the article's path — the first admin logs
// in, creates a user with Two-Factor "Yes"; that user logs in, must enroll, enrolls an app,
// prints and saves the recovery codes; the admin then sees "Enabled".
func TestDesktopConsoleInChromium(t *testing.T) {
	bin := desktoptest.Binary(t, "GATEHOUSE_DEV_BINARY")
	display := desktoptest.Xvfb(t)
	addr := browsertest.FreeAddr(t)
	assetDir, err := filepath.Abs("frontend/dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(assetDir, "index.html")); err != nil {
		t.Fatalf("the front end is not built (cd frontend && npm run build): %v", err)
	}
	saveDir := t.TempDir()
	_, data := desktoptest.StartConsole(t, bin, display, "devserver="+addr, "assetdir="+assetDir, "GATEHOUSE_TEST_SAVE_DIR="+saveDir)
	base := "http://" + addr + "/"
	browsertest.WaitHTTP(t, base)

	shots := browsertest.ShotsDir()
	ctx, cancel := context.WithTimeout(browsertest.Start(t), 2*time.Minute)
	defer cancel()

	b := &browser{t: t, ctx: ctx, shots: shots}
	b.do(chromedp.Navigate(base))

	// The first administrator.
	b.wait("#first-admin")
	b.shot("01-login-new-installation")
	b.click("#first-admin")
	// Sent empty with differing passwords: every problem at once, not one per try.
	b.fill("input[name=password]", "short")
	b.submit("form")
	b.waitText(".alert-error", "The passwords do not match. Enter a username.")
	b.waitText(".alert-error", "at least 8 characters")
	b.shot("02a-first-admin-problems")
	b.fill("input[name=username]", "root")
	b.fill("input[name=displayName]", "Ada Admin")
	b.fill("input[name=password]", adminPassword)
	b.fill("input[name=confirm]", adminPassword)
	b.shot("02-first-admin")
	b.submit("form")
	b.waitText(".alert-info", backend.FirstAdminCreatedNotice(&backend.User{Username: "root"}))
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
	// backend's defaults: Two-Factor No, no forced password change.
	if evalAs[bool](b, `document.getElementById("must-change").checked || document.getElementById("two-factor-yes").checked`) {
		t.Errorf("New User: must-change or Two-Factor Yes ticked; want backend.NewUserDefaults")
	}
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
	// SMS is off: the choice screen says so (backend's sentence), "Use SMS" does not work.
	b.waitText("#sms-unavailable", "SMS is not available")
	b.shot("08-use-sms-not-configured")
	b.click("#use-app")
	b.wait("#totp-key")
	key := b.text("#totp-key")
	b.shot("09-use-an-app")
	b.fill("input[name=code]", backendtest.TOTP(t, key, time.Now()))
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
	// The printed sheet is backend's text, the one Save writes (compared below).
	printed := evalAs[string](b, `document.querySelector("#print-root pre").textContent`)
	if html := printed; !strings.Contains(html, codes[0]) || !strings.Contains(html, "Account: bob") {
		t.Errorf("print sheet lacks the codes: %q", html)
	}
	b.click("#codes-save")
	b.waitText(".alert-success", "Saved to")
	saved, err := os.ReadFile(filepath.Join(saveDir, "gatehouse-recovery-codes-bob.txt"))
	if err != nil {
		t.Fatalf("saved codes: %v", err)
	}
	if undated := regexp.MustCompile(`(?m)^Created: .*$`); undated.ReplaceAllString(string(saved), "") != undated.ReplaceAllString(printed, "") {
		t.Errorf("saved file:\n%s\nwant the printed sheet:\n%s", saved, printed)
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
	// Enrolled: "Setup Two-Factor" stays, to move to a new phone or switch methods.
	b.wait("#setup-two-factor")
	setup, _ := backend.ProfileAction(&backend.User{Method: backend.MethodApp}, backend.ActionSetupTwoFactor)
	b.waitText("#setup-two-factor-help", setup.Help)
	b.shot("11-profile-enabled")
	b.logout()

	// The next login asks for the code.
	b.login("bob", "bobs long password")
	b.wait("#verify-form")
	b.shot("12-verify")
	b.click("#use-recovery")
	b.wait("#recovery-form")
	b.fill("input[name=recovery-code]", codes[0])
	b.shot("12b-verify-recovery-code")
	b.submit("#recovery-form")
	b.waitText("#app .badge", "Enabled")
	b.shot("12c-profile-after-recovery-code")
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
	// The sentences are backend's, the web's (backend/web handlers_test.go).
	bob := &backend.User{Username: "bob", DisplayName: "Bob Baker", Method: backend.MethodApp, TwoFactorRequired: true}
	reset := backend.DescribeUserAction(backend.ActionResetTwoFactor, bob)
	b.waitText(".modal", reset.Confirm)
	b.shot("14-reset-dialog")
	// Removing a factor needs the administrator's password, confirmed recently: the login
	// counts as a confirmation for ten minutes, which ageSessionsReauth makes pass. It is then
	// asked on top of the pop-up.
	ageSessionsReauth(t, data)
	b.submit(".modal")
	reauth := `.modal[aria-label="Confirm your password"]`
	b.waitText(reauth, "enter your password again")
	b.shot("14b-reauth-dialog")
	b.fill(reauth+" input[type=password]", adminPassword)
	b.submit(reauth)
	b.waitText("#status-bar", reset.Done)
	b.waitText("#two-factor-status", "Pending setup on next login")
	b.do(chromedp.EmulateViewport(820, 600))
	if bottom := evalAs[float64](b, `document.getElementById("user-two-factor-card").getBoundingClientRect().bottom`); bottom > 600 {
		t.Errorf("at 820×600 the user page's Two-Factor card ends at %.0f px, below the fold", bottom)
	}
	b.do(chromedp.EmulateViewport(1280, 800))
	b.shot("15-status-bar")
	// "Disable Two-Factor", then "Require Two-Factor" with its pop-up and the light-blue bar.
	b.click("#disable-two-factor")
	b.wait(".modal")
	b.shot("15a-disable-dialog")
	b.submit(".modal")
	b.waitText("#two-factor-status", "No")
	b.shot("15c-user-page-no")
	b.click("#require-two-factor")
	require := backend.DescribeUserAction(backend.ActionRequireTwoFactor, bob)
	b.waitText(".modal", require.Confirm) // the help article's sentence
	b.shot("15b-require-dialog")
	b.submit(".modal")
	b.waitText("#status-bar", require.Done)
	b.waitText("#two-factor-status", "Pending setup on next login")
	b.eval(`document.getElementById("menu-audit").click(); true`)
	b.waitText("#audit-table", backend.AuditActionText(backend.AuditResetTwoFactor))
	if got := b.text("#audit-table"); strings.Contains(got, backend.AuditResetTwoFactor) {
		t.Errorf("the audit log shows the identifier %s", backend.AuditResetTwoFactor)
	}
	if got := b.text(".pager"); !strings.Contains(got, " events") {
		t.Errorf("audit pager %q", got)
	}
	b.shot("16-audit-log")
}

// TestDesktopSMSInChromium runs "Use SMS" and the SMS login in the real front end, with SMS
// configured as an installation has it: the dev console and a `gatehouse serve` share one data
// directory and one SMS configuration (environment variables), whose Twilio API is a fake
// Twilio in this test. The console sends login codes itself; the text with the Authorization
// Code reaches the web server's webhook, signed as Twilio signs it, and the console, polling,
// sees it arrive.
func TestDesktopSMSInChromium(t *testing.T) {
	bin := desktoptest.Binary(t, "GATEHOUSE_DEV_BINARY")
	fake := smstest.NewServer()
	defer fake.Close()
	serveAddr, devAddr := browsertest.FreeAddr(t), browsertest.FreeAddr(t)
	publicURL := "http://" + serveAddr
	smsEnv := []string{
		"TWILIO_ACCOUNT_SID=" + fake.AccountSID, "TWILIO_AUTH_TOKEN=" + fake.AuthToken,
		"GATEHOUSE_SMS_FROM=" + smstest.PhoneNumber, "GATEHOUSE_PUBLIC_URL=" + publicURL,
		"GATEHOUSE_TWILIO_API_URL=" + fake.URL,
	}
	assetDir, err := filepath.Abs("frontend/dist")
	if err != nil {
		t.Fatal(err)
	}
	display := desktoptest.Xvfb(t)
	_, data := desktoptest.StartConsole(t, bin, display, append([]string{"devserver=" + devAddr, "assetdir=" + assetDir}, smsEnv...)...)
	base := "http://" + devAddr + "/"
	browsertest.WaitHTTP(t, base) // the console has created the data directory and its key

	gatehouse := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), append([]string{"GATEHOUSE_DATA=" + data}, smsEnv...)...)
		return cmd
	}
	for _, u := range [][]string{{"--username", "root", "--admin"}, {"--username", "sam", "--name", "Sam Sender", "--require-2fa"}} {
		cmd := gatehouse(append([]string{"user", "create", "--password-stdin"}, u...)...)
		cmd.Stdin = strings.NewReader("sams long password\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gatehouse user create %v: %v\n%s", u, err, out)
		}
	}
	serve := gatehouse("serve", "--addr", serveAddr)
	var serveLog strings.Builder
	serve.Stdout, serve.Stderr = &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatalf("gatehouse serve: %v", err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
		if t.Failed() {
			t.Logf("serve log:\n%s", serveLog.String())
		}
	})
	browsertest.WaitHTTP(t, publicURL+"/login")

	ctx, cancel := context.WithTimeout(browsertest.Start(t), 2*time.Minute)
	defer cancel()
	b := &browser{t: t, ctx: ctx, shots: browsertest.ShotsDir()}
	b.do(chromedp.Navigate(base))

	// Sam must enroll at login: "Use SMS" shows the Authorization Code and the System Phone Number.
	b.login("sam", "sams long password")
	b.wait("#enroll-required")
	b.click("#use-sms")
	b.wait("#sms-auth-code")
	code := b.text("#sms-auth-code")
	if got, want := b.text("#sms-system-number"), backend.FormatPhone(smstest.PhoneNumber); got != want {
		t.Errorf("System Phone Number shown as %q, want %q", got, want)
	}
	b.wait("#sms-waiting")
	b.shot("20-use-sms-waiting")
	// Leaving the screen and coming back shows the same code: the setup is still waited for.
	b.click(".alt-links .link") // "Choose another option"
	b.click("#use-sms")
	b.wait("#sms-auth-code")
	if again := b.text("#sms-auth-code"); again != code {
		t.Errorf("Use SMS opened again shows %q, want the code still waited for, %q", again, code)
	}

	// The code texted from a number no login code can go to: the screen stops waiting by itself
	// and says why, in backend's words; "Get a new code" starts over.
	status, answer, err := fake.SendInbound(publicURL+sms.WebhookPath, smstest.Inbound{From: "555-12", Body: code})
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound text: %d %q, %v", status, answer, err)
	}
	b.waitText("#sms-refused", backend.SMSRefusedSenderText)
	if evalAs[bool](b, `!!document.getElementById("sms-waiting")`) {
		t.Error("after the refused sender the screen still says it is waiting")
	}
	b.shot("20b-use-sms-refused-sender")
	b.click("#sms-restart")
	b.wait("#sms-waiting")
	if again := b.text("#sms-auth-code"); again == code || again == "" {
		t.Errorf("after Get a new code the screen shows %q, want a new code (not %q)", again, code)
	}
	code = b.text("#sms-auth-code")

	// The text arrives through the web server's webhook; the screen notices by itself.
	status, answer, err = fake.SendInbound(publicURL+sms.WebhookPath, smstest.Inbound{From: "+16502530067", Body: code})
	if err != nil || status != http.StatusOK {
		t.Fatalf("inbound text: %d %q, %v", status, answer, err)
	}
	b.waitText("#sms-masked-phone", "+1 ••• ••• ••67")
	b.shot("21-use-sms-confirm")
	b.submit("#enroll-sms-confirm")
	b.wait("#recovery-codes")
	if codes := strings.Fields(b.text("#recovery-codes")); len(codes) != 5 {
		t.Fatalf("recovery codes shown: %q, want 5", codes)
	}
	b.click("#codes-saved")
	b.click("#codes-continue")
	b.waitText("#app .badge", "Enabled")
	b.waitText("#sms-phone", "+1 650-253-0067")
	b.shot("22-profile-sms")
	b.logout()

	// Login with a text message code: "Send code", then "Send again" waits for the cooldown.
	b.login("sam", "sams long password")
	b.wait("#verify-form")
	b.shot("23-verify-sms")
	b.click("#send-code")
	b.waitText(".alert-info", "We sent a code to +1 ••• ••• ••67")
	b.waitText("#send-wait", "You can ask for another code in")
	if !evalAs[bool](b, `document.getElementById("send-code").disabled`) || b.text("#send-code") != "Send again" {
		t.Errorf(`after sending: the button is %q, disabled %v; want "Send again", disabled`, b.text("#send-code"), evalAs[bool](b, `document.getElementById("send-code").disabled`))
	}
	b.shot("24-verify-sms-sent")
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].To != "+16502530067" {
		t.Fatalf("texts sent: %+v, want one to +16502530067", msgs)
	}
	loginCode := ""
	for _, w := range strings.Fields(msgs[0].Body) {
		if w = strings.TrimSuffix(w, "."); len(w) == 6 && strings.Trim(w, "0123456789") == "" {
			loginCode = w
		}
	}
	if loginCode == "" {
		t.Fatalf("no login code in %q", msgs[0].Body)
	}
	b.fill("input[name=code]", loginCode)
	b.submit("#verify-form")
	b.waitText("#app .badge", "Enabled")
	b.waitText("#sms-settings-note", "To use another phone")
}

// TestDesktopProductionStarts starts the production binary under Xvfb: the window shows the login
// screen (checked in a screenshot of the display), and SIGTERM closes it cleanly.
func TestDesktopProductionStarts(t *testing.T) {
	bin := desktoptest.Binary(t, "GATEHOUSE_BINARY")
	display := desktoptest.Xvfb(t)
	cmd, _ := desktoptest.StartConsole(t, bin, display)
	shot := filepath.Join(browsertest.ShotsDir(), "00-production-login.png")

	// WebKit takes a few seconds to start under Xvfb: poll until the login screen is drawn.
	var last loginScreenStats
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := desktoptest.Screenshot(display, shot); err == nil {
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

	// Issue 9 F10: the print dialog's "Print to File" wrote the recovery codes' PDF 0644 into
	// the working directory. The console runs with umask 077, so everything it writes, that
	// PDF included, is private to its user.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^Umask:\s*(\d+)$`).FindSubmatch(status); m == nil || string(m[1]) != "0077" {
		t.Errorf("the console's umask: %q, want 0077", m)
	}

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

// browser drives one Chromium tab; every step fails the test with the step's name.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
	w, h  int64 // the viewport a test set (size); 0: the window's own
}

// shotSizes are the console's window sizes every screen is looked at in: the default window
// and the smallest the console is used at.
var shotSizes = [][2]int64{{1280, 800}, {820, 600}}

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
	if err := browsertest.WaitFor(b.ctx, js, 20*time.Second); err != nil {
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

// shot keeps a screenshot of the screen at each of shotSizes (name-1280x800.png, …), then puts
// the viewport back.
func (b *browser) shot(name string) {
	b.t.Helper()
	for _, sz := range shotSizes {
		b.do(chromedp.EmulateViewport(sz[0], sz[1]))
		time.Sleep(150 * time.Millisecond) // the layout of the new width painted
		browsertest.Shot(b.t, b.ctx, b.shots, fmt.Sprintf("%s-%dx%d", name, sz[0], sz[1]))
	}
	if b.w != 0 {
		b.do(chromedp.EmulateViewport(b.w, b.h))
	} else {
		b.do(chromedp.EmulateViewport(shotSizes[0][0], shotSizes[0][1]))
	}
}

// TestAdminUnlocks: the console shows an account locked after too many failed attempts, and
// "Unlock" lets its user in again.
func TestAdminUnlocks(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	hank := mustUser(t, admin, NewUserForm{Username: "hank", Password: "hanks long password"})
	if u, _ := admin.User(hank.ID); u.LockedUntil != "" {
		t.Fatalf("a new user: LockedUntil %q, want none", u.LockedUntil)
	}
	ha := e.app()
	for i := range 10 {
		e.clock.Advance(31 * time.Second)
		_, err := ha.Login("hank", fmt.Sprintf("wrong password %d", i))
		wantCode(t, ha, err, backend.EUNAUTHORIZED)
	}
	_, err := ha.Login("hank", "hanks long password")
	wantCode(t, ha, err, backend.ETOOMANY) // locked, and said so
	want := e.clock.Now().Add(15 * time.Minute).Format(time.RFC3339)
	if u, _ := admin.User(hank.ID); u.LockedUntil != want {
		t.Errorf("after 10 failures: LockedUntil %q, want %q", u.LockedUntil, want)
	}
	list, _ := admin.Users(UserQuery{Search: "hank"})
	if len(list.Users) != 1 || list.Users[0].LockedUntil != want {
		t.Errorf("Users(hank): %+v, want hank locked until %s", list.Users, want)
	}
	// Lifting a lock needs the administrator's password, confirmed recently (the login counts
	// as a confirmation for ReauthWindow: let it pass, the lock lasts longer).
	e.clock.Advance(11 * time.Minute)
	_, err = admin.UnlockUser(hank.ID)
	wantCode(t, admin, err, backend.EREAUTH)
	if err := admin.ConfirmPassword(adminPassword); err != nil {
		t.Fatal(err)
	}
	u, err := admin.UnlockUser(hank.ID)
	if err != nil || u.LockedUntil != "" {
		t.Fatalf("UnlockUser = %+v, %v; want unlocked", u, err)
	}
	e.login(ha, "hank", "hanks long password", "done")
	_, err = admin.UnlockUser(hank.ID)
	wantCode(t, admin, err, backend.ECONFLICT)
}

// TestConsoleShowsBackendsWords: the console gets its keys, labels, actions, sentences, form
// rules and recovery-code sheet from backend, the same the web shows (backend/web tests assert
// the same functions): a front end deciding any of them itself would fail here.
func TestConsoleShowsBackendsWords(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	if err := admin.ConfirmPassword(adminPassword); err != nil {
		t.Fatal(err)
	}
	ivy := mustUser(t, admin, NewUserForm{Username: "ivy", DisplayName: "Ivy Iris", Password: "ivys long password"})
	stored := func() *backend.User {
		u, err := e.svc.User(context.Background(), e.svc.Operator(), ivy.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	// Keys and labels.
	v, _ := admin.User(ivy.ID)
	if v.TwoFactorStatus != backend.StatusNo || v.TwoFactorStatusLabel != backend.StatusNo.Label() || v.RoleLabel != backend.RoleUser.Label() || v.MethodLabel != backend.MethodNone.Label() {
		t.Errorf("ivy: %+v, want backend's keys and labels", v)
	}
	// The actions and their sentences: backend's, in backend's order.
	want := e.svc.UserActions(nil, stored())
	if len(v.Actions) != len(want) {
		t.Fatalf("actions %+v, want %+v", v.Actions, want)
	}
	for i, a := range want {
		if got := v.Actions[i]; got.Key != a.Key || got.Label != a.Label || got.Confirm != a.Confirm || got.Done != a.Done || got.NeedsPassword != a.NeedsPassword || got.Danger != a.Danger {
			t.Errorf("action %d: %+v, want %+v", i, got, a)
		}
	}
	if v.Actions[0].Key != backend.ActionRequireTwoFactor || v.Actions[0].Confirm != "Ivy Iris will now be required to enroll in Two-Factor Authentication upon log in." {
		t.Errorf("first action %+v, want Require Two-Factor with the help article's sentence", v.Actions[0])
	}

	// Disabled beats Locked, and a disabled account offers no Unlock.
	iv := e.app()
	for i := range 10 {
		e.clock.Advance(31 * time.Second)
		iv.Login("ivy", fmt.Sprintf("wrong password %d", i))
	}
	if v, _ := admin.User(ivy.ID); v.Account != backend.AccountLocked || v.AccountLabel != "Locked" || v.Actions[0].Key != backend.ActionUnlock {
		t.Errorf("locked ivy: account %q (%s), actions %+v; want locked, Unlock first", v.Account, v.AccountLabel, v.Actions)
	}
	if err := admin.ConfirmPassword(adminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateUser(ivy.ID, UserForm{DisplayName: "Ivy Iris", Role: backend.RoleUser, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	v, _ = admin.User(ivy.ID)
	if v.LockedUntil == "" || v.Account != backend.AccountDisabled || v.AccountLabel != backend.AccountDisabled.Label() {
		t.Errorf("disabled, locked ivy: locked until %q, account %q (%s); want Disabled", v.LockedUntil, v.Account, v.AccountLabel)
	}
	for _, a := range v.Actions {
		if a.Key == backend.ActionUnlock {
			t.Errorf("Unlock offered on a disabled account")
		}
	}

	// The forms' rules and defaults.
	f := admin.Forms()
	if f.MinPasswordLength != backend.MinPasswordLength || f.PasswordHintForUser != backend.PasswordHintForUser || f.PasswordHintOwn != backend.PasswordHintOwn ||
		f.RecoveryCodeCount != backend.RecoveryCodeCount || f.NewUser.MustChangePassword || f.NewUser.RequireTwoFactor || f.NewUser.Role != backend.RoleUser ||
		f.SetPasswordMustChange != backend.SetPasswordMustChange || len(f.Statuses) != 3 || f.Statuses[1].Label != backend.StatusPending.Label() {
		t.Errorf("Forms() = %+v, want backend's", f)
	}

	// The recovery-code sheet: printed and saved, backend's text.
	mustUser(t, admin, NewUserForm{Username: "jo", Password: "jos long password", RequireTwoFactor: true})
	jo := e.app()
	_, codes := e.enrollAtLogin(jo, "jo", "jos long password")
	sheet, err := jo.RecoveryCodeSheet()
	if err != nil {
		t.Fatal(err)
	}
	// Made a moment apart: equal but for the minute they were made in.
	undated := func(s string) string { return regexp.MustCompile(`(?m)^Created: .*$`).ReplaceAllString(s, "") }
	if want := e.svc.RecoveryCodeSheetText(&backend.RecoveryCodeSheet{Username: "jo", Codes: codes, Issued: time.Now()}); undated(sheet.Text) != undated(want) || !strings.Contains(sheet.Text, "Account: jo") || sheet.Replaced != "" {
		t.Errorf("sheet:\n%+v\nwant backend's:\n%s", sheet, want)
	}
	path, err := jo.SaveRecoveryCodes()
	if err != nil || filepath.Base(path) != backend.RecoveryCodeSheetFilename("jo") {
		t.Fatalf("SaveRecoveryCodes = %q, %v", path, err)
	}
	if saved, _ := os.ReadFile(path); string(saved) != sheet.Text {
		t.Errorf("saved file:\n%s\nwant the printed sheet:\n%s", saved, sheet.Text)
	}
	// The profile's actions, backend's.
	p, err := jo.Profile()
	if err != nil {
		t.Fatal(err)
	}
	var keys []backend.ActionKey
	for _, a := range p.Actions {
		keys = append(keys, a.Key)
	}
	if want := []backend.ActionKey{backend.ActionSetupTwoFactor, backend.ActionRegenerateRecoveryCodes, backend.ActionChangePassword}; !slices.Equal(keys, want) {
		t.Errorf("jo's profile actions %v, want %v (required: no Disable)", keys, want)
	}
}

// TestFormErrorsStayOnTheirForm pins issue 11 desktop 1 and 2: an error made while nobody is
// signed in (the first-administrator form, a wrong password on Log in) is not "signed out", so
// the front end shows it on that form with its fields kept; an ended login still is.
func TestFormErrorsStayOnTheirForm(t *testing.T) {
	e := newEnv(t)
	a := e.app()
	for _, f := range []NewUserForm{{}, {Username: "root", Password: "short"}} {
		_, err := a.CreateFirstAdmin(f)
		if v := wantCode(t, a, err, backend.EINVALID); v.SignedOut {
			t.Errorf("CreateFirstAdmin(%+v): signedOut true, want false", f)
		}
	}
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "kim", Password: "kims long password", RequireTwoFactor: true})
	k := e.app()
	_, err := k.Login("kim", "wrong password")
	if v := wantCode(t, k, err, backend.EUNAUTHORIZED); v.SignedOut {
		t.Errorf("wrong password: signedOut true, want false")
	}
	// A login at its enroll step that an administrator's change ends is signed out.
	e.login(k, "kim", "kims long password", "enroll")
	if err := k.Logout(); err != nil {
		t.Fatal(err)
	}
	_, err = k.BeginAppEnrollment()
	if v := wantCode(t, k, err, backend.EUNAUTHORIZED); !v.SignedOut {
		t.Errorf("after the login ended: signedOut false, want true")
	}
}

// TestConsoleNamesItsMachineAndVersion pins issue 11 desktop 5: the audit log's "From" of a
// console's change names the machine ("desktop on HOSTNAME"), About is backend's version text,
// and the forms say why SMS cannot work when it cannot (backend's sentence).
func TestConsoleNamesItsMachineAndVersion(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	mustUser(t, admin, NewUserForm{Username: "lee", Password: "lees long password"})
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Fatalf("os.Hostname: %q, %v", host, err)
	}
	log, err := admin.AuditLog(AuditQuery{Action: backend.AuditUserCreated})
	if err != nil || len(log.Events) == 0 {
		t.Fatalf("AuditLog: %+v, %v", log, err)
	}
	if got, want := log.Events[0].IP, "desktop on "+host; got != want {
		t.Errorf("audit From %q, want %q", got, want)
	}
	if got, want := admin.About(), backend.VersionText(); got != want || got == "" {
		t.Errorf("About() = %q, want backend.VersionText() %q", got, want)
	}
	_, why := e.svc.SMSAvailable()
	if f := admin.Forms(); f.SMSUnavailable != why || why == "" {
		t.Errorf("Forms().SMSUnavailable = %q, want %q", f.SMSUnavailable, why)
	}
	if f := newSMSEnv(t).app().Forms(); f.SMSUnavailable != "" {
		t.Errorf("with SMS: Forms().SMSUnavailable = %q, want none", f.SMSUnavailable)
	}
}

// TestDesktopIssue11InChromium drives the real front end of a dev build through what issue 11
// found in the console: form errors stay on their form (1, 2); screens refresh on focus, F5,
// Ctrl+R and Refresh, and a refused action on a stale screen shows the fresh state (4); the
// choice screen says SMS is not set up, cancelling the password prompt leaves it usable, the
// key wraps between its groups, the Profile's Two-Factor card is in view at 820×600, Ctrl+P
// prints, About shows the version (5); the printed sheet, as Chromium prints it to PDF with
// the print stylesheet, names the account and the System, keeps its 20 mm margins blank and
// has no grey band (3). Changes "from outside" are the Service's, on the console's data, as
// the web or the command line make them.
func TestDesktopIssue11InChromium(t *testing.T) {
	bin := desktoptest.Binary(t, "GATEHOUSE_DEV_BINARY")
	display := desktoptest.Xvfb(t)
	addr := browsertest.FreeAddr(t)
	assetDir, err := filepath.Abs("frontend/dist")
	if err != nil {
		t.Fatal(err)
	}
	dir, key := backendtest.DataDir(t)
	desktoptest.StartConsole(t, bin, display, "devserver="+addr, "assetdir="+assetDir, "GATEHOUSE_DATA="+dir)
	base := "http://" + addr + "/"
	browsertest.WaitHTTP(t, base)
	outside := backendtest.New(t, backendtest.InDataDir(dir, key), backendtest.WithRealClock())
	svc, op, bg := outside.Service, outside.Service.Operator(), context.Background()

	ctx, cancel := context.WithTimeout(browsertest.Start(t), 3*time.Minute)
	defer cancel()
	b := &browser{t: t, ctx: ctx, shots: browsertest.ShotsDir()}
	size := func(w, h int64) { b.t.Helper(); b.w, b.h = w, h; b.do(chromedp.EmulateViewport(w, h)) }
	size(1280, 800)
	b.do(chromedp.Navigate(base))
	value := func(sel string) string {
		t.Helper()
		return evalAs[string](b, fmt.Sprintf(`document.querySelector(%q).value`, sel))
	}
	key5 := func(k string, mods ...chromedp.Modifier) {
		t.Helper()
		var opts []chromedp.KeyOption
		if len(mods) > 0 {
			opts = append(opts, chromedp.KeyModifiers(mods...))
		}
		b.do(chromedp.KeyEvent(k, opts...))
	}

	// 1: the first-administrator form keeps its fields and shows its errors, empty or not.
	b.click("#first-admin")
	b.submit("form")
	b.waitText(".alert-error", "Enter a username.")
	b.wait("input[name=confirm]")
	b.fill("input[name=username]", "root")
	b.fill("input[name=displayName]", "Ada Admin")
	b.fill("input[name=password]", "short")
	b.fill("input[name=confirm]", "short")
	b.submit("form")
	b.waitText(".alert-error", "at least 8 characters")
	if u, n := value("input[name=username]"), value("input[name=displayName]"); u != "root" || n != "Ada Admin" {
		t.Errorf("after a short password: username %q, name %q; want the fields kept", u, n)
	}
	b.shot("30-first-admin-short-password")
	b.fill("input[name=password]", adminPassword)
	b.fill("input[name=confirm]", adminPassword)
	b.submit("form")
	b.waitText(".alert-info", backend.FirstAdminCreatedNotice(&backend.User{Username: "root"}))

	// 2: a wrong password keeps the username, clears the password and focuses it.
	b.login("root", "not the password")
	b.waitText("#app .alert-error", "Incorrect")
	if u, p := value("input[name=username]"), value("input[name=password]"); u != "root" || p != "" {
		t.Errorf("after a wrong password: username %q, password %q; want root kept, password cleared", u, p)
	}
	if f := evalAs[string](b, `document.activeElement.name || ""`); f != "password" {
		t.Errorf("after a wrong password the focus is on %q, want password", f)
	}
	b.shot("31-login-wrong-password")
	b.fill("input[name=password]", adminPassword)
	b.submit("#login-form")
	b.wait("#users-table")

	// 4: changes from outside appear on focus, F5, Ctrl+R and Refresh.
	bob := backendtest.CreateUser(t, svc, op, backend.NewUser{Username: "bob", DisplayName: "Bob Baker", Password: "bobs long password"})
	b.eval(`window.dispatchEvent(new Event("focus")); true`)
	b.waitText("#users-table", "bob")
	b.click(`#users-table tr[data-username="bob"]`)
	b.waitText("#two-factor-status", "No")
	if _, err := svc.RequireTwoFactor(bg, op, bob.ID); err != nil {
		t.Fatal(err)
	}
	key5(kb.F5)
	b.waitText("#two-factor-status", "Pending setup on next login")
	if _, err := svc.DisableTwoFactor(bg, op, bob.ID); err != nil {
		t.Fatal(err)
	}
	key5("r", chromedp.ModifierCtrl)
	b.waitText("#two-factor-status", "No")
	if _, err := svc.RequireTwoFactor(bg, op, bob.ID); err != nil {
		t.Fatal(err)
	}
	b.click("#refresh")
	b.waitText("#two-factor-status", "Pending setup on next login")
	// A stale screen's action, refused: the dialog closes, the fresh state shows with the reason.
	b.click("#edit-user")
	b.wait("#disable-two-factor")
	if _, err := svc.DisableTwoFactor(bg, op, bob.ID); err != nil {
		t.Fatal(err)
	}
	b.click("#disable-two-factor")
	b.submit(".modal")
	b.waitText("#app .alert-error", "nothing to disable")
	b.waitText("#two-factor-status", "No")
	if evalAs[bool](b, `!!document.querySelector(".overlay")`) {
		t.Error("the dialog stays open after its action was refused")
	}
	b.shot("32-refused-shows-fresh-state")

	// 5: About shows backend's version text, the one `gatehouse version` prints.
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GATEHOUSE_DATA="+t.TempDir())
	version, err := cmd.Output()
	if err != nil {
		t.Fatalf("gatehouse version: %v", err)
	}
	b.eval(`document.getElementById("about").click(); true`)
	b.waitText("#version-text", strings.TrimSpace(string(version)))
	b.shot("33-about")
	b.submit(".modal")

	// 5: the Two-Factor card of the Profile is in view at 820×600 without scrolling.
	b.eval(`document.querySelector(".user-menu .menu button").click(); true`)
	b.wait("#two-factor-card")
	size(820, 600)
	if bottom := evalAs[float64](b, `document.getElementById("two-factor-card").getBoundingClientRect().bottom`); bottom > 600 {
		t.Errorf("at 820×600 the Two-Factor card ends at %.0f px, below the fold", bottom)
	}
	b.shot("34-profile")

	// 5: the choice screen says SMS is not set up, with backend's sentence.
	b.click("#setup-two-factor")
	_, why := svc.SMSAvailable()
	b.waitText("#sms-unavailable", why)
	if !evalAs[bool](b, `document.getElementById("use-sms").disabled`) {
		t.Error(`SMS is off, and "Use SMS" is offered as working`)
	}
	b.shot("35-choice-sms-off")
	size(1280, 800)
	// 5: cancelling the password prompt of Use an App leaves the choice usable. The login
	// counted as a confirmation of the password: age it, as ten minutes would.
	ageSessionsReauth(t, dir)
	b.click("#use-app")
	reauth := `.modal[aria-label="Confirm your password"]`
	b.wait(reauth)
	b.click(reauth + " .btn-secondary")
	b.wait("#use-app")
	b.waitText("#app h1", "Set up Two-Factor Authentication")
	b.shot("36-choice-after-cancel")
	b.click("#use-app")
	b.fill(reauth+" input[type=password]", adminPassword)
	b.submit(reauth)
	b.wait("#totp-key")
	// 5: the key wraps between groups of four, never inside one (narrow to make it wrap).
	totpKey := b.text("#totp-key")
	for _, w := range []int64{1280, 820, 600} {
		size(w, 800)
		groups := evalAs[[]int](b, `[...document.querySelectorAll("#totp-key .key-group")].map(g => g.getClientRects().length)`)
		if len(groups) != len(strings.Fields(totpKey)) || slices.ContainsFunc(groups, func(n int) bool { return n != 1 }) {
			t.Errorf("at %d px the key's groups take %v lines each, want 1 each for %q", w, groups, totpKey)
		}
	}
	size(820, 600)
	b.shot("37-use-an-app")
	size(1280, 800)
	b.fill("input[name=code]", backendtest.TOTP(t, totpKey, time.Now()))
	b.submit("#enroll-app-form")
	b.wait("#recovery-codes")
	codes := strings.Fields(b.text("#recovery-codes"))
	b.do(chromedp.WaitReady(chromedp.CSS("#print-root pre"))) // shown only in print

	// 5: Ctrl+P prints (window.print stubbed: the GTK dialog is modal).
	b.eval(`window.__printed = 0; window.print = () => { window.__printed++; }; true`)
	key5("p", chromedp.ModifierCtrl)
	if n := evalAs[int](b, `window.__printed`); n != 1 {
		t.Errorf("Ctrl+P: window.print called %d times, want 1", n)
	}

	// 3: the printed sheet, as Chromium prints it with the print stylesheet, backgrounds on.
	// No margins of the browser's own: the page's are the print stylesheet's @page.
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFMargin(0), chromedp.PDFPrintBackground(), chromedp.PDFPreferCSSPageSize()))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	sheet := evalAs[string](b, `document.querySelector("#print-root pre").textContent`) // shown only in print
	if !strings.Contains(sheet, "Account: root\n") {
		t.Fatalf("the sheet to print is %q, want backend's text for root", sheet)
	}
	checkPrintedSheet(t, pdf, "root", codes)
	checkSheetLines(t, pdf, sheet)
	if evalAs[bool](b, `!document.getElementById("codes-replaced").hidden`) {
		t.Error("the first set of codes says old codes stopped working")
	}

	// Regenerate: the new codes' screen says the old ones stopped working, backend's sentence.
	b.click("#codes-saved")
	b.click("#codes-continue")
	b.wait("#two-factor-card")
	b.click("#regenerate-recovery-codes")
	b.submit(".modal")
	b.wait("#recovery-codes")
	b.waitText("#codes-replaced", backend.RecoveryCodesReplacedText)
	size(820, 600)
	if bottom := evalAs[float64](b, `document.getElementById("codes-continue").getBoundingClientRect().bottom`); bottom > 600 {
		t.Errorf("at 820×600 the new codes' Continue ends at %.0f px, below the fold", bottom)
	}
	size(1280, 800)
	b.shot("39-regenerated-codes")
	// Disable, the profile's own: its pop-up, then No.
	b.click("#codes-saved")
	b.click("#codes-continue")
	b.click("#" + string(backend.ActionDisableOwnTwoFactor))
	b.wait(".modal")
	b.shot("40-disable-own-dialog")
	b.submit(".modal")
	b.waitText("#app .badge", "No")
	b.shot("41-profile-disabled")
}

// checkSheetLines checks that each line of the sheet's text (backend's, as Save writes it) is
// one line of the printed page: none wraps across the A4 width between the 20 mm margins.
func checkSheetLines(t *testing.T, pdf []byte, sheet string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "sheet.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-raw", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (Debian poppler-utils): %v", err)
	}
	printed := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		printed[strings.Join(strings.Fields(l), " ")] = true
	}
	for _, l := range strings.Split(sheet, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" && !printed[l] {
			t.Errorf("the sheet's line %q is not one printed line: it wraps on A4. Printed:\n%s", l, out)
		}
	}
}

// checkPrintedSheet checks a printed recovery-code sheet with poppler-utils: its text names the
// account and the System and holds every code; rendered, its 20 mm margins are blank, the text
// starts at them, and no band of grey (or any colour) crosses the page.
func checkPrintedSheet(t *testing.T, pdf []byte, account string, codes []string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "sheet.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (Debian poppler-utils): %v", err)
	}
	for _, want := range append([]string{`Account:\s+` + account + `\n`, `System:\s+Gatehouse\b`, "Gatehouse recovery codes"}, codes...) {
		if !regexp.MustCompile(want).Match(text) {
			t.Errorf("printed sheet lacks %q:\n%s", want, text)
		}
	}
	if len(codes) != backend.RecoveryCodeCount {
		t.Errorf("%d codes on screen, want %d", len(codes), backend.RecoveryCodeCount)
	}
	// 72 dpi: 20 mm is 56.7 px.
	if out, err := exec.Command("pdftoppm", "-r", "72", "-png", "-f", "1", "-l", "1", "-singlefile", file, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if shots := browsertest.ShotsDir(); os.MkdirAll(shots, 0o755) == nil {
		if data, err := os.ReadFile(filepath.Join(dir, "page.png")); err == nil {
			os.WriteFile(filepath.Join(shots, "38-printed-sheet.png"), data, 0o644)
		}
	}
	r := img.Bounds()
	white := func(x, y int) bool {
		c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
		return c.R > 245 && c.G > 245 && c.B > 245
	}
	const margin = 55 // px at 72 dpi, just under 20 mm
	minX, minY, maxX := r.Max.X, r.Max.Y, r.Min.X
	for y := r.Min.Y; y < r.Max.Y; y++ {
		rowInk := 0
		for x := r.Min.X; x < r.Max.X; x++ {
			if white(x, y) {
				continue
			}
			rowInk++
			minX, minY, maxX = min(minX, x), min(minY, y), max(maxX, x)
		}
		if rowInk > r.Dx()/2 {
			t.Errorf("row %d of the printed page is %d/%d px not white: a band across the page", y, rowInk, r.Dx())
			break
		}
	}
	if minX < margin || minY < margin || maxX > r.Max.X-margin {
		t.Errorf("printed ink spans x %d–%d, from y %d on a %dx%d page; want the 20 mm (%d px) margins blank", minX, maxX, minY, r.Dx(), r.Dy(), margin)
	}
	if minX > margin+15 || minY > margin+15 {
		t.Errorf("printed text starts at x %d, y %d; want it at the 20 mm margin (%d px)", minX, minY, margin)
	}
}

// ageSessionsReauth makes the last confirmation of the password of every session in the data
// directory dir long past, as the ReauthWindow passing would on the console's real clock.
func ageSessionsReauth(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", backendtest.SQLitePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA busy_timeout = 5000; UPDATE sessions SET reauth_at = 1`); err != nil {
		t.Fatal(err)
	}
}

// TestAuditLogAsBackendSaysIt: the console's audit filter offers backend's kinds (the web's),
// and writes each event's time as backend does.
func TestAuditLogAsBackendSaysIt(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	f := admin.Forms()
	if len(f.AuditKinds) != len(backend.AuditKinds) {
		t.Fatalf("Forms().AuditKinds = %+v, want backend's %d kinds", f.AuditKinds, len(backend.AuditKinds))
	}
	for i, k := range backend.AuditKinds {
		if f.AuditKinds[i].Key != k.Key || f.AuditKinds[i].Label != k.Label {
			t.Errorf("kind %d: %+v, want %q %q", i, f.AuditKinds[i], k.Key, k.Label)
		}
	}
	p, err := admin.AuditLog(AuditQuery{Action: "login.", Limit: 10})
	if err != nil || len(p.Events) == 0 {
		t.Fatalf("AuditLog(login.) = %+v, %v; want the administrator's login", p, err)
	}
	for _, ev := range p.Events {
		at, err := time.Parse(time.RFC3339, ev.At)
		if err != nil || ev.Time != backend.FormatTime(at) {
			t.Errorf("event at %q shows %q, want %q", ev.At, ev.Time, backend.FormatTime(at))
		}
	}
}

// Administration → Applications through the bindings: the form's mistakes named field by
// field, nothing created; the password asked again as for the other administrators' changes;
// the client secret in the answer that made it and in no later view; edit with the redirect
// URIs one per line; regenerate; delete.
func TestAppAdministration(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	f := admin.Forms().Apps
	if f.Lead != backend.AppsLead || f.PasswordReason != backend.AppPasswordReason || len(f.Audiences) != 2 || len(f.Types) != 2 {
		t.Errorf("Forms().Apps = %+v, want backend's words and choices", f)
	}

	// Every mistake at once, each field named; nothing created.
	_, err := admin.CreateApp(AppForm{Name: " ", RedirectURIs: "http://wiki.example.com/cb\nhttps://*.example.com/cb", Audience: "everyone"})
	v := wantCode(t, admin, err, backend.EINVALID)
	if !slices.Equal(v.Fields, []string{backend.FieldName, backend.FieldRedirectURIs}) || !strings.Contains(v.Message, "wildcard") {
		t.Errorf("CreateApp(bad) = %+v, want the name and the redirect URIs named", v)
	}
	if list, _ := admin.Apps(AppQuery{}); list.Total != 0 {
		t.Fatalf("after a refused form: %d applications, want 0", list.Total)
	}

	// The password, confirmed at login, must be confirmed again after the window.
	e.clock.Advance(11 * time.Minute)
	form := AppForm{Name: "Wiki", RedirectURIs: "https://wiki.example.com/cb\n\nhttp://localhost:8080/cb\n", Audience: "admins", RequireTwoFactor: true}
	_, err = admin.CreateApp(form)
	wantCode(t, admin, err, backend.EREAUTH)
	if err := admin.ConfirmPassword(adminPassword); err != nil {
		t.Fatal(err)
	}
	made, err := admin.CreateApp(form)
	if err != nil {
		t.Fatal(err)
	}
	wiki := made.App
	if made.Secret == "" || made.Once != backend.SecretShownOnce || made.Notice != "Application Wiki created." {
		t.Errorf("CreateApp = %+v, want the secret with backend's sentences", made)
	}
	if !slices.Equal(wiki.RedirectURIs, []string{"https://wiki.example.com/cb", "http://localhost:8080/cb"}) || wiki.Audience != "admins" ||
		wiki.AudienceLabel != "Administrators only" || !wiki.RequireTwoFactor || wiki.Public || wiki.TypeLabel != "Confidential (client secret)" {
		t.Errorf("created %+v", wiki)
	}
	// The audit log names the application in its own column, not as a user.
	if log, err := admin.AuditLog(AuditQuery{Action: backend.AuditAppCreated}); err != nil || log.Total != 1 ||
		log.Events[0].App != "Wiki" || log.Events[0].Target != "" {
		t.Errorf("AuditLog(app created) = %+v, %v; want Wiki as its application", log, err)
	}
	id, err := admin.signedIn()
	if err != nil {
		t.Fatal(err)
	}
	stored := func() *backend.App {
		t.Helper()
		x, err := e.svc.App(context.Background(), id, wiki.ID)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if !stored().CheckSecret(made.Secret) {
		t.Fatal("the secret shown does not work")
	}
	// The secret, and its hash, in no later answer.
	secrets := []string{made.Secret, stored().SecretHash}
	noSecret := func(what string, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s carries a secret or its hash: %s", what, b)
			}
		}
	}
	list, err := admin.Apps(AppQuery{})
	if err != nil || list.Total != 1 || list.Apps[0].ClientID != wiki.ClientID {
		t.Fatalf("Apps = %+v, %v", list, err)
	}
	noSecret("Apps", list)
	got, err := admin.Application(wiki.ID)
	if err != nil {
		t.Fatal(err)
	}
	noSecret("Application", got)
	if got.DeleteConfirm != backend.DeleteAppConfirmation(stored()) || got.RegenerateConfirm != backend.RegenerateSecretConfirmation(stored()) {
		t.Errorf("the pop-ups' sentences %q, %q: want backend's", got.DeleteConfirm, got.RegenerateConfirm)
	}

	// A public application has no secret.
	spa, err := admin.CreateApp(AppForm{Name: "Dashboard", RedirectURIs: "https://dash.example.com/cb", Public: true, Audience: "everyone"})
	if err != nil || spa.Secret != "" || spa.Once != "" || !spa.App.Public || spa.App.RegenerateConfirm != "" {
		t.Fatalf("CreateApp(public) = %+v, %v", spa, err)
	}
	_, err = admin.RegenerateAppSecret(spa.App.ID)
	wantCode(t, admin, err, backend.ECONFLICT)

	// Edit: a mistake is named and changes nothing; then the redirect URIs one per line.
	_, err = admin.UpdateApp(wiki.ID, AppForm{Name: "Wiki", RedirectURIs: "https://wiki.example.com/cb#x", Audience: "admins", RequireTwoFactor: true})
	if v := wantCode(t, admin, err, backend.EINVALID); !slices.Equal(v.Fields, []string{backend.FieldRedirectURIs}) {
		t.Errorf("UpdateApp(fragment): fields %v, want [%s]", v.Fields, backend.FieldRedirectURIs)
	}
	if x := stored(); len(x.RedirectURIs) != 2 {
		t.Errorf("a refused edit changed the URIs: %v", x.RedirectURIs)
	}
	saved, err := admin.UpdateApp(wiki.ID, AppForm{Name: "Team Wiki", RedirectURIs: "https://wiki.example.com/cb\r\nhttps://wiki2.example.com/cb", Audience: "everyone"})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Name != "Team Wiki" || !slices.Equal(saved.RedirectURIs, []string{"https://wiki.example.com/cb", "https://wiki2.example.com/cb"}) ||
		saved.Audience != "everyone" || saved.RequireTwoFactor || saved.Notice != "Application Team Wiki saved." {
		t.Errorf("UpdateApp = %+v", saved)
	}
	noSecret("UpdateApp", saved)

	// Protected domains (forward-auth), one per line like the URIs: a bad one is named and
	// changes nothing; good ones are stored lower-cased and shown; an empty field removes them.
	_, err = admin.UpdateApp(wiki.ID, AppForm{Name: "Team Wiki", RedirectURIs: "https://wiki.example.com/cb", Domains: "wiki.example.com:8443", Audience: "everyone"})
	if v := wantCode(t, admin, err, backend.EINVALID); !slices.Equal(v.Fields, []string{backend.FieldDomains}) {
		t.Errorf("UpdateApp(domain with a port): fields %v, want [%s]", v.Fields, backend.FieldDomains)
	}
	if x := stored(); len(x.Domains) != 0 || len(x.RedirectURIs) != 2 {
		t.Errorf("a refused edit changed the application: %+v", x)
	}
	withDomains, err := admin.UpdateApp(wiki.ID, AppForm{Name: "Team Wiki", RedirectURIs: "https://wiki.example.com/cb",
		Domains: "Wiki.Example.com\n*.tools.example.com", Audience: "everyone"})
	if err != nil || !slices.Equal(withDomains.Domains, []string{"wiki.example.com", "*.tools.example.com"}) {
		t.Fatalf("UpdateApp(domains) = %+v, %v", withDomains, err)
	}
	if got, _ := admin.Application(wiki.ID); !slices.Equal(got.Domains, withDomains.Domains) {
		t.Errorf("Application after the domains: %v", got.Domains)
	}
	if forms := admin.Forms(); forms.Apps.DomainsHelp != backend.AppDomainsHelp || forms.Apps.FieldDomains != backend.FieldDomains {
		t.Errorf("the forms' domains help and field: %+v", forms.Apps)
	}
	saved, err = admin.UpdateApp(wiki.ID, AppForm{Name: "Team Wiki", RedirectURIs: "https://wiki.example.com/cb\r\nhttps://wiki2.example.com/cb", Audience: "everyone"})
	if err != nil || len(saved.Domains) != 0 {
		t.Fatalf("UpdateApp(no domains) = %+v, %v; want them removed", saved, err)
	}

	// Regenerate: a new secret, shown once; the old one stops working.
	again, err := admin.RegenerateAppSecret(wiki.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Secret == "" || again.Secret == made.Secret || again.Once != backend.SecretShownOnce {
		t.Errorf("RegenerateAppSecret = %+v", again)
	}
	if x := stored(); x.CheckSecret(made.Secret) || !x.CheckSecret(again.Secret) {
		t.Error("after Regenerate: the old secret works or the new one does not")
	}
	secrets = append(secrets, again.Secret, stored().SecretHash)
	got, _ = admin.Application(wiki.ID)
	noSecret("Application after Regenerate", got)
	list, _ = admin.Apps(AppQuery{})
	noSecret("Apps after Regenerate", list)

	// Delete.
	notice, err := admin.DeleteApp(wiki.ID)
	if err != nil || notice != "Application Team Wiki deleted." {
		t.Fatalf("DeleteApp = %q, %v", notice, err)
	}
	_, err = admin.Application(wiki.ID)
	wantCode(t, admin, err, backend.ENOTFOUND)
	_, err = admin.DeleteApp(wiki.ID)
	wantCode(t, admin, err, backend.ENOTFOUND)
	if list, _ := admin.Apps(AppQuery{}); list.Total != 1 || list.Apps[0].Name != "Dashboard" {
		t.Errorf("after Delete: %+v", list)
	}
}

// TestDesktopApplicationsInChromium runs Administration → Applications in the real front end
// with the real bindings: the list, New Application with its mistakes marked and kept, the
// password asked again with backend's reason, the client secret shown once with Copy and on no
// later screen, Edit with the redirect URIs one per line, Regenerate secret and Delete with
// backend's sentences.
func TestDesktopApplicationsInChromium(t *testing.T) {
	bin := desktoptest.Binary(t, "GATEHOUSE_DEV_BINARY")
	display := desktoptest.Xvfb(t)
	addr := browsertest.FreeAddr(t)
	assetDir, err := filepath.Abs("frontend/dist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(assetDir, "index.html")); err != nil {
		t.Fatalf("the front end is not built (cd frontend && npm run build): %v", err)
	}
	_, data := desktoptest.StartConsole(t, bin, display, "devserver="+addr, "assetdir="+assetDir)
	base := "http://" + addr + "/"
	browsertest.WaitHTTP(t, base)
	ctx, cancel := context.WithTimeout(browsertest.Start(t), 2*time.Minute)
	defer cancel()
	b := &browser{t: t, ctx: ctx, shots: browsertest.ShotsDir()}
	b.do(chromedp.EmulateViewport(1280, 800), chromedp.Navigate(base))
	value := func(sel string) string {
		t.Helper()
		return evalAs[string](b, fmt.Sprintf(`document.querySelector(%q).value`, sel))
	}
	invalid := func(sel string) bool {
		t.Helper()
		return evalAs[bool](b, fmt.Sprintf(`document.querySelector(%q).getAttribute("aria-invalid") === "true"`, sel))
	}
	storedHash := func() string {
		t.Helper()
		db, err := sql.Open("sqlite", backendtest.SQLitePath(data))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var h string
		if err := db.QueryRow(`SELECT secret_hash FROM apps WHERE name = 'Team Wiki'`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	sha := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

	b.click("#first-admin")
	b.fill("input[name=username]", "root")
	b.fill("input[name=password]", adminPassword)
	b.fill("input[name=confirm]", adminPassword)
	b.submit("form")
	b.login("root", adminPassword)
	b.wait("#users-table")
	b.eval(`document.getElementById("menu-apps").click(); true`)
	b.waitText("#apps-empty", backend.NoAppsText)
	b.waitText("#apps-lead", backend.AppsLead)
	b.shot("30-apps-empty")

	// New Application: every mistake at once, the fields named marked, what was typed kept.
	b.click("#new-app")
	b.wait("#new-app-form")
	b.fill("#f-redirect-uris", "http://wiki.example.com/cb")
	b.submit("#new-app-form")
	b.waitText(".alert-error", "Enter a name for the application.")
	b.waitText(".alert-error", "must use https")
	if !invalid("input[name=name]") || !invalid("#f-redirect-uris") || invalid("input[name=backchannelLogoutUri]") {
		t.Error("New Application: the name and redirect URIs not marked, or the back-channel URI marked")
	}
	if got := value("#f-redirect-uris"); got != "http://wiki.example.com/cb" {
		t.Errorf("after the refused form the redirect URIs hold %q", got)
	}
	b.shot("31-new-app-errors")
	b.fill("input[name=name]", "Team Wiki")
	b.fill("#f-redirect-uris", "https://wiki.example.com/cb\nhttp://localhost:8080/cb")
	b.click("#f-audience-admins")
	b.click("#f-require-two-factor")
	b.shot("32-new-app")
	// The password confirmed at login has aged: it is asked again, with backend's reason.
	ageSessionsReauth(t, data)
	b.submit("#new-app-form")
	reauth := `.modal[aria-label="Confirm your password"]`
	b.waitText(reauth, backend.AppPasswordReason)
	if invalid("#f-redirect-uris") || invalid("input[name=name]") {
		t.Error("a field still marked after its mistake was put right")
	}
	b.shot("32b-new-app-reauth")
	b.fill(reauth+" input[type=password]", adminPassword)
	b.submit(reauth)

	// The secret, once, with Copy.
	b.wait("#client-secret")
	secret := value("#client-secret")
	if len(secret) != 43 || sha(secret) != storedHash() {
		t.Fatalf("the secret shown (%q) is not the application's", secret)
	}
	b.waitText("#secret-once", backend.SecretShownOnce)
	b.waitText("#status-bar", backend.AppCreatedNotice(&backend.App{Name: "Team Wiki"}))
	b.eval(`window.__copied = ""; navigator.clipboard.writeText = async (s) => { window.__copied = s; }; true`)
	b.click("#copy-secret")
	b.waitText(".alert-success", "Copied")
	if got := evalAs[string](b, `window.__copied`); got != secret {
		t.Errorf("Copy put %q on the clipboard, want the secret", got)
	}
	b.shot("33-app-secret")
	notOnScreen := func(where string, secrets ...string) {
		t.Helper()
		for _, s := range secrets {
			if evalAs[bool](b, fmt.Sprintf(`document.documentElement.outerHTML.includes(%q) || [...document.querySelectorAll("input,textarea")].some(e => e.value.includes(%q))`, s, s)) {
				t.Errorf("%s: a client secret is on screen", where)
			}
		}
	}
	b.click("#secret-done")
	b.wait("#app-details")
	notOnScreen("the application's page", secret)
	if got := b.text("#redirect-uris"); got != "https://wiki.example.com/cb\nhttp://localhost:8080/cb" {
		t.Errorf("redirect URIs shown: %q", got)
	}
	b.shot("34-app-page")
	b.click("#refresh")
	b.wait("#app-details")
	notOnScreen("the application's page after Refresh", secret)

	// Edit: a mistake is shown and marked, the typing kept; then the URIs one per line.
	b.click("#edit-app")
	b.wait("#edit-app-form")
	if got := value("#f-redirect-uris"); got != "https://wiki.example.com/cb\nhttp://localhost:8080/cb" {
		t.Errorf("Edit shows the redirect URIs as %q, want one per line", got)
	}
	b.fill("#f-redirect-uris", "https://wiki.example.com/cb#top")
	b.submit("#edit-app-form")
	b.waitText("#edit-app-form .alert-error", "must not have a fragment")
	if !invalid("#f-redirect-uris") || invalid("input[name=name]") || value("#f-redirect-uris") != "https://wiki.example.com/cb#top" {
		t.Error("Edit: the redirect URIs not marked or not kept, or the name marked")
	}
	b.shot("35-edit-app-error")
	b.fill("#f-redirect-uris", "https://wiki.example.com/cb\n\nhttps://wiki2.example.com/cb\nhttp://127.0.0.1:9000/cb")
	b.submit("#edit-app-form")
	b.waitText("#status-bar", backend.AppUpdatedNotice(&backend.App{Name: "Team Wiki"}))
	if n := evalAs[int](b, `document.querySelectorAll("#redirect-uris li").length`); n != 3 {
		t.Errorf("after Edit: %d redirect URIs, want 3", n)
	}
	b.shot("36-app-saved")

	// Regenerate secret: backend's sentence, a new secret once; the old one no longer stored.
	wiki := &backend.App{Name: "Team Wiki"}
	b.click("#regenerate-secret")
	b.waitText(".modal", backend.RegenerateSecretConfirmation(wiki))
	b.shot("37-regenerate-dialog")
	b.submit(".modal")
	b.wait("#client-secret")
	again := value("#client-secret")
	if again == secret || sha(again) != storedHash() {
		t.Errorf("after Regenerate the screen shows %q, not the new secret", again)
	}
	b.waitText("#status-bar", backend.AppSecretRegeneratedNotice(wiki))
	b.shot("37b-new-secret")
	b.click("#secret-done")
	b.wait("#app-details")
	notOnScreen("the application's page after Regenerate", secret, again)

	// The list.
	b.eval(`document.getElementById("menu-apps").click(); true`)
	row := `#apps-table tr[data-name="Team Wiki"]`
	b.waitText(row, "Administrators only")
	if got := b.text(row); !strings.Contains(got, "Confidential (client secret)") || !strings.Contains(got, "gh-") || !strings.HasSuffix(got, "Yes") {
		t.Errorf("the list's row: %q", got)
	}
	notOnScreen("the list", secret, again)
	b.shot("38-apps-list")

	// Delete, with backend's sentence.
	b.click(row)
	b.click("#delete-app")
	b.waitText(".modal", backend.DeleteAppConfirmation(wiki))
	b.shot("39-delete-dialog")
	b.submit(".modal")
	b.waitText("#status-bar", backend.AppDeletedNotice(wiki))
	b.waitText("#apps-empty", backend.NoAppsText)
	b.shot("39b-deleted")
}

// TestKeysInConsole: the console lists a person's security keys and removes them, and says
// that keys are added in a browser, linking to the web page (its window has no WebAuthn); an
// administrator lists and removes a user's keys.
func TestKeysInConsole(t *testing.T) {
	h := backendtest.New(t, backendtest.WithConfig(func(c *backend.Config) { c.PublicURL = "https://gatehouse.example.com" }))
	e := fromHarness(h)
	admin := e.admin()
	bob, err := admin.CreateUser(NewUserForm{Username: "bob", Password: adminPassword, Role: backend.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	console := e.app()
	e.login(console, "bob", adminPassword, "done")
	for i, name := range []string{"YubiKey", "laptop"} {
		k := &backend.WebAuthnCredential{UserID: bob.ID, CredentialID: []byte(name), Name: name, Record: []byte(`{}`)}
		if i == 0 {
			err = h.Store.EnableWebAuthn(t.Context(), k, nil)
		} else {
			err = h.Store.AddWebAuthnCredential(t.Context(), k)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	p, err := console.Profile()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Keys) != 2 || p.Keys[0].Name != "YubiKey" || p.Keys[1].LastUsed != "Never" {
		t.Errorf("Profile keys: %+v, want YubiKey and laptop, never used", p.Keys)
	}
	if p.KeysNote != backend.KeysInBrowserText || p.KeysURL != "https://gatehouse.example.com/profile/two-factor/key" {
		t.Errorf("keys note %q, link %q", p.KeysNote, p.KeysURL)
	}
	notice, err := console.RemoveOwnKey(p.Keys[0].ID)
	if err != nil || notice != backend.KeyRemovedNotice {
		t.Fatalf("RemoveOwnKey: %q, %v", notice, err)
	}

	keys, err := admin.UserKeys(bob.ID)
	if err != nil || len(keys) != 1 || keys[0].Name != "laptop" {
		t.Fatalf("UserKeys: %+v, %v; want laptop alone", keys, err)
	}
	if _, err := console.UserKeys(bob.ID); err == nil {
		t.Error("UserKeys for a non-administrator: no error")
	}
	u, err := admin.RemoveUserKey(bob.ID, keys[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.TwoFactorStatus != backend.StatusNo {
		t.Errorf("status after the last key went: %q, want No", u.TwoFactorStatusLabel)
	}
}
