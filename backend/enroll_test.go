package backend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/skip2/go-qrcode"

	"gatehouse/backend"
)

// recoveryCodePattern is XXXX-XXXX-XXXX-XXXX over Crockford's base32 (no I, L, O, U).
var recoveryCodePattern = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

func TestAppEnrollment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	id := e.identity(st.SessionToken)
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPassword)

	// From the profile, enrollment needs the password again.
	_, err := e.svc.BeginAppEnrollment(ctx, id)
	wantCode(t, "BeginAppEnrollment without ConfirmPassword", err, backend.EREAUTH)
	wantCode(t, "ConfirmPassword with a wrong password", e.svc.ConfirmPassword(ctx, id, "not the password"), backend.EUNAUTHORIZED)
	_, err = e.svc.BeginAppEnrollment(ctx, id)
	wantCode(t, "BeginAppEnrollment after a wrong ConfirmPassword", err, backend.EREAUTH)
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatalf("ConfirmPassword: %v", err)
	}
	// The confirmation belongs to the session, not to this Identity value.
	id = e.identity(st.SessionToken)
	en, err := e.svc.BeginAppEnrollment(ctx, id)
	if err != nil {
		t.Fatalf("BeginAppEnrollment after ConfirmPassword: %v", err)
	}

	// The otpauth URI: Google Authenticator's key-uri format with our parameters.
	key, err := otp.NewKeyFromURL(en.URI)
	if err != nil {
		t.Fatalf("parse URI %q: %v", en.URI, err)
	}
	for _, c := range []struct{ what, got, want string }{
		{"scheme", strings.SplitN(en.URI, ":", 2)[0], "otpauth"},
		{"type", key.Type(), "totp"},
		{"issuer", key.Issuer(), "Gatehouse"},
		{"account", key.AccountName(), "alice"},
		{"algorithm", key.Algorithm().String(), "SHA1"},
		{"digits", key.Digits().String(), "6"},
	} {
		if c.got != c.want {
			t.Errorf("URI %s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if key.Period() != 30 {
		t.Errorf("URI period: got %d, want 30", key.Period())
	}

	// The key for typing: base32 in groups of four, the same secret as the URI's, ≥160 bits.
	if !regexp.MustCompile(`^([A-Z2-7]{4} )*[A-Z2-7]{1,4}$`).MatchString(en.Key) {
		t.Errorf("key: got %q, want base32 in groups of four", en.Key)
	}
	secret := decodeKey(t, en.Key)
	if bits := len(secret) * 8; bits < 160 {
		t.Errorf("secret: got %d bits, want at least 160", bits)
	}
	if got, want := strings.ReplaceAll(en.Key, " ", ""), key.Secret(); got != want {
		t.Errorf("key: got %q, want the URI's secret %q", got, want)
	}

	// The QR code is a PNG of the URI.
	img, err := png.Decode(bytes.NewReader(en.QRCodePNG))
	if err != nil {
		t.Fatalf("QR code: not a PNG: %v", err)
	}
	if !qrShows(img, en.URI) {
		t.Errorf("QR code: got an image that is not the QR code of %q", en.URI)
	}

	// Nothing changes until a code confirms the secret.
	if s := e.user(u.ID).TwoFactorStatus(); s != backend.StatusNo {
		t.Errorf("status before confirming: got %q, want %q", s, backend.StatusNo)
	}
	now := e.clock.Now()
	// A blank code asks for the code rather than saying it does not match.
	for _, blank := range []string{"", "   "} {
		_, err := e.svc.ConfirmAppEnrollment(ctx, id, blank)
		wantCode(t, fmt.Sprintf("ConfirmAppEnrollment(%q)", blank), err, backend.EINVALID)
		if got, want := backend.ErrorMessage(err), "Enter the 6-digit code from your app."; got != want {
			t.Errorf("ConfirmAppEnrollment(%q): got message %q, want %q", blank, got, want)
		}
	}
	for _, bad := range []string{totpCode(t, secret, now.Add(5*time.Minute)), "000000", "12345", "abcdef"} {
		if bad == totpCode(t, secret, now) {
			continue
		}
		_, err := e.svc.ConfirmAppEnrollment(ctx, id, bad)
		wantCode(t, "ConfirmAppEnrollment("+bad+")", err, backend.EINVALID)
	}
	if s := e.user(u.ID).TwoFactorStatus(); s != backend.StatusNo {
		t.Errorf("status after wrong codes: got %q, want %q", s, backend.StatusNo)
	}

	res, err := e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, secret, now))
	if err != nil {
		t.Fatalf("ConfirmAppEnrollment with the right code: %v", err)
	}
	if res.Login != nil {
		t.Errorf("enrollment from the profile: got a login state %+v, want none", res.Login)
	}
	got := e.user(u.ID)
	if got.TwoFactorStatus() != backend.StatusEnabled || got.Method != backend.MethodApp {
		t.Errorf("after enrollment: got status %q method %q, want %q %q", got.TwoFactorStatus(), got.Method, backend.StatusEnabled, backend.MethodApp)
	}
	checkRecoveryCodes(t, res.RecoveryCodes)
	if n, err := e.svc.RecoveryCodesLeft(ctx, id); err != nil || n != 5 {
		t.Errorf("RecoveryCodesLeft: got %d, %v, want 5, nil", n, err)
	}
	if ev := e.auditEvents(backend.AuditTwoFactorEnrolled); len(ev) != 1 || ev[0].TargetID != u.ID || ev[0].ActorID != u.ID || ev[0].Detail != "authenticator app" {
		t.Errorf("audit %s: got %v, want one event for alice by alice, detail authenticator app", backend.AuditTwoFactorEnrolled, ev)
	}

	// From now on the password alone is not enough.
	e.login("alice", goodPassword, backend.StepVerify)
}

// TestAppEnrollmentEndsOtherSessions: sessions opened with the password alone, before
// two-factor was on, end when it is turned on.
func TestAppEnrollmentEndsOtherSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	other := e.login("alice", goodPassword, backend.StepDone)
	e.enrollApp(e.identity(st.SessionToken), goodPassword)
	if _, err := e.svc.Authenticate(ctx, st.SessionToken); err != nil {
		t.Errorf("the enrolling session: got %v, want it alive", err)
	}
	_, err := e.svc.Authenticate(ctx, other.SessionToken)
	wantCode(t, "another session after enrollment", err, backend.EUNAUTHORIZED)
}

// TestAppEnrollmentRestartReplacesSecret: a second "Begin" voids the first secret.
func TestAppEnrollmentRestartReplacesSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	first, err := e.svc.BeginAppEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.BeginAppEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if first.Key == second.Key {
		t.Fatalf("two enrollments: got the same key twice")
	}
	_, err = e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, first.Key), e.clock.Now()))
	wantCode(t, "confirm with the replaced secret's code", err, backend.EINVALID)
	if _, err := e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, second.Key), e.clock.Now())); err != nil {
		t.Errorf("confirm with the current secret's code: got %v, want nil", err)
	}
	// The pending secret is gone once confirmed.
	_, err = e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, second.Key), e.clock.Now()))
	wantCode(t, "confirm twice", err, backend.ECONFLICT)
}

// TestReauthWindow: a confirmed password allows two-factor changes for 10 minutes.
func TestReauthWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	if e.svc.NeedsPasswordConfirmation(e.identity(st.SessionToken)) {
		t.Error("NeedsPasswordConfirmation right after login: got true, want false (the login confirmed it)")
	}
	e.clock.Advance(11 * time.Minute)
	if !e.svc.NeedsPasswordConfirmation(e.identity(st.SessionToken)) {
		t.Error("NeedsPasswordConfirmation 11 minutes after login: got false, want true")
	}
	if err := e.svc.ConfirmPassword(ctx, e.identity(st.SessionToken), goodPassword); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(9 * time.Minute)
	if e.svc.NeedsPasswordConfirmation(e.identity(st.SessionToken)) {
		t.Error("NeedsPasswordConfirmation 9 minutes after ConfirmPassword: got true, want false")
	}
	if _, err := e.svc.BeginAppEnrollment(ctx, e.identity(st.SessionToken)); err != nil {
		t.Errorf("9 minutes after ConfirmPassword: got %v, want nil", err)
	}
	e.clock.Advance(2 * time.Minute)
	if !e.svc.NeedsPasswordConfirmation(e.identity(st.SessionToken)) {
		t.Error("NeedsPasswordConfirmation 11 minutes after ConfirmPassword: got false, want true")
	}
	_, err := e.svc.BeginAppEnrollment(ctx, e.identity(st.SessionToken))
	wantCode(t, "11 minutes after ConfirmPassword", err, backend.EREAUTH)
}

func checkRecoveryCodes(t *testing.T, codes []string) {
	t.Helper()
	if len(codes) != 5 {
		t.Errorf("recovery codes: got %d, want 5", len(codes))
	}
	seen := make(map[string]bool)
	for _, c := range codes {
		if !recoveryCodePattern.MatchString(c) {
			t.Errorf("recovery code: got %q, want XXXX-XXXX-XXXX-XXXX", c)
		}
		if seen[c] {
			t.Errorf("recovery code %q: got it twice, want 5 unique", c)
		}
		seen[c] = true
	}
}

// qrShows reports whether img is the QR code of content, at some error correction level:
// it samples the middle of every module of go-qrcode's own rendering of content.
func qrShows(img image.Image, content string) bool {
	for _, level := range []qrcode.RecoveryLevel{qrcode.Low, qrcode.Medium, qrcode.High, qrcode.Highest} {
		q, err := qrcode.New(content, level)
		if err != nil {
			continue
		}
		bm := q.Bitmap()
		n := len(bm)
		b := img.Bounds()
		if b.Dx() != b.Dy() || b.Dx() < n {
			continue
		}
		// The middle pixel of module i, at any scale.
		mid := func(i int) int { return (2*i + 1) * b.Dx() / (2 * n) }
		match := true
		for y := 0; y < n && match; y++ {
			for x := 0; x < n && match; x++ {
				r, g, bl, _ := img.At(b.Min.X+mid(x), b.Min.Y+mid(y)).RGBA()
				dark := r+g+bl < 3*0x8000
				match = dark == bm[y][x]
			}
		}
		if match {
			return true
		}
	}
	return false
}

// TestTOTPReplay: a code is accepted once, in its own step and in the ±1 window after it
// (RFC 6238 §5.2), including the code that confirmed the enrollment.
func TestTOTPReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice") // at t0: step t0 is used by the confirmation
	enrollCode := totpCode(t, app.secret, t0)

	e.clock.Advance(10 * time.Second)
	st := e.login("alice", goodPassword, backend.StepVerify)
	_, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, enrollCode)
	wantCode(t, "the enrollment's code at login, same step", err, backend.EUNAUTHORIZED)
	// The next step's code is inside the window and unused: the refusal above was the replay.
	e.clock.Advance(20 * time.Second) // t0+30s
	code := totpCode(t, app.secret, e.clock.Now())
	if code == enrollCode {
		t.Skip("two consecutive steps have the same code (one in a million)")
	}
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, code); err != nil {
		t.Fatalf("a fresh code: got %v, want nil", err)
	}

	// The same code again, in the same step.
	st = e.login("alice", goodPassword, backend.StepVerify)
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, code)
	wantCode(t, "replay in the same step", err, backend.EUNAUTHORIZED)
	// 35 s later the code is still inside the ±1 window: only the record of its use refuses it.
	e.clock.Advance(35 * time.Second) // t0+65s: one step later
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, code)
	wantCode(t, "replay 35 s later", err, backend.EUNAUTHORIZED)
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, enrollCode)
	wantCode(t, "the enrollment's code, 2 steps later", err, backend.EUNAUTHORIZED)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now())); err != nil {
		t.Errorf("the current code after the replays: got %v, want nil", err)
	}
}

// TestTOTPConcurrent: one valid code submitted at once on 50 login attempts signs in once.
func TestTOTPConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice")
	e.clock.Advance(30 * time.Second)
	code := totpCode(t, app.secret, e.clock.Now())

	errs := raceLogins(t, e, "alice", 50, func(attempt string) error {
		_, err := e.svc.VerifyTOTP(ctx, attempt, code)
		return err
	})
	checkOneWinner(t, errs)
}

// TestRecoveryCodeConcurrent: one recovery code submitted at once on 50 login attempts signs
// in once.
func TestRecoveryCodeConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice")
	errs := raceLogins(t, e, "alice", 50, func(attempt string) error {
		_, err := e.svc.VerifyRecoveryCode(ctx, attempt, app.codes[0])
		return err
	})
	checkOneWinner(t, errs)
	id := e.signInWithRecoveryCode("alice", app.codes[1])
	if n, err := e.svc.RecoveryCodesLeft(ctx, id); err != nil || n != 3 {
		t.Errorf("RecoveryCodesLeft: got %d, %v, want 3, nil", n, err)
	}
}

// raceLogins opens n login attempts for the user and runs step on all of them at once.
func raceLogins(t *testing.T, e *env, username string, n int, step func(attempt string) error) []error {
	t.Helper()
	attempts := make([]string, n)
	for i := range attempts {
		attempts[i] = e.login(username, goodPassword, backend.StepVerify).AttemptToken
	}
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			<-start
			errs[i] = step(attempts[i])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func checkOneWinner(t *testing.T, errs []error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch backend.ErrorCode(err) {
		case "":
			wins++
		case backend.EUNAUTHORIZED:
		default:
			t.Errorf("a losing submission: got %v, want code %s", err, backend.EUNAUTHORIZED)
		}
	}
	if wins != 1 {
		t.Errorf("successful submissions: got %d, want exactly 1", wins)
	}
}

// signInWithRecoveryCode logs in with the password and a recovery code.
func (e *env) signInWithRecoveryCode(username, code string) *backend.Identity {
	e.t.Helper()
	st := e.login(username, goodPassword, backend.StepVerify)
	done, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, code)
	if err != nil {
		e.t.Fatalf("VerifyRecoveryCode(%s): %v", code, err)
	}
	return e.identity(done.SessionToken)
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	u, app := e.enrolledUser("alice")
	codes := app.codes

	// Case and hyphens do not matter.
	lower := strings.ToLower(strings.ReplaceAll(codes[0], "-", ""))
	id := e.signInWithRecoveryCode("alice", lower)
	if n, err := e.svc.RecoveryCodesLeft(ctx, id); err != nil || n != 4 {
		t.Errorf("RecoveryCodesLeft after one use: got %d, %v, want 4, nil", n, err)
	}
	ev := e.auditEvents(backend.AuditRecoveryCodeUsed)
	if len(ev) != 1 || ev[0].TargetID != u.ID || !strings.Contains(ev[0].Detail, "4") {
		t.Errorf("audit %s: got %v, want one event for alice with 4 codes left", backend.AuditRecoveryCodeUsed, ev)
	}

	// Used up.
	st := e.login("alice", goodPassword, backend.StepVerify)
	for _, c := range []string{codes[0], lower} {
		_, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, c)
		wantCode(t, "a used recovery code", err, backend.EUNAUTHORIZED)
	}
	// Not a recovery code: an unknown one, and the TOTP code.
	_, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, "0000-0000-0000-0000")
	wantCode(t, "an unknown recovery code", err, backend.EUNAUTHORIZED)
	_, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now().Add(30*time.Second)))
	wantCode(t, "a TOTP code as recovery code", err, backend.EUNAUTHORIZED)

	// Spaces for hyphens, mixed case: the next one, on the same attempt.
	mixed := strings.ReplaceAll(codes[1][:10], "-", " ") + strings.ToLower(codes[1][10:])
	done, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, mixed)
	if err != nil {
		t.Fatalf("VerifyRecoveryCode(%q): %v", mixed, err)
	}
	id = e.identity(done.SessionToken)
	if n, _ := e.svc.RecoveryCodesLeft(ctx, id); n != 3 {
		t.Errorf("RecoveryCodesLeft after two uses: got %d, want 3", n)
	}

	// Regenerating needs the password, and voids the old set.
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPassword)
	_, err = e.svc.RegenerateRecoveryCodes(ctx, id)
	wantCode(t, "RegenerateRecoveryCodes without ConfirmPassword", err, backend.EREAUTH)
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	fresh, err := e.svc.RegenerateRecoveryCodes(ctx, id)
	if err != nil {
		t.Fatalf("RegenerateRecoveryCodes: %v", err)
	}
	checkRecoveryCodes(t, fresh)
	for _, c := range fresh {
		for _, old := range codes {
			if c == old {
				t.Errorf("regenerated code %q: got one of the old set", c)
			}
		}
	}
	if n, _ := e.svc.RecoveryCodesLeft(ctx, id); n != 5 {
		t.Errorf("RecoveryCodesLeft after regenerating: got %d, want 5", n)
	}
	if len(e.auditEvents(backend.AuditRecoveryRegenerated)) != 1 {
		t.Errorf("audit %s: got none, want one", backend.AuditRecoveryRegenerated)
	}
	st = e.login("alice", goodPassword, backend.StepVerify)
	for _, old := range codes[2:] {
		_, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, old)
		wantCode(t, "an unused code of the voided set", err, backend.EUNAUTHORIZED)
	}
	if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, fresh[4]); err != nil {
		t.Errorf("a code of the new set: got %v, want nil", err)
	}

	// Counting down to zero, then nothing is left.
	for i, c := range fresh[:4] {
		id = e.signInWithRecoveryCode("alice", c)
		if n, _ := e.svc.RecoveryCodesLeft(ctx, id); n != 3-i {
			t.Errorf("RecoveryCodesLeft: got %d, want %d", n, 3-i)
		}
	}
}

// TestConfirmAppEnrollmentDoubleSubmit: the confirm form sent several times at once (a double
// click) must not hand out recovery codes that another submission has already replaced: exactly
// one submission wins, and the codes it shows are the ones that work. The race is tried a few
// times, each on a new user.
func TestConfirmAppEnrollmentDoubleSubmit(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"profile", "login"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t, generousLockout)
			for round := range 3 {
				username := fmt.Sprintf("alice%d", round)
				shown, void := doubleSubmit(t, e, username, path == "login")
				if shown != 1 || void != 0 {
					t.Errorf("round %d: successful confirmations: got %d, of which %d showed recovery codes that do not work; want 1 with working codes", round, shown, void)
				}
			}
		})
	}
}

// doubleSubmit runs 8 ConfirmAppEnrollment calls at once with the right code, from the profile
// or at the enroll step of a login, and reports how many succeeded and how many of those
// showed recovery codes that do not work.
func doubleSubmit(t *testing.T, e *env, username string, atLogin bool) (shown, void int) {
	t.Helper()
	var ids [8]*backend.Identity
	if atLogin {
		e.createUser(backend.NewUser{Username: username, RequireTwoFactor: true})
		st := e.login(username, goodPassword, backend.StepEnroll)
		for i := range ids {
			var err error
			if ids[i], err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		e.createUser(backend.NewUser{Username: username})
		id := e.signIn(username, goodPassword)
		if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
			t.Fatal(err)
		}
		for i := range ids {
			ids[i] = id
		}
	}
	en, err := e.svc.BeginAppEnrollment(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	code := totpCode(t, decodeKey(t, en.Key), e.clock.Now())

	results := make([]*backend.EnrollmentResult, len(ids))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			<-start
			results[i], _ = e.svc.ConfirmAppEnrollment(ctx, ids[i], code)
		})
	}
	close(start)
	wg.Wait()

	for _, res := range results {
		if res == nil {
			continue
		}
		shown++
		st := e.login(username, goodPassword, backend.StepVerify)
		if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, res.RecoveryCodes[4]); err != nil {
			void++
		}
	}
	return shown, void
}

// TestEnrollmentURIAccount: usernames with the characters they may have survive the URI.
func TestEnrollmentURIAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"bob+2fa@example.com", "a.b_c-d"} {
		e.createUser(backend.NewUser{Username: name})
		id := e.signIn(name, goodPassword)
		if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
			t.Fatal(err)
		}
		en, err := e.svc.BeginAppEnrollment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		key, err := otp.NewKeyFromURL(en.URI)
		if err != nil {
			t.Fatalf("parse URI %q: %v", en.URI, err)
		}
		if key.AccountName() != name || key.Issuer() != "Gatehouse" {
			t.Errorf("URI %q: got account %q issuer %q, want %q, Gatehouse", en.URI, key.AccountName(), key.Issuer(), name)
		}
	}
}

// TestServerKey: TOTP secrets are sealed under the server key, which is not in the database: a
// Service with another key is refused (TestServerKeyCheck), and beneath that check (a store
// that does not keep it) cannot use them.
func TestServerKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	_, app := e.enrolledUser("alice")

	for _, key := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
		if _, err := backend.New(backend.Config{Store: e.store, SecretKey: key}); err == nil {
			t.Errorf("New with a %d-byte key: got nil error, want one", len(key))
		}
	}
	if _, err := backend.New(backend.Config{SecretKey: e.key}); err == nil {
		t.Errorf("New without a store: got nil error, want one")
	}

	other := make([]byte, backend.SecretKeySize)
	copy(other, e.key)
	other[0] ^= 1
	if _, err := backend.New(backend.Config{Store: e.store, SecretKey: other}); !errors.Is(err, backend.ErrWrongServerKey) {
		t.Fatalf("New with another key: %v, want ErrWrongServerKey", err)
	}
	svc, err := backend.New(backend.Config{Store: noKeyCheck{e.store}, SecretKey: other, Now: e.clock.Now,
		Passwords: backend.PasswordPolicy{Argon2: cheapArgon2}, Lockout: backend.LockoutPolicy{FreeFailures: 100, MaxFailures: 100}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(30 * time.Second)
	st, err := svc.Login(ctx, "alice", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	code := totpCode(t, app.secret, e.clock.Now())
	if _, err := svc.VerifyTOTP(ctx, st.AttemptToken, code); err == nil {
		t.Errorf("VerifyTOTP under another server key: got signed in, want an error")
	}
	// The right key still works, and the code was not used up by the failed attempt.
	st = e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, code); err != nil {
		t.Errorf("VerifyTOTP under the right key: got %v, want signed in", err)
	}
}

// noKeyCheck is a store that keeps no key check value: every key passes.
type noKeyCheck struct{ backend.Store }

func (noKeyCheck) KeyCheck(_ context.Context, check []byte) ([]byte, error) { return check, nil }

// TestAppSetupBelongsToItsSession pins issue 9 F4 (the app half): an app setup belongs to the
// session that began it. Another session of the same user, even with its password confirmed,
// cannot enable it with a code of its key; the session that began it still can.
func TestAppSetupBelongsToItsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.createUser(backend.NewUser{Username: "alice"})
	owner := e.signIn("alice", goodPassword)
	if err := e.svc.ConfirmPassword(ctx, owner, goodPassword); err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginAppEnrollment(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	code := totpCode(t, decodeKey(t, en.Key), e.clock.Now())

	other := e.signIn("alice", goodPassword)
	_, err = e.svc.ResumeAppEnrollment(ctx, other)
	wantCode(t, "ResumeAppEnrollment by another session", err, backend.ENOTFOUND)
	_, err = e.svc.ConfirmAppEnrollment(ctx, other, code)
	wantCode(t, "ConfirmAppEnrollment by another session, its login's password fresh", err, backend.ECONFLICT)
	if err := e.svc.ConfirmPassword(ctx, other, goodPassword); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ConfirmAppEnrollment(ctx, other, code)
	wantCode(t, "ConfirmAppEnrollment by another session", err, backend.ECONFLICT)
	if m := e.user(u.ID).Method; m != backend.MethodNone {
		t.Fatalf("after another session's confirmation: method %q, want none", m)
	}
	// Nor does beginning a setup there touch this one.
	if _, err := e.svc.BeginAppEnrollment(ctx, other); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.ResumeAppEnrollment(ctx, owner)
	if err != nil || again.Key != en.Key || again.URI != en.URI || !bytes.Equal(again.QRCodePNG, en.QRCodePNG) {
		t.Fatalf("ResumeAppEnrollment by the session that began it: %v; want the same key, URI and QR code", err)
	}
	if _, err := e.svc.ConfirmAppEnrollment(ctx, owner, code); err != nil {
		t.Fatalf("ConfirmAppEnrollment by the session that began it: %v", err)
	}
}

// TestAppSetupBelongsToItsLogin pins issue 9 F4 at the enroll step: a second login of the same
// required user cannot enable the first login's setup.
func TestAppSetupBelongsToItsLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.createUser(backend.NewUser{Username: "alice", RequireTwoFactor: true})
	enroller := func() *backend.Identity {
		id, err := e.svc.EnrollmentIdentity(ctx, e.login("alice", goodPassword, backend.StepEnroll).AttemptToken)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first, second := enroller(), enroller()
	en, err := e.svc.BeginAppEnrollment(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	code := totpCode(t, decodeKey(t, en.Key), e.clock.Now())
	_, err = e.svc.ResumeAppEnrollment(ctx, second)
	wantCode(t, "ResumeAppEnrollment by a second login", err, backend.ENOTFOUND)
	_, err = e.svc.ConfirmAppEnrollment(ctx, second, code)
	wantCode(t, "ConfirmAppEnrollment by a second login", err, backend.ECONFLICT)
	if m := e.user(u.ID).Method; m != backend.MethodNone {
		t.Fatalf("after the second login's confirmation: method %q, want none", m)
	}
	res, err := e.svc.ConfirmAppEnrollment(ctx, first, code)
	if err != nil || res.Login == nil || res.Login.Step != backend.StepDone {
		t.Fatalf("ConfirmAppEnrollment by the login that began it: %+v, %v; want signed in", res, err)
	}
}

// TestAppSetupExpires: an app setup waits 15 minutes for its code; then it is gone, shown to
// nobody and confirmed by nobody.
func TestAppSetupExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice", RequireTwoFactor: true})
	id, err := e.svc.EnrollmentIdentity(ctx, e.login("alice", goodPassword, backend.StepEnroll).AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginAppEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(15*time.Minute - time.Second)
	if again, err := e.svc.ResumeAppEnrollment(ctx, id); err != nil || again.Key != en.Key {
		t.Fatalf("ResumeAppEnrollment within 15 minutes: %v, want the same key", err)
	}
	e.clock.Advance(time.Second)
	_, err = e.svc.ResumeAppEnrollment(ctx, id)
	wantCode(t, "ResumeAppEnrollment after 15 minutes", err, backend.ENOTFOUND)
	_, err = e.svc.ConfirmAppEnrollment(ctx, id, totpCode(t, decodeKey(t, en.Key), e.clock.Now()))
	wantCode(t, "ConfirmAppEnrollment after 15 minutes", err, backend.ECONFLICT)
	_, err = e.svc.ResumeAppEnrollment(ctx, nil)
	wantCode(t, "ResumeAppEnrollment(nil)", err, backend.EUNAUTHORIZED)
	_, err = e.svc.ResumeAppEnrollment(ctx, e.svc.Operator())
	wantCode(t, "ResumeAppEnrollment(operator)", err, backend.EUNAUTHORIZED)
}
