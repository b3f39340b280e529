package storetest

import (
	"fmt"
	"testing"
	"time"

	"gatehouse/backend"
)

// putSheet stores a sheet owner received for the user, with sealed standing in for the sealed
// codes.
func putSheet(t *testing.T, db backend.Store, owner string, userID int64, sealed string, ttl time.Duration) *backend.RecoverySheet {
	t.Helper()
	p, err := db.PutRecoverySheet(ctx, owner, userID, []byte(sealed), ttl)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sheetOf is the sealed codes of owner's sheet, or "" if there is none.
func sheetOf(t *testing.T, db backend.Store, owner string) string {
	t.Helper()
	p, err := db.FindRecoverySheet(ctx, owner)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return string(p.Sealed)
}

// testRecoverySheets: a sheet is found only by the owner that received it, a new one replaces
// every earlier sheet of the user and no one else's, it moves with its login, and it ends with
// its acknowledgement, its owner's sessions, the enrollment, or its expiry; a reopened store
// (a restart, another process) finds it.
func testRecoverySheets(t *testing.T, o Opener) {
	d, db, _ := newData(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	carol := createUser(t, db, "carol", backend.RoleUser)

	_, err := db.FindRecoverySheet(ctx, "session-a")
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.PutRecoverySheet(ctx, "session-a", 999, []byte("x"), time.Hour)
	wantCode(t, err, backend.ENOTFOUND)

	p := putSheet(t, db, "session-a", bob.ID, "bob-1", 15*time.Minute)
	got, err := db.FindRecoverySheet(ctx, "session-a")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != bob.ID || string(got.Sealed) != "bob-1" || !got.CreatedAt.Equal(p.CreatedAt) || got.ExpiresAt.Sub(got.CreatedAt) != 15*time.Minute {
		t.Errorf("found %+v, want bob's sheet of 15 minutes from %v", got, p.CreatedAt)
	}
	if s := sheetOf(t, db, "session-b"); s != "" {
		t.Errorf("another owner finds sheet %q", s)
	}

	putSheet(t, db, "carol-session", carol.ID, "carol-1", time.Hour)
	putSheet(t, db, "session-b", bob.ID, "bob-2", time.Hour) // bob regenerates in another session
	if s := sheetOf(t, db, "session-a"); s != "" {
		t.Errorf("bob's earlier sheet %q still found after a newer set: its codes are void", s)
	}
	if s := sheetOf(t, db, "carol-session"); s != "carol-1" {
		t.Errorf("carol's sheet is %q after bob's new one, want carol-1", s)
	}

	// A reopened store, as a restarted server or another one on the database, finds it.
	if s := sheetOf(t, d.Open(nil), "session-b"); s != "bob-2" {
		t.Errorf("reopened store finds %q, want bob-2", s)
	}

	// A login that goes on under a new token takes its sheet along, times kept.
	before, _ := db.FindRecoverySheet(ctx, "session-b")
	if ok, err := db.MoveRecoverySheet(ctx, "session-b", "session-c", []byte("bob-2 resealed")); err != nil || !ok {
		t.Fatalf("MoveRecoverySheet = %v, %v; want true", ok, err)
	}
	after, err := db.FindRecoverySheet(ctx, "session-c")
	if err != nil || string(after.Sealed) != "bob-2 resealed" || !after.CreatedAt.Equal(before.CreatedAt) || !after.ExpiresAt.Equal(before.ExpiresAt) {
		t.Errorf("moved sheet %+v, %v; want the resealed codes with the times of %+v", after, err, before)
	}
	if s := sheetOf(t, db, "session-b"); s != "" {
		t.Errorf("the old owner still finds %q", s)
	}
	if ok, err := db.MoveRecoverySheet(ctx, "session-b", "session-d", []byte("x")); err != nil || ok {
		t.Errorf("moving a sheet that is gone = %v, %v; want false", ok, err)
	}

	// "I have saved these codes".
	if ok, err := db.DeleteRecoverySheet(ctx, "session-c"); err != nil || !ok {
		t.Fatalf("deleting = %v, %v; want true", ok, err)
	}
	if ok, err := db.DeleteRecoverySheet(ctx, "session-c"); err != nil || ok {
		t.Errorf("deleting again = %v, %v; want false", ok, err)
	}
	if s := sheetOf(t, db, "session-c"); s != "" {
		t.Errorf("acknowledged sheet still found: %q", s)
	}

	// Sessions ending take their sheets along; the session kept keeps its own.
	putSheet(t, db, "kept", bob.ID, "bob-3", time.Hour)
	if err := db.DeleteUserSessions(ctx, bob.ID, "kept"); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "kept"); s != "bob-3" {
		t.Errorf("the kept session's sheet is %q, want bob-3", s)
	}
	putSheet(t, db, "ended", bob.ID, "bob-4", time.Hour)
	if err := db.DeleteUserSessions(ctx, bob.ID, "kept"); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "ended"); s != "" {
		t.Errorf("an ended session's sheet is still found: %q", s)
	}
	if err := db.DeleteUserSessions(ctx, carol.ID, ""); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "carol-session"); s != "" {
		t.Errorf("carol's sheet after all her sessions ended: %q", s)
	}

	// Two-Factor cleared (disabled or reset): the codes on show are void, and go.
	putSheet(t, db, "kept", bob.ID, "bob-5", time.Hour)
	if _, err := db.UpdateUser(ctx, bob.ID, backend.UserUpdate{ClearEnrollment: true}); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "kept"); s != "" {
		t.Errorf("sheet after the enrollment was cleared: %q", s)
	}

	// Purge: strictly before the expiry stays, after it goes; at once if its owner has ended.
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: "purged", UserID: bob.ID}); err != nil {
		t.Fatal(err)
	}
	p = putSheet(t, db, "purged", bob.ID, "bob-6", time.Minute)
	putSheet(t, db, "orphan", carol.ID, "carol-2", time.Hour)
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, p.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "purged"); s != "bob-6" {
		t.Errorf("purged at its expiry: %q, want it kept until then", s)
	}
	if s := sheetOf(t, db, "orphan"); s != "" {
		t.Errorf("the sheet of an owner that is neither a session nor a login attempt survived the purge: %q", s)
	}
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, p.ExpiresAt.Add(time.Nanosecond)); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "purged"); s != "" {
		t.Errorf("expired sheet not purged: %q", s)
	}

	// A deleted user's sheets go with the user.
	putSheet(t, db, "carol-again", carol.ID, "carol-2", time.Hour)
	if err := d.Exec(fmt.Sprintf(`DELETE FROM users WHERE id = %d`, carol.ID)); err != nil {
		t.Fatal(err)
	}
	if s := sheetOf(t, db, "carol-again"); s != "" {
		t.Errorf("a deleted user's sheet: %q", s)
	}
}

// testLatestSMSCode: the last code sent for a login attempt, whatever its state, and none for
// another attempt.
func testLatestSMSCode(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	bob := createUser(t, db, "bob", backend.RoleUser)
	_, err := db.LatestSMSCode(ctx, "attempt-1")
	wantCode(t, err, backend.ENOTFOUND)
	var last *backend.SMSCode
	for _, h := range []string{"code-1", "code-2"} {
		last = &backend.SMSCode{UserID: bob.ID, AttemptHash: "attempt-1", CodeHash: h}
		if retry, err := db.ReserveSMSCode(ctx, last, 10*time.Minute, 0, 5); err != nil || !retry.IsZero() {
			t.Fatalf("ReserveSMSCode = %v, %v", retry, err)
		}
	}
	if used, err := db.ConsumeSMSCode(ctx, "attempt-1", "code-2"); err != nil || !used {
		t.Fatalf("ConsumeSMSCode = %v, %v", used, err)
	}
	got, err := db.LatestSMSCode(ctx, "attempt-1")
	if err != nil || got.ID != last.ID || got.CodeHash != "code-2" || !got.CreatedAt.Equal(last.CreatedAt) || !got.ExpiresAt.Equal(last.ExpiresAt) {
		t.Errorf("LatestSMSCode = %+v, %v; want %+v", got, err, last)
	}
	_, err = db.LatestSMSCode(ctx, "attempt-2")
	wantCode(t, err, backend.ENOTFOUND)
}
