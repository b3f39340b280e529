package backend_test

import (
	"bytes"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// TestNoPlaintextAtRest: after every kind of operation, no password, TOTP secret, recovery code
// or token is in what the store holds (SQLite: its files) or the logs.
func TestNoPlaintextAtRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, generousLockout)
	const (
		password     = "plaintext canary passphrase"
		newPassword  = "second canary passphrase"
		tempPassword = "temporary canary passphrase"
		wrong        = "wrong canary passphrase"
	)
	var secrets []string // every secret that passed through the Service
	add := func(s ...string) { secrets = append(secrets, s...) }
	add(password, newPassword, tempPassword, wrong, adminPassword, e.adminToken)

	u := e.createUser(backend.NewUser{Username: "alice", Password: password, RequireTwoFactor: true})
	e.svc.Login(ctx, "alice", wrong)
	st := e.login("alice", password, backend.StepEnroll)
	add(st.AttemptToken)
	id, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	app := e.enrollApp(id, "")
	add(app.codes...)
	add(app.login.SessionToken)

	// A pending enrollment that is never confirmed.
	sess := e.identity(app.login.SessionToken)
	if err := e.svc.ConfirmPassword(ctx, sess, password); err != nil {
		t.Fatal(err)
	}
	pending, err := e.svc.BeginAppEnrollment(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	addSecret := func(secret []byte) {
		b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
		add(string(secret), b32, strings.ToLower(b32), hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret))
	}
	addSecret(app.secret)
	addSecret(decodeKey(t, pending.Key))
	add(pending.URI, pending.Key)

	// Use the app, a recovery code, regenerate, change passwords.
	e.clock.Advance(30 * time.Second)
	st = e.login("alice", password, backend.StepVerify)
	add(st.AttemptToken)
	done, err := e.svc.VerifyTOTP(ctx, st.AttemptToken, totpCode(t, app.secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	add(done.SessionToken)
	st = e.login("alice", password, backend.StepVerify)
	e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, "0000-0000-0000-0000")
	done, err = e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, app.codes[0])
	if err != nil {
		t.Fatal(err)
	}
	add(st.AttemptToken, done.SessionToken)
	sess = e.identity(done.SessionToken)
	if err := e.svc.ConfirmPassword(ctx, sess, password); err != nil {
		t.Fatal(err)
	}
	fresh, err := e.svc.RegenerateRecoveryCodes(ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	add(fresh...)
	if err := e.svc.ChangePassword(ctx, sess, password, newPassword); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetUserPassword(ctx, e.admin, u.ID, tempPassword, true); err != nil {
		t.Fatal(err)
	}
	for _, c := range append(append([]string{}, app.codes...), fresh...) {
		add(strings.ReplaceAll(c, "-", "")) // the canonical form that is hashed
	}

	check := func(when string) {
		t.Helper()
		files := e.h.Contents()
		if !bytes.Contains(bytes.Join(slices.Collect(maps.Values(files)), nil), []byte("alice")) {
			t.Fatalf("%s: the store's contents %v hold no user alice: nothing to search", when, slices.Collect(maps.Keys(files)))
		}
		files["logs"] = []byte(e.logs.String())
		for name, b := range files {
			for _, s := range secrets {
				if s != "" && bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: %s contains the secret %q", when, name, s)
				}
			}
		}
	}
	check("open")
	e.h.Close()
	check("closed") // SQLite: the WAL checkpointed into the main file
}

// TestArgon2DefaultsStored reads the cost parameters back from the stored hash of a Service
// with the default password policy.
func TestArgon2DefaultsStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *backend.Config) { c.Passwords = backend.PasswordPolicy{} })
	for _, username := range []string{"admin"} {
		u, err := e.db.FindUserByUsername(ctx, username)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := e.db.PasswordHash(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, salt, key, err := backend.DecodeArgon2Hash(hash)
		if err != nil {
			t.Fatalf("DecodeArgon2Hash(%q): %v", hash, err)
		}
		if want := (backend.Argon2Params{MemoryKiB: 19456, Iterations: 2, Parallelism: 1}); p != want {
			t.Errorf("stored parameters: got %+v, want %+v", p, want)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$") {
			t.Errorf("stored hash: got %q, want argon2id version 19", hash)
		}
		if len(salt) < 16 || len(key) < 32 {
			t.Errorf("salt and key: got %d and %d bytes, want at least 16 and 32", len(salt), len(key))
		}
	}

	// A hash made under other parameters keeps working when the defaults change: the
	// parameters are read from the hash.
	cheap := newEnv(t)
	cheap.createUser(backend.NewUser{Username: "alice"})
	u, _ := cheap.db.FindUserByUsername(ctx, "alice")
	hash, _ := cheap.db.PasswordHash(ctx, u.ID)
	if err := e.db.SetPassword(ctx, e.admin.User.ID, hash, false, nil); err != nil {
		t.Fatal(err)
	}
	e.login("admin", goodPassword, backend.StepDone)
}

// TestPasswordPolicy applies the policy through the API: creating users, and logging in
// with what was accepted.
func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refused := []struct{ name, username, password string }{
		{"too short", "u1", "seven77"},
		{"too long", "u2", strings.Repeat("long enough ", 22)}, // 264 characters
		{"common", "u3", "password123"},
		{"common, capitalised", "u4", "Password123"},
		{"common, from the list", "u5", "iloveyou"},
		{"the username", "frederick", "frederick"},
		{"the username, other case", "frederick2", "FREDERICK2"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateUser(ctx, e.admin, backend.NewUser{Username: tt.username, Password: tt.password})
			wantCode(t, "CreateUser", err, backend.EINVALID)
			if _, err := e.svc.UserByUsername(ctx, e.admin, tt.username); backend.ErrorCode(err) != backend.ENOTFOUND {
				t.Errorf("user after a refused password: got %v, want none", err)
			}
		})
	}
	// The same policy for an administrator's reset and for the user's own change.
	u := e.createUser(backend.NewUser{Username: "alice"})
	wantCode(t, "SetUserPassword to a common password", e.svc.SetUserPassword(ctx, e.admin, u.ID, "password123", false), backend.EINVALID)
	wantCode(t, "SetUserPassword to the username", e.svc.SetUserPassword(ctx, e.admin, u.ID, "Alice", false), backend.EINVALID)
	e.login("alice", goodPassword, backend.StepDone)

	accepted := []struct{ name, password string }{
		{"8 characters", "kq7wx2pd"},
		{"spaces", "  a b c d  "},
		{"unicode", "Grüße aus Köln ☃"},
		{"unicode, 8 characters in 24 bytes", "日本語のパスワード"},
		{"the maximum", strings.Repeat("x7", backend.MaxPasswordLength/2)},
	}
	for i, tt := range accepted {
		t.Run(tt.name, func(t *testing.T) {
			name := "ok" + string(rune('a'+i))
			e.createUser(backend.NewUser{Username: name, Password: tt.password})
			e.login(name, tt.password, backend.StepDone)
			// Nothing is trimmed or normalised away.
			if _, err := e.svc.Login(ctx, name, strings.TrimSpace(tt.password)+"!"); err == nil {
				t.Errorf("a different password: got accepted, want refused")
			}
		})
	}

	// No truncation: passwords that share their first 72 (bcrypt's limit) or 128 bytes differ.
	for _, n := range []int{72, 128} {
		prefix := strings.Repeat("z", n)
		name := "long" + string(rune('0'+n%10))
		e.createUser(backend.NewUser{Username: name, Password: prefix + " one"})
		e.clock.Advance(time.Minute) // no lockout wait between the cases
		if _, err := e.svc.Login(ctx, name, prefix+" two"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			t.Errorf("a password sharing the first %d bytes: got %v, want code %s", n, err, backend.EUNAUTHORIZED)
		}
		if _, err := e.svc.Login(ctx, name, prefix); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			t.Errorf("the first %d bytes alone: got %v, want code %s", n, err, backend.EUNAUTHORIZED)
		}
		e.login(name, prefix+" one", backend.StepDone)
	}
}

// TestNilIdentity: a method given no identity refuses; it does not panic.
func TestNilIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	calls := []struct {
		name string
		call func() error
	}{
		{"BeginAppEnrollment", func() error { _, err := e.svc.BeginAppEnrollment(ctx, nil); return err }},
		{"ConfirmAppEnrollment", func() error { _, err := e.svc.ConfirmAppEnrollment(ctx, nil, "123456"); return err }},
		{"RegenerateRecoveryCodes", func() error { _, err := e.svc.RegenerateRecoveryCodes(ctx, nil); return err }},
		{"DisableOwnTwoFactor", func() error { return e.svc.DisableOwnTwoFactor(ctx, nil) }},
		{"RecoveryCodesLeft", func() error { _, err := e.svc.RecoveryCodesLeft(ctx, nil); return err }},
		{"ConfirmPassword", func() error { return e.svc.ConfirmPassword(ctx, nil, goodPassword) }},
		{"ChangePassword", func() error { return e.svc.ChangePassword(ctx, nil, goodPassword, "a new passphrase") }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s(nil identity): got a panic: %v, want code %s", c.name, r, backend.EUNAUTHORIZED)
						err = backend.Errorf(backend.EUNAUTHORIZED, "panicked")
					}
				}()
				err = c.call()
			}()
			wantCode(t, c.name+"(nil identity)", err, backend.EUNAUTHORIZED)
		})
	}
	// The operator is not a person: it has no password to confirm and no two-factor.
	_, err := e.svc.BeginAppEnrollment(ctx, e.svc.Operator())
	wantCode(t, "BeginAppEnrollment by the operator", err, backend.EUNAUTHORIZED)
}
