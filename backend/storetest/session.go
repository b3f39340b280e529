package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"gatehouse/backend"
)

func testLoginAttempts(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)

	a := &backend.LoginAttempt{TokenHash: "a1", UserID: u.ID, Step: backend.StepEnroll,
		CreatedAt: t0.Add(-time.Minute), ExpiresAt: t0.Add(9 * time.Minute), IP: "192.0.2.1"}
	if err := db.CreateLoginAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindLoginAttempt(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *a {
		t.Fatalf("FindLoginAttempt:\n got %+v\nwant %+v", *got, *a)
	}
	wantCode(t, db.CreateLoginAttempt(ctx, a), backend.ECONFLICT)
	wantCode(t, db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "x", UserID: 999, Step: backend.StepVerify, ExpiresAt: t0}), backend.ENOTFOUND)
	_, err = db.FindLoginAttempt(ctx, "nope")
	wantCode(t, err, backend.ENOTFOUND)

	// Replacing passes the step once: the old token dies, the new one lives.
	next := &backend.LoginAttempt{TokenHash: "a2", UserID: u.ID, Step: backend.StepChangePassword, ExpiresAt: t0.Add(time.Hour)}
	if ok, err := db.ReplaceLoginAttempt(ctx, "a1", next); err != nil || !ok {
		t.Fatalf("ReplaceLoginAttempt: got %v, %v; want true", ok, err)
	}
	_, err = db.FindLoginAttempt(ctx, "a1")
	wantCode(t, err, backend.ENOTFOUND)
	if got, err := db.FindLoginAttempt(ctx, "a2"); err != nil || got.Step != backend.StepChangePassword || got.CreatedAt.IsZero() {
		t.Fatalf("replacement: got %+v, %v", got, err)
	}
	again := &backend.LoginAttempt{TokenHash: "a3", UserID: u.ID, Step: backend.StepDone, ExpiresAt: t0.Add(time.Hour)}
	if ok, err := db.ReplaceLoginAttempt(ctx, "a1", again); err != nil || ok {
		t.Fatalf("ReplaceLoginAttempt of a gone attempt: got %v, %v; want false", ok, err)
	}
	_, err = db.FindLoginAttempt(ctx, "a3")
	wantCode(t, err, backend.ENOTFOUND) // stores nothing

	if err := db.DeleteLoginAttempt(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	_, err = db.FindLoginAttempt(ctx, "a2")
	wantCode(t, err, backend.ENOTFOUND)
	if err := db.DeleteLoginAttempt(ctx, "a2"); err != nil {
		t.Fatalf("DeleteLoginAttempt of a gone attempt: %v", err)
	}
}

func testReplaceLoginAttemptConcurrent(t *testing.T, o Opener) {
	d, db, _ := newData(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "old", UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n := race(t, 50, func(i int) (bool, error) {
		return db.ReplaceLoginAttempt(ctx, "old", &backend.LoginAttempt{TokenHash: fmt.Sprint("new", i), UserID: u.ID, Step: backend.StepChangePassword, ExpiresAt: t0.Add(time.Hour)})
	})
	if n != 1 {
		t.Fatalf("50 concurrent ReplaceLoginAttempt: %d won, want 1", n)
	}
	if rows := d.count(t, "login_attempts"); rows != 1 {
		t.Fatalf("%d login attempts, want 1", rows)
	}
}

func testCompleteLogin(t *testing.T, o Opener) {
	d, db, _ := newData(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "att", UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// 50 submissions of one attempt: exactly one signs in, and exactly one session exists.
	n := race(t, 50, func(i int) (bool, error) {
		return db.CompleteLogin(ctx, "att", &backend.Session{TokenHash: fmt.Sprint("sess", i), UserID: u.ID, IP: "192.0.2.9"})
	})
	if n != 1 {
		t.Fatalf("50 concurrent CompleteLogin: %d won, want 1", n)
	}
	sessions, attempts := d.count(t, "sessions"), d.count(t, "login_attempts")
	if sessions != 1 || attempts != 0 {
		t.Fatalf("%d sessions, %d attempts; want 1, 0", sessions, attempts)
	}

	// An attempt of one user cannot start a session of another: nothing changes.
	other := createUser(t, db, "mallory", backend.RoleUser)
	if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "att2", UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.CompleteLogin(ctx, "att2", &backend.Session{TokenHash: "evil", UserID: other.ID}); ok || err == nil {
		t.Fatalf("CompleteLogin for another user: got %v, %v; want false and an error", ok, err)
	}
	if _, err := db.FindLoginAttempt(ctx, "att2"); err != nil {
		t.Fatalf("attempt after a refused CompleteLogin: %v (want it kept: the transaction rolled back)", err)
	}
	_, _, err := db.FindSession(ctx, "evil")
	wantCode(t, err, backend.ENOTFOUND)
}

func testSessions(t *testing.T, o Opener) {
	db, c := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)

	s := &backend.Session{TokenHash: "s1", UserID: u.ID, IP: "192.0.2.1", UserAgent: "test/1"}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	stamp := t0.Add(time.Second) // the clock reading after CreateUser's
	if !s.CreatedAt.Equal(stamp) || !s.LastSeenAt.Equal(stamp) || !s.ReauthAt.IsZero() {
		t.Fatalf("CreateSession stamps: %+v, want created and last seen at %v, no reauth", *s, stamp)
	}
	got, gotUser, err := db.FindSession(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("FindSession:\n got %+v\nwant %+v", *got, *s)
	}
	if want, _ := db.FindUserByID(ctx, u.ID); *gotUser != *want {
		t.Fatalf("FindSession's user:\n got %+v\nwant %+v", *gotUser, *want)
	}
	wantCode(t, db.CreateSession(ctx, s), backend.ECONFLICT)
	wantCode(t, db.CreateSession(ctx, &backend.Session{TokenHash: "s2", UserID: 999}), backend.ENOTFOUND)

	c.set(t0.Add(time.Hour))
	if err := db.TouchSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSessionReauth(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	got, _, _ = db.FindSession(ctx, "s1")
	if !got.LastSeenAt.Equal(t0.Add(time.Hour)) || !got.ReauthAt.Equal(t0.Add(time.Hour+time.Second)) || !got.CreatedAt.Equal(stamp) {
		t.Fatalf("after touch and reauth: %+v", *got)
	}
	if err := db.TouchSession(ctx, "gone"); err != nil {
		t.Errorf("TouchSession of a gone session: %v, want nil", err)
	}
	wantCode(t, db.SetSessionReauth(ctx, "gone"), backend.ENOTFOUND)

	if err := db.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = db.FindSession(ctx, "s1")
	wantCode(t, err, backend.ENOTFOUND)
	if err := db.DeleteSession(ctx, "s1"); err != nil {
		t.Errorf("DeleteSession of a gone session: %v", err)
	}
}

func testDeleteUserSessions(t *testing.T, o Opener) {
	for _, tc := range []struct {
		except string
		left   map[string]bool
	}{
		{"", map[string]bool{"b1": false, "b2": false, "c1": true}},
		{"b2", map[string]bool{"b1": false, "b2": true, "c1": true}},
	} {
		t.Run(fmt.Sprintf("except %q", tc.except), func(t *testing.T) {
			db, _ := newDB(t, o)
			bob := createUser(t, db, "bob", backend.RoleUser)
			carol := createUser(t, db, "carol", backend.RoleUser)
			for h, id := range map[string]int64{"b1": bob.ID, "b2": bob.ID, "c1": carol.ID} {
				db.CreateSession(ctx, &backend.Session{TokenHash: h, UserID: id})
				db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "a" + h, UserID: id, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)})
			}
			if err := db.DeleteUserSessions(ctx, bob.ID, tc.except); err != nil {
				t.Fatal(err)
			}
			for h, want := range tc.left {
				_, _, err := db.FindSession(ctx, h)
				if got := err == nil; got != want {
					t.Errorf("session %s left: %v, want %v", h, got, want)
				}
				_, err = db.FindLoginAttempt(ctx, "a"+h)
				if got, want := err == nil, h == "c1"; got != want {
					t.Errorf("attempt a%s left: %v, want %v", h, got, want)
				}
			}
		})
	}
}

func testDeleteExpired(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	for i, seen := range []time.Duration{-2 * time.Hour, -31 * time.Minute, -29 * time.Minute, 0} {
		db.CreateSession(ctx, &backend.Session{TokenHash: fmt.Sprint("s", i), UserID: u.ID, CreatedAt: t0.Add(-3 * time.Hour), LastSeenAt: t0.Add(seen)})
	}
	// In use, but past the absolute lifetime.
	db.CreateSession(ctx, &backend.Session{TokenHash: "s4", UserID: u.ID, CreatedAt: t0.Add(-13 * time.Hour), LastSeenAt: t0})
	for i, exp := range []time.Duration{-time.Minute, -time.Second, time.Second, time.Hour} {
		db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: fmt.Sprint("a", i), UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(exp)})
	}
	if err := db.DeleteExpired(ctx, t0.Add(-30*time.Minute), t0.Add(-12*time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hash string
		want bool
	}{{"s0", false}, {"s1", false}, {"s2", true}, {"s3", true}, {"s4", false}, {"a0", false}, {"a1", false}, {"a2", true}, {"a3", true}} {
		var err error
		if tc.hash[0] == 's' {
			_, _, err = db.FindSession(ctx, tc.hash)
		} else {
			_, err = db.FindLoginAttempt(ctx, tc.hash)
		}
		if got := err == nil; got != tc.want {
			t.Errorf("%s kept: %v, want %v", tc.hash, got, tc.want)
		}
	}
	// Zero times delete nothing.
	if err := db.DeleteExpired(ctx, time.Time{}, time.Time{}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.FindSession(ctx, "s2"); err != nil {
		t.Errorf("DeleteExpired(zero times) deleted a session: %v", err)
	}
}
