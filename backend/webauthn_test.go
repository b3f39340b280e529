package backend_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// The ceremonies themselves (a key's signature, the counter, the backup flags, a replayed or
// another attempt's challenge) are tested with a real authenticator, Chromium's virtual one,
// in backend/web/webauthn_browser_test.go. These are the rules around them.

func withPublicURL(c *backend.Config) { c.PublicURL = "http://localhost:8080" }

// giveKeys stores keys for the user as a finished registration would: the first enrolls
// them (MethodWebAuthn) unless enrolled says they have another method already.
func (e *env) giveKeys(u *backend.User, enrolled bool, names ...string) {
	e.t.Helper()
	for i, name := range names {
		k := &backend.WebAuthnCredential{UserID: u.ID, CredentialID: []byte(u.Username + name), Name: name, Record: []byte(`{}`)}
		var err error
		if i == 0 && !enrolled {
			err = e.db.EnableWebAuthn(ctx, k, nil)
		} else {
			err = e.db.AddWebAuthnCredential(ctx, k)
		}
		if err != nil {
			e.t.Fatalf("give %s key %q: %v", u.Username, name, err)
		}
	}
}

func (e *env) keyNames(id *backend.Identity, userID int64) []string {
	e.t.Helper()
	keys, err := e.svc.UserKeys(ctx, e.admin, userID)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	return names
}

// TestKeysNeedPublicURL: without the public URL there is no relying party ID, and no key.
func TestKeysNeedPublicURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	if e.svc.KeysAvailable() {
		t.Error("KeysAvailable without a public URL: true")
	}
	_, err := e.svc.BeginKeyRegistration(ctx, id)
	wantCode(t, "BeginKeyRegistration without a public URL", err, backend.ECONFLICT)
}

// TestBeginKeyRegistration: the options name the public URL's host as the relying party,
// prefer user verification, ask no attestation, exclude the user's keys; the ceremony belongs
// to the session that began it and needs a recent password.
func TestBeginKeyRegistration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPublicURL)
	u := e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	other := e.signIn("alice", goodPassword)
	e.giveKeys(u, false, "YubiKey")
	raw, err := e.svc.BeginKeyRegistration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var opts struct {
		PublicKey struct {
			RP                     struct{ ID string }
			Attestation            string
			AuthenticatorSelection struct{ UserVerification string }
			ExcludeCredentials     []struct{ ID string }
		}
	}
	if err := json.Unmarshal(raw, &opts); err != nil {
		t.Fatal(err)
	}
	pk := opts.PublicKey
	if pk.RP.ID != "localhost" || pk.Attestation != "none" || pk.AuthenticatorSelection.UserVerification != "preferred" || len(pk.ExcludeCredentials) != 1 {
		t.Errorf("options %s: want rp localhost, attestation none, user verification preferred, 1 excluded key", raw)
	}

	// Another session of alice cannot finish this one's ceremony; a broken answer is refused.
	_, err = e.svc.FinishKeyRegistration(ctx, other, "laptop", []byte(`{"id":"x"}`))
	wantCode(t, "FinishKeyRegistration with an unreadable answer", err, backend.EINVALID)
	_, err = e.svc.FinishKeyRegistration(ctx, id, " ", []byte(`{}`))
	wantCode(t, "FinishKeyRegistration without a name", err, backend.EINVALID)
	_, err = e.svc.FinishKeyRegistration(ctx, id, strings.Repeat("k", backend.MaxKeyNameLength+1), []byte(`{}`))
	wantCode(t, "FinishKeyRegistration with a long name", err, backend.EINVALID)

	e.clock.Advance(11 * time.Minute)
	_, err = e.svc.BeginKeyRegistration(ctx, id)
	wantCode(t, "BeginKeyRegistration without a recent password", err, backend.EREAUTH)
}

// TestRemoveOwnKey: a key goes with a recent password; the last key of a user enrolled with
// keys is the last factor, and follows the rules of turning Two-Factor off.
func TestRemoveOwnKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPublicURL)
	u := e.createUser(backend.NewUser{Username: "alice"})
	// Signed in before the keys (a key login is the browser tests'), then given two.
	st := e.login("alice", goodPassword, backend.StepDone)
	id := e.identity(st.SessionToken)
	other := e.login("alice", goodPassword, backend.StepDone).SessionToken
	e.giveKeys(u, false, "YubiKey", "laptop")
	if got := e.user(u.ID); got.TwoFactorStatus() != backend.StatusEnabled || got.Method.Label() != "Security key or passkey" {
		t.Fatalf("status %q, method %q; want Enabled, Security key or passkey", got.TwoFactorStatus().Label(), got.Method.Label())
	}
	keys, err := e.svc.OwnKeys(ctx, id)
	if err != nil || len(keys) != 2 || keys[1].LastUsedText() != "Never" {
		t.Fatalf("OwnKeys: %+v, %v", keys, err)
	}

	e.clock.Advance(11 * time.Minute)
	wantCode(t, "RemoveOwnKey without a recent password", e.svc.RemoveOwnKey(ctx, id, keys[0].ID), backend.EREAUTH)
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveOwnKey(ctx, id, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, other); err == nil {
		t.Error("another session survived a removed key")
	}
	wantCode(t, "RemoveOwnKey of a removed key", e.svc.RemoveOwnKey(ctx, id, keys[0].ID), backend.ENOTFOUND)
	if len(e.auditEvents(backend.AuditKeyRemoved)) != 1 {
		t.Error("no audit event for the removed key")
	}

	// Required (set beneath the Service, so that this session stays): the last key cannot go.
	if _, err := e.db.UpdateUser(ctx, u.ID, backend.UserUpdate{TwoFactorRequired: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "RemoveOwnKey of a required user's last key", e.svc.RemoveOwnKey(ctx, id, keys[1].ID), backend.EFORBIDDEN)

	// Not required: the last key takes Two-Factor with it.
	if _, err := e.db.UpdateUser(ctx, u.ID, backend.UserUpdate{TwoFactorRequired: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RemoveOwnKey(ctx, id, keys[1].ID); err != nil {
		t.Fatal(err)
	}
	if got := e.user(u.ID); got.TwoFactorStatus() != backend.StatusNo {
		t.Errorf("status after removing the last key: %q, want No", got.TwoFactorStatus().Label())
	}
	if len(e.auditEvents(backend.AuditTwoFactorDisabled)) != 1 {
		t.Error("removing the last key is not audited as Two-Factor turned off")
	}

	// Disable Two-Factor removes every key.
	e.giveKeys(u, false, "phone", "spare")
	if err := e.svc.ConfirmPassword(ctx, e.admin, adminPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DisableTwoFactor(ctx, e.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if names := e.keyNames(e.admin, u.ID); len(names) != 0 {
		t.Errorf("keys after Disable Two-Factor: %v, want none", names)
	}
}

// TestRemoveUserKey: an administrator removes a user's key; the last one of a required user
// leaves them "Pending setup on next login"; Reset Two-Factor removes every key.
func TestRemoveUserKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPublicURL)
	u := e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})
	e.giveKeys(u, false, "YubiKey", "laptop")
	keys, err := e.svc.UserKeys(ctx, e.admin, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RemoveUserKey(ctx, e.admin, u.ID, keys[0].ID); err != nil {
		t.Fatal(err)
	}
	if names := e.keyNames(e.admin, u.ID); len(names) != 1 || names[0] != "laptop" {
		t.Errorf("keys left: %v, want laptop", names)
	}
	got, err := e.svc.RemoveUserKey(ctx, e.admin, u.ID, keys[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TwoFactorStatus() != backend.StatusPending {
		t.Errorf("status after the last key: %q, want Pending setup on next login", got.TwoFactorStatus().Label())
	}
	if len(e.auditEvents(backend.AuditAdminKeyRemoved)) != 2 {
		t.Error("want 2 audit events for the removed keys")
	}
	_, err = e.svc.UserKeys(ctx, e.signIn2User(t), u.ID)
	wantCode(t, "UserKeys by a user", err, backend.EFORBIDDEN)

	e.giveKeys(u, false, "again", "spare")
	if _, err := e.svc.ResetTwoFactor(ctx, e.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if names := e.keyNames(e.admin, u.ID); len(names) != 0 {
		t.Errorf("keys after Reset Two-Factor: %v, want none", names)
	}
}

func (e *env) signIn2User(t *testing.T) *backend.Identity {
	e.createUser(backend.NewUser{Username: "carol"})
	return e.signIn("carol", goodPassword)
}

func ptr[T any](v T) *T { return &v }

// keyOrigin is withPublicURL's origin, as the browser writes it.
const keyOrigin = "http://localhost:8080"

// enrolledWithKeys signs alice in and then gives her keys (the first enrolls her): her
// identity, read afresh, is enrolled with keys.
func (e *env) enrolledWithKeys(names ...string) (*backend.User, *backend.Identity) {
	e.t.Helper()
	u := e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	e.giveKeys(u, false, names...)
	id := e.identity(st.SessionToken)
	if !id.User.Enrolled() {
		e.t.Fatalf("alice's method %q after her keys, want enrolled", id.User.Method)
	}
	return u, id
}

// TestFinishKeyRegistration: a real registration (softKey) adds one more key to an enrolled
// user, audited, with no new recovery codes.
func TestFinishKeyRegistration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPublicURL)
	u, id := e.enrolledWithKeys("YubiKey")
	opts, err := e.svc.BeginKeyRegistration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.FinishKeyRegistration(ctx, id, "laptop", newSoftKey(t).register(t, opts, keyOrigin))
	if err != nil {
		t.Fatal(err)
	}
	if res.RecoveryCodes != nil {
		t.Errorf("one more key gave %d recovery codes, want none", len(res.RecoveryCodes))
	}
	if names := e.keyNames(e.admin, u.ID); len(names) != 2 || names[1] != "laptop" {
		t.Errorf("keys %v, want YubiKey, laptop", names)
	}
	if len(e.auditEvents(backend.AuditKeyAdded)) != 1 {
		t.Error("no audit event for the added key")
	}
}

// TestKeyAfterTwoFactorEnded: an administrator's Disable or Reset Two-Factor committing while
// one more key is being finished (after its ceremony was taken; the request read the user
// before it) leaves no key on an account without a method: the finish is refused. (Committed
// before the ceremony is taken, it takes the ceremony with it.)
func TestKeyAfterTwoFactorEnded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		end  func(e *env, userID int64) error
	}{
		{"Disable", func(e *env, userID int64) error { _, err := e.svc.DisableTwoFactor(ctx, e.admin, userID); return err }},
		{"Reset", func(e *env, userID int64) error { _, err := e.svc.ResetTwoFactor(ctx, e.admin, userID); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withPublicURL)
			u, id := e.enrolledWithKeys("YubiKey")
			opts, err := e.svc.BeginKeyRegistration(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			e.store.afterTakeCeremony = func() {
				e.store.afterTakeCeremony = nil
				if err := tc.end(e, u.ID); err != nil {
					t.Error(err)
				}
			}
			_, err = e.svc.FinishKeyRegistration(ctx, id, "laptop", newSoftKey(t).register(t, opts, keyOrigin))
			wantCode(t, "FinishKeyRegistration after "+tc.name, err, backend.ECONFLICT)
			if names := e.keyNames(e.admin, u.ID); len(names) != 0 {
				t.Errorf("keys after %s and the finish: %v, want none", tc.name, names)
			}
			if got := e.user(u.ID); got.Enrolled() {
				t.Errorf("method after %s and the finish: %q, want none", tc.name, got.Method)
			}
			if n := len(e.auditEvents(backend.AuditKeyAdded)); n != 0 {
				t.Errorf("%d key-added audit events, want 0", n)
			}
		})
	}
}

// TestKeyCap: an account has at most MaxKeys keys. At the cap the pages are told why no key
// can be added, a begin is refused, and so is a finish whose begin came before the last key
// (the count is under the row lock, with the insert).
func TestKeyCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPublicURL)
	names := []string{"YubiKey"}
	for i := 2; i < backend.MaxKeys; i++ {
		names = append(names, fmt.Sprintf("key %d", i))
	}
	u, id := e.enrolledWithKeys(names...) // MaxKeys-1
	if refusal, err := e.svc.AddKeyRefusal(ctx, id); err != nil || refusal != "" {
		t.Fatalf("AddKeyRefusal below the cap: %q, %v; want none", refusal, err)
	}
	opts, err := e.svc.BeginKeyRegistration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e.giveKeys(u, true, "the last one") // MaxKeys, added meanwhile (another tab)
	_, err = e.svc.FinishKeyRegistration(ctx, id, "laptop", newSoftKey(t).register(t, opts, keyOrigin))
	wantCode(t, "FinishKeyRegistration beyond the cap", err, backend.ECONFLICT)
	want := fmt.Sprintf("You have %d security keys, the most an account may have. Remove one first.", backend.MaxKeys)
	if got := backend.ErrorMessage(err); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := len(e.keyNames(e.admin, u.ID)); got != backend.MaxKeys {
		t.Errorf("got %d keys, want %d", got, backend.MaxKeys)
	}
	if refusal, err := e.svc.AddKeyRefusal(ctx, id); err != nil || refusal != want {
		t.Errorf("AddKeyRefusal at the cap: got %q, %v; want %q", refusal, err, want)
	}
	_, err = e.svc.BeginKeyRegistration(ctx, id)
	wantCode(t, "BeginKeyRegistration at the cap", err, backend.ECONFLICT)
}

// TestKeyRefusalNotLogged: the library's reason for refusing a key is logged without its
// DevInfo, which repeats what the browser sent (here the origin a forger used).
func TestKeyRefusalNotLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPublicURL)
	_, id := e.enrolledWithKeys("YubiKey")
	opts, err := e.svc.BeginKeyRegistration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.FinishKeyRegistration(ctx, id, "laptop", newSoftKey(t).register(t, opts, "http://forger-origin.localhost:8080"))
	wantCode(t, "FinishKeyRegistration from another origin", err, backend.EINVALID)
	logs := e.logs.String()
	if !strings.Contains(logs, "security key registration refused") {
		t.Fatalf("no log line of the refusal in:\n%s", logs)
	}
	if strings.Contains(logs, "forger-origin") {
		t.Errorf("the log carries what the browser sent (DevInfo):\n%s", logs)
	}
}

// TestKeyWithPublicURLAsTyped: a public URL typed with capitals, the default port and a slash
// still makes keys work: the browser's origin is compared with its canonical form.
func TestKeyWithPublicURLAsTyped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *backend.Config) { c.PublicURL = "HTTP://LocalHost:80/" })
	_, id := e.enrolledWithKeys("YubiKey")
	opts, err := e.svc.BeginKeyRegistration(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FinishKeyRegistration(ctx, id, "laptop", newSoftKey(t).register(t, opts, "http://localhost")); err != nil {
		t.Errorf("FinishKeyRegistration under %q: %v", e.cfg.PublicURL, err)
	}
}
