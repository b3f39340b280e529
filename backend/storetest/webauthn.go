package storetest

import (
	"testing"
	"time"

	"gatehouse/backend"
)

// The store's side of passkeys and security keys (backend/webauthn.go): ceremonies bound to
// their owner and used once, credentials, enrollment with a key, and what ClearEnrollment
// removes.

func putCeremony(t *testing.T, db backend.Store, owner, kind string, userID int64, data string, ttl time.Duration) {
	t.Helper()
	if err := db.PutWebAuthnCeremony(ctx, &backend.WebAuthnCeremony{Owner: owner, Kind: kind, UserID: userID, Data: []byte(data)}, ttl); err != nil {
		t.Fatalf("PutWebAuthnCeremony(%s, %s): %v", owner, kind, err)
	}
}

// testWebAuthnCeremonies: a ceremony is taken only by its owner and kind, once, before it
// expires; a new one replaces the owner's earlier one of the kind; a missing user is
// ENOTFOUND; a reopened store (another server) takes it; of concurrent takers one wins.
func testWebAuthnCeremonies(t *testing.T, o Opener) {
	d, db, c := newData(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)

	err := db.PutWebAuthnCeremony(ctx, &backend.WebAuthnCeremony{Owner: "s", Kind: backend.CeremonyLogin, UserID: 999, Data: []byte("x")}, time.Minute)
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.TakeWebAuthnCeremony(ctx, "attempt-a", backend.CeremonyLogin)
	wantCode(t, err, backend.ENOTFOUND)

	putCeremony(t, db, "attempt-a", backend.CeremonyLogin, bob.ID, "challenge-1", 5*time.Minute)
	putCeremony(t, db, "attempt-a", backend.CeremonyLogin, bob.ID, "challenge-2", 5*time.Minute) // replaces
	putCeremony(t, db, "attempt-a", backend.CeremonyRegistration, bob.ID, "reg", 5*time.Minute)
	_, err = db.TakeWebAuthnCeremony(ctx, "attempt-b", backend.CeremonyLogin)
	wantCode(t, err, backend.ENOTFOUND) // another attempt has none of attempt-a's

	other := d.Open(c.Now) // another server on the same database
	got, err := other.TakeWebAuthnCeremony(ctx, "attempt-a", backend.CeremonyLogin)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != bob.ID || string(got.Data) != "challenge-2" {
		t.Errorf("took %+v, want bob's challenge-2", got)
	}
	_, err = db.TakeWebAuthnCeremony(ctx, "attempt-a", backend.CeremonyLogin)
	wantCode(t, err, backend.ENOTFOUND) // used once
	if got, err := db.TakeWebAuthnCeremony(ctx, "attempt-a", backend.CeremonyRegistration); err != nil || string(got.Data) != "reg" {
		t.Errorf("registration ceremony: %+v, %v; want reg (kinds are apart)", got, err)
	}

	putCeremony(t, db, "attempt-c", backend.CeremonyLogin, bob.ID, "late", time.Minute)
	c.add(2 * time.Minute)
	_, err = db.TakeWebAuthnCeremony(ctx, "attempt-c", backend.CeremonyLogin)
	wantCode(t, err, backend.ENOTFOUND) // expired
	if err := db.DeleteExpiredWebAuthn(ctx, c.Now()); err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "webauthn_ceremonies"); n != 0 {
		t.Errorf("%d ceremonies after DeleteExpiredWebAuthn, want 0", n)
	}

	putCeremony(t, db, "attempt-d", backend.CeremonyLogin, bob.ID, "raced", 5*time.Minute)
	stores := replicas(d, 8, c.Now)
	wins := race(t, 8, func(i int) (bool, error) {
		_, err := stores[i].TakeWebAuthnCeremony(ctx, "attempt-d", backend.CeremonyLogin)
		if backend.ErrorCode(err) == backend.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	})
	if wins != 1 {
		t.Errorf("%d concurrent takers got the ceremony, want 1", wins)
	}
}

// testWebAuthnCeremoniesOwned: a ceremony goes with its owner: DeleteOwned (Logout) takes the
// owner's of both kinds and no other's; DeleteUserSessions those of every owner but the one
// kept.
func testWebAuthnCeremoniesOwned(t *testing.T, o Opener) {
	_, db, _ := newData(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	for _, owner := range []string{"session-a", "session-b", "session-c"} {
		putCeremony(t, db, owner, backend.CeremonyLogin, bob.ID, "challenge", 5*time.Minute)
		putCeremony(t, db, owner, backend.CeremonyRegistration, bob.ID, "challenge", 5*time.Minute)
	}
	if err := db.DeleteOwned(ctx, "session-a"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUserSessions(ctx, bob.ID, "session-c"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		owner string
		want  bool
	}{{"session-a", false}, {"session-b", false}, {"session-c", true}} {
		for _, kind := range []string{backend.CeremonyLogin, backend.CeremonyRegistration} {
			_, err := db.TakeWebAuthnCeremony(ctx, tc.owner, kind)
			if got := err == nil; got != tc.want {
				t.Errorf("%s's %s ceremony left: got %v (%v), want %v", tc.owner, kind, got, err, tc.want)
			}
		}
	}
}

func newCredential(userID int64, id, name string) *backend.WebAuthnCredential {
	return &backend.WebAuthnCredential{UserID: userID, CredentialID: []byte(id), Name: name, Record: []byte(`{"id":"` + id + `"}`), SignCount: 1}
}

// testWebAuthnCredentials: credentials are listed per user, oldest first; an ID is unique
// across users; use is a compare-and-set on the counter; rename, clone marks and deletion
// touch only the user's own key, and deletion is a new credentials version.
func testWebAuthnCredentials(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	carol := createUser(t, db, "carol", backend.RoleUser)

	k1, k2 := newCredential(bob.ID, "cred-1", "YubiKey"), newCredential(bob.ID, "cred-2", "this laptop")
	k2.BackupEligible, k2.BackupState = true, true
	for _, k := range []*backend.WebAuthnCredential{k1, k2} {
		if err := db.AddWebAuthnCredential(ctx, k); err != nil {
			t.Fatal(err)
		}
		if k.ID == 0 || k.CreatedAt.IsZero() {
			t.Errorf("AddWebAuthnCredential left ID %d, CreatedAt %v", k.ID, k.CreatedAt)
		}
	}
	wantCode(t, db.AddWebAuthnCredential(ctx, newCredential(carol.ID, "cred-1", "copy")), backend.ECONFLICT)
	wantCode(t, db.AddWebAuthnCredential(ctx, newCredential(999, "cred-9", "nobody's")), backend.ENOTFOUND)

	got, err := db.WebAuthnCredentials(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "YubiKey" || got[1].Name != "this laptop" {
		t.Fatalf("bob's credentials: %+v, want YubiKey, this laptop", got)
	}
	if g := got[1]; string(g.CredentialID) != "cred-2" || !g.BackupEligible || !g.BackupState || g.SignCount != 1 || !g.LastUsedAt.IsZero() || !g.CloneWarningAt.IsZero() {
		t.Errorf("second credential: %+v", g)
	}
	if carols, _ := db.WebAuthnCredentials(ctx, carol.ID); len(carols) != 0 {
		t.Errorf("carol has %d credentials, want 0", len(carols))
	}

	use := *k1
	use.SignCount, use.BackupState, use.Record = 5, false, []byte(`{"n":5}`)
	if ok, err := db.UseWebAuthnCredential(ctx, k1.ID, 1, &use); err != nil || !ok {
		t.Fatalf("UseWebAuthnCredential(1 → 5): %v, %v; want true", ok, err)
	}
	if ok, _ := db.UseWebAuthnCredential(ctx, k1.ID, 1, &use); ok {
		t.Error("UseWebAuthnCredential from a stale counter: got true, want false")
	}
	got, _ = db.WebAuthnCredentials(ctx, bob.ID)
	if got[0].SignCount != 5 || string(got[0].Record) != `{"n":5}` || got[0].LastUsedAt.IsZero() {
		t.Errorf("after use: %+v, want counter 5, the new record, a last use", got[0])
	}

	if err := db.MarkWebAuthnCloned(ctx, k1.ID); err != nil {
		t.Fatal(err)
	}
	got, _ = db.WebAuthnCredentials(ctx, bob.ID)
	if got[0].CloneWarningAt.IsZero() {
		t.Error("MarkWebAuthnCloned left no warning")
	}
	wantCode(t, db.MarkWebAuthnCloned(ctx, 9999), backend.ENOTFOUND)

	wantCode(t, db.RenameWebAuthnCredential(ctx, carol.ID, k1.ID, "mine now"), backend.ENOTFOUND)
	if err := db.RenameWebAuthnCredential(ctx, bob.ID, k1.ID, "YubiKey 5C"); err != nil {
		t.Fatal(err)
	}

	before, _ := db.FindUserByID(ctx, bob.ID)
	wantCode(t, db.DeleteWebAuthnCredential(ctx, carol.ID, k1.ID), backend.ENOTFOUND)
	if err := db.DeleteWebAuthnCredential(ctx, bob.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	after, _ := db.FindUserByID(ctx, bob.ID)
	if after.CredentialsVersion <= before.CredentialsVersion {
		t.Errorf("credentials version %d after deleting a key, want above %d", after.CredentialsVersion, before.CredentialsVersion)
	}
	got, _ = db.WebAuthnCredentials(ctx, bob.ID)
	if len(got) != 1 || got[0].Name != "YubiKey 5C" {
		t.Errorf("after rename and delete: %+v, want YubiKey 5C alone", got)
	}
}

// testEnableWebAuthn: enrolling with a key sets the method (status Enabled), stores the key
// and the recovery codes, ends pending setups, only once; ClearEnrollment removes the keys and
// ceremonies with the rest.
func testEnableWebAuthn(t *testing.T, o Opener) {
	d, db, _ := newData(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	if _, err := db.BeginAppEnrollment(ctx, "other-session", bob.ID, []byte("sealed"), time.Hour); err != nil {
		t.Fatal(err)
	}
	codes := []backend.RecoveryCode{{Salt: []byte("s1"), Hash: []byte("h1")}, {Salt: []byte("s2"), Hash: []byte("h2")}}
	k := newCredential(bob.ID, "cred-1", "YubiKey")
	if err := db.EnableWebAuthn(ctx, k, codes); err != nil {
		t.Fatal(err)
	}
	u, _ := db.FindUserByID(ctx, bob.ID)
	if u.Method != backend.MethodWebAuthn || u.TwoFactorStatus() != backend.StatusEnabled || u.CredentialsVersion <= bob.CredentialsVersion {
		t.Errorf("after EnableWebAuthn: method %q, status %q, version %d (was %d)", u.Method, u.TwoFactorStatus(), u.CredentialsVersion, bob.CredentialsVersion)
	}
	if rc, _ := db.RecoveryCodes(ctx, bob.ID); len(rc) != 2 {
		t.Errorf("%d recovery codes, want 2", len(rc))
	}
	_, err := db.FindAppEnrollment(ctx, "other-session")
	wantCode(t, err, backend.ENOTFOUND)
	if counts, _ := db.CountUsersByStatus(ctx); counts[backend.StatusEnabled] != 1 {
		t.Errorf("status counts %v, want 1 enabled", counts)
	}
	if users, _, _ := db.FindUsers(ctx, backend.UserFilter{Status: backend.StatusEnabled}); len(users) != 1 {
		t.Errorf("FindUsers(enabled): %d users, want 1", len(users))
	}

	wantCode(t, db.EnableWebAuthn(ctx, newCredential(bob.ID, "cred-2", "again"), codes), backend.ECONFLICT)
	wantCode(t, db.EnableWebAuthn(ctx, newCredential(999, "cred-3", "nobody"), codes), backend.ENOTFOUND)
	carol := createUser(t, db, "carol", backend.RoleUser)
	wantCode(t, db.EnableWebAuthn(ctx, newCredential(carol.ID, "cred-1", "bob's key"), codes), backend.ECONFLICT)
	if c, _ := db.FindUserByID(ctx, carol.ID); c.Method != backend.MethodNone {
		t.Errorf("carol's method %q after a refused EnableWebAuthn, want none (nothing changed)", c.Method)
	}
	if got, _ := db.WebAuthnCredentials(ctx, bob.ID); len(got) != 1 {
		t.Errorf("bob has %d keys, want 1", len(got))
	}

	putCeremony(t, db, "bob-session", backend.CeremonyRegistration, bob.ID, "reg", time.Hour)
	if _, err := db.UpdateUser(ctx, bob.ID, backend.UserUpdate{ClearEnrollment: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.WebAuthnCredentials(ctx, bob.ID); len(got) != 0 {
		t.Errorf("%d keys after ClearEnrollment, want 0", len(got))
	}
	if n := d.count(t, "webauthn_ceremonies"); n != 0 {
		t.Errorf("%d ceremonies after ClearEnrollment, want 0", n)
	}
	if u, _ := db.FindUserByID(ctx, bob.ID); u.Method != backend.MethodNone {
		t.Errorf("method %q after ClearEnrollment, want none", u.Method)
	}
}
