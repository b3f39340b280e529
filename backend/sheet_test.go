package backend_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// sheetCodes returns the codes of id's recovery code sheet, or nil when it has none.
func (e *env) sheetCodes(svc *backend.Service, id *backend.Identity) []string {
	e.t.Helper()
	sh, err := svc.RecoveryCodeSheet(ctx, id)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil
	} else if err != nil {
		e.t.Fatalf("RecoveryCodeSheet: %v", err)
	}
	return sh.Codes
}

// storedSheet reports whether the store holds a sheet for the token (expired or not).
func (e *env) storedSheet(token string) bool {
	e.t.Helper()
	sum := sha256.Sum256([]byte(token))
	_, err := e.db.FindRecoverySheet(ctx, hex.EncodeToString(sum[:]))
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return false
	} else if err != nil {
		e.t.Fatal(err)
	}
	return true
}

// TestRecoveryCodeSheetBelongsToItsSession: the codes an enrollment hands out stay on show for
// the session that enrolled, on another Service over the same file too (a restart, a second
// server), until it says "I have saved these codes"; another session of the same user never
// sees them and cannot acknowledge them away. Regenerate shows its new set the same way, for
// 15 minutes; the purge then removes it.
func TestRecoveryCodeSheetBelongsToItsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "bob"})
	token := e.login("bob", goodPassword, backend.StepDone).SessionToken
	mine := e.identity(token)
	app := e.enrollApp(mine, goodPassword)

	sh, err := e.svc.RecoveryCodeSheet(ctx, mine)
	if err != nil {
		t.Fatalf("RecoveryCodeSheet of the enrolling session: %v", err)
	}
	if !slices.Equal(sh.Codes, app.codes) || sh.Username != "bob" || !sh.ExpiresAt.Equal(sh.Issued.Add(15*time.Minute)) {
		t.Errorf("sheet %+v, want bob's codes %v for 15 minutes", sh, app.codes)
	}
	// Another session of bob's, opened with the app after the enrollment.
	e.clock.Advance(30 * time.Second)
	st := e.login("bob", goodPassword, backend.StepVerify)
	done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	other := e.identity(done.SessionToken)
	if got := e.sheetCodes(e.svc, other); got != nil {
		t.Errorf("another session of bob sees the codes %v", got)
	}
	if got := e.sheetCodes(e.svc, e.admin); got != nil {
		t.Errorf("the administrator sees codes %v", got)
	}
	if err := e.svc.AcknowledgeRecoveryCodes(ctx, other); err != nil {
		t.Fatal(err)
	}
	restarted := e.restarted()
	if got := e.sheetCodes(restarted, mine); !slices.Equal(got, app.codes) {
		t.Errorf("after the other session acknowledged, on a restarted Service: %v, want %v", got, app.codes)
	}
	if n := len(e.auditEvents(backend.AuditRecoveryCodesSaved)); n != 0 {
		t.Errorf("acknowledging codes it never had recorded %d events, want 0", n)
	}
	if err := restarted.AcknowledgeRecoveryCodes(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if ev := e.auditEvents(backend.AuditRecoveryCodesSaved); len(ev) != 1 || ev[0].TargetName != "bob" || ev[0].ActorName != "bob" {
		t.Errorf("acknowledged: audit events %+v, want one by bob for bob", ev)
	}
	if err := restarted.AcknowledgeRecoveryCodes(ctx, mine); err != nil || len(e.auditEvents(backend.AuditRecoveryCodesSaved)) != 1 {
		t.Errorf("acknowledging again: %v, or recorded again", err)
	}
	if got := e.sheetCodes(e.svc, mine); got != nil || e.storedSheet(token) {
		t.Errorf("acknowledged, still shown (%v) or stored", got)
	}

	mine = e.identity(token) // enrolled now
	if err := e.svc.ConfirmPassword(ctx, mine, goodPassword); err != nil {
		t.Fatal(err)
	}
	codes, err := e.svc.RegenerateRecoveryCodes(ctx, mine)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.sheetCodes(e.svc, mine); !slices.Equal(got, codes) {
		t.Errorf("after Regenerate the sheet shows %v, want %v", got, codes)
	}
	if got := e.sheetCodes(e.svc, other); got != nil {
		t.Errorf("another session sees the regenerated codes %v", got)
	}
	e.clock.Advance(15*time.Minute - time.Second)
	if got := e.sheetCodes(e.svc, mine); !slices.Equal(got, codes) {
		t.Errorf("just before 15 minutes: %v, want the codes", got)
	}
	e.clock.Advance(time.Second)
	if got := e.sheetCodes(e.svc, mine); got != nil {
		t.Errorf("after 15 minutes still shown: %v", got)
	}
	e.clock.Advance(time.Second)
	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if e.storedSheet(token) {
		t.Error("expired sheet still stored after PurgeExpired")
	}
}

// TestRecoveryCodeSheetFollowsTheLogin: enrolled at the enroll step of a login, the codes are
// on show for the session the login becomes; with a temporary password still to change, for
// the login's next step, and then for the session after it. Logging out ends them.
func TestRecoveryCodeSheetFollowsTheLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	e.createUser(backend.NewUser{Username: "carol", RequireTwoFactor: true})
	st := e.login("carol", goodPassword, backend.StepEnroll)
	id, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	app := e.enrollApp(id, goodPassword)
	if app.login == nil || app.login.Step != backend.StepDone {
		t.Fatalf("login after the enrollment: %+v, want done", app.login)
	}
	_, err = e.svc.LoginRecoveryCodeSheet(ctx, st.AttemptToken)
	wantEnded(t, "the sheet by the finished login's token", err)
	session := e.identity(app.login.SessionToken)
	if got := e.sheetCodes(e.restarted(), session); !slices.Equal(got, app.codes) {
		t.Errorf("the session the login became shows %v, want %v", got, app.codes)
	}
	if err := e.svc.Logout(ctx, session); err != nil {
		t.Fatal(err)
	}
	if e.storedSheet(app.login.SessionToken) {
		t.Error("the sheet is still stored after Logout")
	}

	e.createUser(backend.NewUser{Username: "dave", RequireTwoFactor: true, MustChangePassword: true})
	st = e.login("dave", goodPassword, backend.StepEnroll)
	if id, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	app = e.enrollApp(id, goodPassword)
	if app.login == nil || app.login.Step != backend.StepChangePassword {
		t.Fatalf("login after the enrollment: %+v, want change_password", app.login)
	}
	sh, err := e.svc.LoginRecoveryCodeSheet(ctx, app.login.AttemptToken)
	if err != nil || !slices.Equal(sh.Codes, app.codes) || sh.Username != "dave" {
		t.Fatalf("LoginRecoveryCodeSheet at the password step = %+v, %v; want %v", sh, err, app.codes)
	}
	done, err := e.svc.ChangeExpiredPassword(ctx, app.login.AttemptToken, "daves very own new password")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.sheetCodes(e.svc, e.identity(done.SessionToken)); !slices.Equal(got, app.codes) {
		t.Errorf("after the password step the session shows %v, want %v", got, app.codes)
	}

	// A login cancelled at its password step takes its sheet along.
	e.createUser(backend.NewUser{Username: "erin", RequireTwoFactor: true, MustChangePassword: true})
	st = e.login("erin", goodPassword, backend.StepEnroll)
	if id, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	app = e.enrollApp(id, goodPassword)
	if err := e.svc.AcknowledgeLoginRecoveryCodes(ctx, "not a token"); !strings.Contains(backend.ErrorMessage(err), "Log in again") {
		t.Errorf("acknowledging with no login: %v", err)
	}
	if !e.storedSheet(app.login.AttemptToken) {
		t.Fatal("no sheet stored for the login's password step")
	}
	if err := e.svc.CancelLogin(ctx, app.login.AttemptToken); err != nil {
		t.Fatal(err)
	}
	if e.storedSheet(app.login.AttemptToken) {
		t.Error("the sheet is still stored after CancelLogin")
	}
}

// TestRecoveryCodeSheetSealed: the codes on show are in the database file only sealed, never
// in clear, with or without their hyphens; nor in the logs.
func TestRecoveryCodeSheetSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "bob"})
	token := e.login("bob", goodPassword, backend.StepDone).SessionToken
	app := e.enrollApp(e.identity(token), goodPassword)
	if len(app.codes) != backend.RecoveryCodeCount || !e.storedSheet(token) {
		t.Fatalf("%d codes, stored sheet %v; want %d and a sheet", len(app.codes), e.storedSheet(token), backend.RecoveryCodeCount)
	}
	var secrets []string
	for _, c := range app.codes {
		secrets = append(secrets, c, strings.ReplaceAll(c, "-", ""))
	}
	for name, b := range e.h.Contents() {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("recovery code %q found in clear in %s", s, name)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("recovery code %q found in the logs", s)
		}
	}
}

// TestRecoveryCodeSheetFitsA4 pins issue 11: the saved and printed sheet's lines fit across A4
// with 20 mm margins (SheetWidth columns), broken between words only, so that no sentence breaks
// twice; a word longer than a line (a long address) stands on a line of its own.
func TestRecoveryCodeSheetFitsA4(t *testing.T) {
	long := "https://gatehouse.login.example.com/" + strings.Repeat("x", 70)
	for _, tc := range []struct{ name, issuer, public string }{
		{"default", "", ""},
		{"public URL", "Acme Gatehouse", "https://login.example.com"},
		{"long address", "Acme Corporation Two-Factor Gatehouse of the Western Region", long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *backend.Config) { c.Issuer, c.PublicURL = tc.issuer, tc.public })
			sheet := e.svc.RecoveryCodeSheetText(&backend.RecoveryCodeSheet{Username: "bob", Codes: []string{"AAAA-BBBB"}, Issued: t0})
			for i, line := range strings.Split(strings.TrimSuffix(sheet, "\n"), "\n") {
				if n := len([]rune(line)); n > backend.SheetWidth && len(strings.Fields(strings.TrimPrefix(line, "System:"))) > 1 {
					t.Errorf("line %d is %d columns (more than %d) and could break: %q", i+1, n, backend.SheetWidth, line)
				}
				if line != strings.TrimRight(line, " ") {
					t.Errorf("line %d ends in spaces: %q", i+1, line)
				}
			}
			// Read as paragraphs, the words are all there, in order.
			flat := strings.Join(strings.Fields(sheet), " ")
			system := "Gatehouse"
			if tc.issuer != "" {
				system = tc.issuer
			}
			if tc.public != "" {
				system += " (" + tc.public + ")"
			}
			for _, want := range []string{"System: " + system + " Account: bob", "Each code can be used once, in place of a code from your authenticator app or text message, when you log in to " + system + ". Keep them in a secure place: they are as good as your phone. Generating new codes voids these."} {
				if !strings.Contains(flat, want) {
					t.Errorf("sheet lacks %q:\n%s", want, sheet)
				}
			}
		})
	}
}
