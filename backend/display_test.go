package backend_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestTwoFactorStatusKeys: stable keys, the help article's words as labels, and parsing that
// takes either.
func TestTwoFactorStatusKeys(t *testing.T) {
	for _, tc := range []struct {
		st         backend.TwoFactorStatus
		key, label string
	}{
		{backend.StatusNo, "no", "No"},
		{backend.StatusPending, "pending", "Pending setup on next login"},
		{backend.StatusEnabled, "enabled", "Enabled"},
	} {
		if string(tc.st) != tc.key || tc.st.Label() != tc.label || !tc.st.Valid() {
			t.Errorf("status %q: key %q, label %q, valid %v; want %q, %q, true", tc.st, string(tc.st), tc.st.Label(), tc.st.Valid(), tc.key, tc.label)
		}
		for _, in := range []string{tc.key, tc.label, strings.ToUpper(tc.key), strings.ToLower(tc.label), " " + tc.key + " "} {
			if got, err := backend.ParseTwoFactorStatus(in); err != nil || got != tc.st {
				t.Errorf("ParseTwoFactorStatus(%q) = %q, %v; want %q", in, got, err, tc.st)
			}
		}
	}
	if _, err := backend.ParseTwoFactorStatus("maybe"); backend.ErrorCode(err) != backend.EINVALID || !strings.Contains(backend.ErrorMessage(err), `"pending"`) {
		t.Errorf(`ParseTwoFactorStatus("maybe") = %v; want EINVALID naming the keys`, err)
	}
	if backend.TwoFactorStatus("Enabled").Valid() {
		t.Errorf("the label Enabled is a valid key; want only keys valid")
	}
}

// TestAccountStateDisabledBeatsLocked: a disabled account that is also locked reads Disabled,
// and Unlock is not offered on it (nor on one's own account), only on a locked one.
func TestAccountStateDisabledBeatsLocked(t *testing.T) {
	e := newEnv(t)
	both := e.createUser(backend.NewUser{Username: "both"})
	locked := e.createUser(backend.NewUser{Username: "locked"})
	e.failLogins("both", 10)
	e.failLogins("locked", 10)
	off := true
	if _, err := e.svc.UpdateUser(ctx, e.admin, both.ID, backend.UserChanges{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ConfirmPassword(ctx, e.admin, adminPassword); err != nil { // the clock moved on
		t.Fatal(err)
	}
	for _, tc := range []struct {
		u          *backend.User
		want       backend.AccountState
		label      string
		unlockable bool
	}{
		{e.user(both.ID), backend.AccountDisabled, "Disabled", false},
		{e.user(locked.ID), backend.AccountLocked, "Locked", true},
		{e.admin.User, backend.AccountActive, "Active", false},
	} {
		if !e.svc.Locked(tc.u) && tc.u.Username != "admin" {
			t.Fatalf("%s is not locked", tc.u.Username)
		}
		got := e.svc.AccountState(tc.u)
		if got != tc.want || got.Label() != tc.label {
			t.Errorf("%s: state %q (%s), want %q (%s)", tc.u.Username, got, got.Label(), tc.want, tc.label)
		}
		_, offered := e.svc.UserAction(e.admin, tc.u, backend.ActionUnlock)
		if offered != tc.unlockable {
			t.Errorf("%s: Unlock offered %v, want %v", tc.u.Username, offered, tc.unlockable)
		}
	}
	// The administrator's own lock is not theirs to lift.
	e.failLogins("admin", 10)
	if _, offered := e.svc.UserAction(e.admin, e.user(e.admin.User.ID), backend.ActionUnlock); offered {
		t.Errorf("Unlock offered on the administrator's own account")
	}
}

// TestUserActionsAreWhatTheServiceDoes: in every Two-Factor state, an action is offered exactly
// when the Service does it (the others it refuses with ECONFLICT), and NeedsPassword is exactly
// when it refuses with EREAUTH past the confirmation window.
func TestUserActionsAreWhatTheServiceDoes(t *testing.T) {
	e := newEnv(t)
	do := map[backend.ActionKey]func(*backend.Identity, int64) error{
		backend.ActionRequireTwoFactor: func(id *backend.Identity, uid int64) error {
			_, err := e.svc.RequireTwoFactor(ctx, id, uid)
			return err
		},
		backend.ActionDisableTwoFactor: func(id *backend.Identity, uid int64) error {
			_, err := e.svc.DisableTwoFactor(ctx, id, uid)
			return err
		},
		backend.ActionResetTwoFactor: func(id *backend.Identity, uid int64) error {
			_, err := e.svc.ResetTwoFactor(ctx, id, uid)
			return err
		},
		backend.ActionSetPassword: func(id *backend.Identity, uid int64) error {
			return e.svc.SetUserPassword(ctx, id, uid, "another long password", true)
		},
	}
	n := 0
	user := func(status backend.TwoFactorStatus) *backend.User {
		n++
		name := "user" + string(rune('a'+n))
		switch status {
		case backend.StatusEnabled:
			u, _ := e.enrolledUser(name)
			return e.user(u.ID)
		case backend.StatusPending:
			return e.createUser(backend.NewUser{Username: name, RequireTwoFactor: true})
		}
		return e.createUser(backend.NewUser{Username: name})
	}
	for _, st := range backend.Statuses {
		for key, run := range do {
			t.Run(string(st)+"/"+string(key), func(t *testing.T) {
				if err := e.svc.ConfirmPassword(ctx, e.admin, adminPassword); err != nil {
					t.Fatal(err)
				}
				u := user(st)
				a, offered := e.svc.UserAction(e.admin, u, key)
				if a.Key != key || a.Label == "" {
					t.Fatalf("UserAction(%s) = %+v", key, a)
				}
				if got := slices.ContainsFunc(e.svc.UserActions(e.admin, u), func(x backend.Action) bool { return x.Key == key }); got != offered {
					t.Errorf("UserActions has %s: %v; UserAction says offered %v", key, got, offered)
				}
				// Past the window first: EREAUTH exactly when the password is needed.
				e.clock.Advance(11 * time.Minute)
				err := run(e.admin, u.ID)
				if a.NeedsPassword != (backend.ErrorCode(err) == backend.EREAUTH) {
					t.Errorf("NeedsPassword %v, but without a recent password the Service said %v", a.NeedsPassword, err)
				}
				if err := e.svc.ConfirmPassword(ctx, e.admin, adminPassword); err != nil {
					t.Fatal(err)
				}
				if backend.ErrorCode(err) != backend.EREAUTH { // it ran, or was refused for what it is
					if offered != (err == nil) {
						t.Errorf("offered %v, but the Service said %v", offered, err)
					}
					return
				}
				err = run(e.admin, u.ID)
				if offered != (err == nil) || (err != nil && backend.ErrorCode(err) != backend.ECONFLICT) {
					t.Errorf("offered %v, but the Service said %v", offered, err)
				}
			})
		}
	}
}

// TestActionSentences: the Require sentence is the help article's; the others name the user
// and what goes.
func TestActionSentences(t *testing.T) {
	bob := &backend.User{Username: "bob", DisplayName: "Bob Baker", Method: backend.MethodApp, TwoFactorRequired: true}
	// spec/two-factor-help-article.txt, step 7: "A pop-up will appear indicating that the User
	// will now be required to enroll in Two-Factor Authentication upon log in."
	if got, want := backend.DescribeUserAction(backend.ActionRequireTwoFactor, bob).Confirm, "Bob Baker will now be required to enroll in Two-Factor Authentication upon log in."; got != want {
		t.Errorf("Require: %q, want %q", got, want)
	}
	if got := backend.DescribeUserAction(backend.ActionResetTwoFactor, bob).Confirm; !strings.HasPrefix(got, "The authenticator app, any security keys or passkeys and the recovery codes of Bob Baker will be removed. Two-Factor Authentication stays required") {
		t.Errorf("Reset: %q", got)
	}
	sms := &backend.User{Username: "sam", Method: backend.MethodSMS}
	if got := backend.DescribeUserAction(backend.ActionDisableTwoFactor, sms).Confirm; !strings.Contains(got, "turned off for sam. The phone number, any security keys or passkeys and the recovery codes will be removed.") {
		t.Errorf("Disable: %q", got)
	}
	// Disable and Reset remove keys too: a person enrolled with keys is told they go.
	keyUser := &backend.User{Username: "kim", Method: backend.MethodWebAuthn}
	if got := backend.DescribeUserAction(backend.ActionResetTwoFactor, keyUser).Confirm; !strings.HasPrefix(got, "The security keys or passkeys and the recovery codes of kim will be removed, and Two-Factor Authentication will be off.") {
		t.Errorf("Reset of a key user: %q", got)
	}
	for _, k := range backend.ActionKeys[:5] {
		if a := backend.DescribeUserAction(k, bob); a.Key != k || a.Label == "" || a.Done == "" {
			t.Errorf("DescribeUserAction(%s) = %+v: want a label and a Done sentence", k, a)
		}
	}
}

// TestProfileActions: Regenerate and Disable only when enrolled, and Disable only when no
// administrator requires Two-Factor — exactly when DisableOwnTwoFactor does it.
func TestProfileActions(t *testing.T) {
	e := newEnv(t)
	keys := func(id *backend.Identity) []backend.ActionKey {
		var out []backend.ActionKey
		for _, a := range e.svc.ProfileActions(id) {
			out = append(out, a.Key)
		}
		return out
	}
	carl := e.createUser(backend.NewUser{Username: "carl"})
	id := e.signIn("carl", goodPassword)
	if got, want := keys(id), []backend.ActionKey{backend.ActionSetupTwoFactor, backend.ActionChangePassword}; !slices.Equal(got, want) {
		t.Errorf("not enrolled: %v, want %v", got, want)
	}
	e.enrollApp(id, goodPassword)
	id.User = e.user(carl.ID)
	all := []backend.ActionKey{backend.ActionSetupTwoFactor, backend.ActionRegenerateRecoveryCodes, backend.ActionDisableOwnTwoFactor, backend.ActionChangePassword}
	if got := keys(id); !slices.Equal(got, all) {
		t.Errorf("enrolled: %v, want %v", got, all)
	}
	if a, _ := backend.ProfileAction(id.User, backend.ActionSetupTwoFactor); !strings.Contains(a.Help, "move to a new phone") {
		t.Errorf("Setup once enrolled: help %q", a.Help)
	}
	// Required by an administrator: Disable is not offered, and the Service refuses it.
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	required := *id.User
	required.TwoFactorRequired = true
	if _, offered := backend.ProfileAction(&required, backend.ActionDisableOwnTwoFactor); offered {
		t.Errorf("required: Disable offered")
	}
	id.User = &required
	if err := e.svc.DisableOwnTwoFactor(ctx, id); backend.ErrorCode(err) != backend.EFORBIDDEN {
		t.Errorf("DisableOwnTwoFactor of a required user: %v, want %s", err, backend.EFORBIDDEN)
	}
	a, _ := backend.ProfileAction(id.User, backend.ActionRegenerateRecoveryCodes)
	if !strings.Contains(a.Confirm, "5 new recovery codes") || !a.NeedsPassword {
		t.Errorf("Regenerate: %+v", a)
	}
}

// TestFormRules: what forms state about passwords is what CheckNewPassword enforces, and the
// New User defaults are the web's (No, no forced change).
func TestFormRules(t *testing.T) {
	if !strings.HasPrefix(backend.PasswordHintOwn, backend.PasswordRule) || !strings.HasPrefix(backend.PasswordHintForUser, backend.PasswordRule) {
		t.Errorf("hints %q, %q do not start with the rule %q", backend.PasswordHintOwn, backend.PasswordHintForUser, backend.PasswordRule)
	}
	short := "qwzpvbn"[:backend.MinPasswordLength-1]
	if err := backend.CheckNewPassword(short, "someone"); backend.ErrorCode(err) != backend.EINVALID {
		t.Errorf("a password one shorter than the rule: %v, want EINVALID", err)
	}
	if d := backend.NewUserDefaults(); d.Role != backend.RoleUser || d.RequireTwoFactor || d.MustChangePassword {
		t.Errorf("NewUserDefaults = %+v; want role user, Two-Factor No, no forced change", d)
	}
	if !strings.Contains(backend.PasswordRule, "8 characters") {
		t.Errorf("PasswordRule %q", backend.PasswordRule)
	}
}

// TestUserChangesNeedPassword is exactly when UpdateUser refuses with EREAUTH.
func TestUserChangesNeedPassword(t *testing.T) {
	e := newEnv(t)
	admin, user := backend.RoleAdmin, backend.RoleUser
	on, off := false, true
	name := "New Name"
	for _, tc := range []struct {
		name     string
		disabled bool
		ch       backend.UserChanges
		want     bool
	}{
		{"name only", false, backend.UserChanges{DisplayName: &name}, false},
		{"same role", false, backend.UserChanges{Role: &user}, false},
		{"promote", false, backend.UserChanges{Role: &admin}, true},
		{"disable", false, backend.UserChanges{Disabled: &off}, false},
		{"enable", true, backend.UserChanges{Disabled: &on}, true},
		{"still disabled", true, backend.UserChanges{Disabled: &off}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.svc.ConfirmPassword(ctx, e.admin, adminPassword); err != nil {
				t.Fatal(err)
			}
			u := e.createUser(backend.NewUser{Username: strings.ReplaceAll(tc.name, " ", "-")})
			if tc.disabled {
				if _, err := e.svc.UpdateUser(ctx, e.admin, u.ID, backend.UserChanges{Disabled: &off}); err != nil {
					t.Fatal(err)
				}
			}
			u = e.user(u.ID)
			if got := backend.UserChangesNeedPassword(u, tc.ch); got != tc.want {
				t.Errorf("UserChangesNeedPassword = %v, want %v", got, tc.want)
			}
			e.clock.Advance(11 * time.Minute)
			_, err := e.svc.UpdateUser(ctx, e.admin, u.ID, tc.ch)
			if got := backend.ErrorCode(err) == backend.EREAUTH; got != tc.want {
				t.Errorf("UpdateUser without a recent password: %v; want EREAUTH %v", err, tc.want)
			}
		})
	}
	if !backend.NewUserNeedsPassword(backend.NewUser{Role: backend.RoleAdmin}) || backend.NewUserNeedsPassword(backend.NewUser{Role: backend.RoleUser}) {
		t.Errorf("NewUserNeedsPassword: want true for an administrator only")
	}
}

// TestRecoveryCodeSheet: whose codes, which Gatehouse, when, and the codes.
func TestRecoveryCodeSheet(t *testing.T) {
	e := newEnv(t, func(c *backend.Config) { c.Issuer = "Acme Gatehouse" })
	sheet := e.svc.RecoveryCodeSheetText(&backend.RecoveryCodeSheet{Username: "bob", Codes: []string{"AAAA-BBBB", "CCCC-DDDD"}, Issued: t0})
	for _, want := range []string{"Gatehouse recovery codes", "System:  Acme Gatehouse", "Account: bob", "Created: 2026-03-02 09:00:00 UTC", "    AAAA-BBBB\n", "    CCCC-DDDD\n"} {
		if !strings.Contains(sheet, want) {
			t.Errorf("sheet lacks %q:\n%s", want, sheet)
		}
	}
	// Its lines break between words (SheetWidth): read as a paragraph.
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, want := range []string{"log in to Acme Gatehouse."} {
		if !strings.Contains(flat(sheet), want) {
			t.Errorf("sheet lacks %q:\n%s", want, sheet)
		}
	}
	// Where its codes work, when the server's public URL is known.
	e = newEnv(t, func(c *backend.Config) { c.PublicURL = "https://login.example.com/" })
	sheet = e.svc.RecoveryCodeSheetText(&backend.RecoveryCodeSheet{Username: "bob", Codes: []string{"AAAA-BBBB"}, Issued: t0})
	if want := "System:  Gatehouse (https://login.example.com)\n"; !strings.Contains(sheet, want) || !strings.Contains(flat(sheet), "log in to Gatehouse (https://login.example.com).") {
		t.Errorf("sheet lacks %q:\n%s", want, sheet)
	}
	if got := backend.RecoveryCodeSheetFilename("bob"); got != "gatehouse-recovery-codes-bob.txt" {
		t.Errorf("filename %q", got)
	}
}
