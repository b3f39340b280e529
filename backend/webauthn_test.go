package backend_test

import (
	"encoding/json"
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
