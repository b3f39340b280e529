package storetest

// Back-channel logout deliveries: a row per (session, application), due once the session is
// gone, claimed under a lease by one server at a time, deleted once delivered or given up.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

func init() {
	tests = append(tests,
		test{"LogoutDeliveries", testLogoutDeliveries},
		test{"LogoutDeliveryRetries", testLogoutDeliveryRetries},
		test{"RaceClaimLogoutDeliveries", testRaceClaimLogoutDeliveries},
	)
}

// logoutFixture is a user, apps (the first with a back-channel URI, the second without) and
// sessions s1…sN of the user, with s1 signed in to both apps and the others to the first.
func logoutFixture(t *testing.T, db backend.Store, sessions int) (*backend.User, *backend.App, *backend.App) {
	t.Helper()
	u := createUser(t, db, "alice", backend.RoleUser)
	withURI := &backend.App{ClientID: "gh-bcl", Name: "Wiki", RedirectURIs: []string{"https://wiki.example.com/cb"},
		Audience: backend.AudienceEveryone, BackchannelLogoutURI: "https://wiki.example.com/bcl"}
	without := &backend.App{ClientID: "gh-none", Name: "Chat", RedirectURIs: []string{"https://chat.example.com/cb"}, Audience: backend.AudienceEveryone}
	for _, a := range []*backend.App{withURI, without} {
		if err := db.CreateApp(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= sessions; i++ {
		h := fmt.Sprintf("s%d", i)
		if err := db.CreateSession(ctx, &backend.Session{TokenHash: h, UserID: u.ID, SID: "sid-" + h, AMR: []string{"pwd"}}); err != nil {
			t.Fatal(err)
		}
		apps := []*backend.App{withURI}
		if i == 1 {
			apps = append(apps, without)
		}
		for _, a := range apps {
			for range 2 { // the second call changes nothing
				if err := db.RecordSessionApp(ctx, backend.SessionApp{SessionHash: h, SID: "sid-" + h, AppID: a.ID, UserID: u.ID}); err != nil {
					t.Fatalf("RecordSessionApp: %v", err)
				}
			}
		}
	}
	return u, withURI, without
}

func testLogoutDeliveries(t *testing.T, o Opener) {
	d := o(t)
	c := fakeclock.New(t0)
	db := d.Open(c.Now)
	u, app, without := logoutFixture(t, db, 2)
	if n := d.count(t, "oidc_logout_deliveries"); n != 3 {
		t.Fatalf("rows after recording s1 (2 apps) and s2 (1 app), each twice: got %d, want 3", n)
	}
	wantCode(t, db.RecordSessionApp(ctx, backend.SessionApp{SessionHash: "s1", AppID: 999, UserID: u.ID}), backend.ENOTFOUND)

	// Live sessions owe nothing.
	if n, err := db.QueueLogoutDeliveries(ctx, u.ID); err != nil || n != 0 {
		t.Fatalf("QueueLogoutDeliveries with both sessions live: %d %v, want 0", n, err)
	}
	if ds, err := db.ClaimLogoutDeliveries(ctx, "L1", time.Minute, 10); err != nil || len(ds) != 0 {
		t.Fatalf("claim with nothing due: %d %v, want none", len(ds), err)
	}

	// s1 ends: one delivery to the app with a URI; the other app's row goes.
	if err := db.Atomically(ctx, func(ctx context.Context) error {
		if err := db.DeleteSession(ctx, "s1"); err != nil {
			return err
		}
		n, err := db.QueueLogoutDeliveries(ctx, u.ID)
		if n != 1 {
			return fmt.Errorf("queued %d, want 1", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "oidc_logout_deliveries"); n != 2 {
		t.Fatalf("rows after s1 ended: got %d, want 2 (s1's due to %s, s2's waiting)", n, app.Name)
	}
	st, err := db.LogoutDeliveryStatus(ctx, app.ID)
	if err != nil || st.Pending != 1 {
		t.Fatalf("status: %+v %v, want 1 pending", st, err)
	}
	if st, err := db.LogoutDeliveryStatus(ctx, without.ID); err != nil || *st != (backend.LogoutStatus{}) {
		t.Fatalf("status of the app without URI: %+v %v, want zero", st, err)
	}

	ds, err := db.ClaimLogoutDeliveries(ctx, "L1", time.Minute, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %d %v, want 1", len(ds), err)
	}
	got := ds[0]
	if got.AppID != app.ID || got.ClientID != app.ClientID || got.AppName != app.Name || got.URI != app.BackchannelLogoutURI ||
		got.UserID != u.ID || got.SID != "sid-s1" || !got.EndedAt.Equal(t0) || got.Tries != 0 {
		t.Fatalf("claimed %+v, want s1's delivery to %s ended at %v", *got, app.Name, t0)
	}
	// Leased: another claim gets nothing until the lease ends.
	if ds, err := db.ClaimLogoutDeliveries(ctx, "L2", time.Minute, 10); err != nil || len(ds) != 0 {
		t.Fatalf("claim while leased: %d %v, want none", len(ds), err)
	}
	c.Advance(time.Minute)
	ds, err = db.ClaimLogoutDeliveries(ctx, "L2", time.Minute, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim after the lease ended: %d %v, want 1", len(ds), err)
	}
	// The first lease is lost: its finish changes nothing.
	if ok, err := db.FinishLogoutDelivery(ctx, got.ID, "L1", backend.LogoutOutcome{Delivered: true}); err != nil || ok {
		t.Fatalf("finish under a lost lease: %v %v, want false", ok, err)
	}
	if ok, err := db.FinishLogoutDelivery(ctx, got.ID, "L2", backend.LogoutOutcome{Delivered: true}); err != nil || !ok {
		t.Fatalf("finish: %v %v, want true", ok, err)
	}
	if n := d.count(t, "oidc_logout_deliveries"); n != 1 {
		t.Fatalf("rows after the delivery: got %d, want 1 (s2's)", n)
	}
	st, err = db.LogoutDeliveryStatus(ctx, app.ID)
	if err != nil || st.Pending != 0 || !st.DeliveredAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("status after delivery: %+v %v, want none pending, delivered at %v", st, err, t0.Add(time.Minute))
	}

	// A user's sessions all end (0: everyone's, as the purge asks): s2's is due.
	if err := db.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := db.QueueLogoutDeliveries(ctx, 0); err != nil || n != 1 {
		t.Fatalf("QueueLogoutDeliveries(0) after DeleteUserSessions: %d %v, want 1", n, err)
	}
	// Deleting the application drops what it was owed.
	if err := db.DeleteApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "oidc_logout_deliveries"); n != 0 {
		t.Fatalf("rows after the app was deleted: got %d, want 0", n)
	}
}

func testLogoutDeliveryRetries(t *testing.T, o Opener) {
	d := o(t)
	c := fakeclock.New(t0)
	db := d.Open(c.Now)
	u, app, _ := logoutFixture(t, db, 1)
	if err := db.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.QueueLogoutDeliveries(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	ds, err := db.ClaimLogoutDeliveries(ctx, "L1", time.Minute, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %d %v, want 1", len(ds), err)
	}
	retry := t0.Add(4 * time.Second)
	if ok, err := db.FinishLogoutDelivery(ctx, ds[0].ID, "L1", backend.LogoutOutcome{RetryAt: retry, Failure: "HTTP 503"}); err != nil || !ok {
		t.Fatalf("finish a failure: %v %v, want true", ok, err)
	}
	st, err := db.LogoutDeliveryStatus(ctx, app.ID)
	if err != nil || st.Pending != 1 || st.Failure != "HTTP 503" || !st.FailedAt.Equal(t0) {
		t.Fatalf("status after a failure: %+v %v, want 1 pending, failed at %v with HTTP 503", st, err, t0)
	}
	// Not due before its retry time, though no longer leased.
	c.Advance(3 * time.Second)
	if ds, err := db.ClaimLogoutDeliveries(ctx, "L2", time.Minute, 10); err != nil || len(ds) != 0 {
		t.Fatalf("claim before the retry time: %d %v, want none", len(ds), err)
	}
	c.Advance(time.Second)
	ds, err = db.ClaimLogoutDeliveries(ctx, "L2", time.Minute, 10)
	if err != nil || len(ds) != 1 || ds[0].Tries != 1 || ds[0].LastError != "HTTP 503" || !ds[0].EndedAt.Equal(t0) {
		t.Fatalf("claim at the retry time: %d %v, want 1 with 1 try, HTTP 503, ended at %v", len(ds), err, t0)
	}
	if ok, err := db.FinishLogoutDelivery(ctx, ds[0].ID, "L2", backend.LogoutOutcome{GiveUp: true, Failure: "connection refused"}); err != nil || !ok {
		t.Fatalf("give up: %v %v, want true", ok, err)
	}
	st, err = db.LogoutDeliveryStatus(ctx, app.ID)
	if err != nil || st.Pending != 0 || !st.GivenUpAt.Equal(t0.Add(4*time.Second)) || st.Failure != "connection refused" {
		t.Fatalf("status after giving up: %+v %v, want none pending, given up at %v", st, err, t0.Add(4*time.Second))
	}
	if n := d.count(t, "oidc_logout_deliveries"); n != 0 {
		t.Fatalf("rows after giving up: got %d, want 0", n)
	}
}

// testRaceClaimLogoutDeliveries: servers claiming at once on one database take each due row
// once between them.
func testRaceClaimLogoutDeliveries(t *testing.T, o Opener) {
	d := o(t)
	const sessions, servers = 30, 6
	c := fakeclock.New(t0)
	db := d.Open(c.Now)
	u, _, _ := logoutFixture(t, db, sessions)
	if err := db.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := db.QueueLogoutDeliveries(ctx, u.ID); err != nil || n != sessions {
		t.Fatalf("queued %d %v, want %d", n, err, sessions)
	}
	stores := replicas(d, servers, c.Now)
	var mu sync.Mutex
	seen := map[int64]int{}
	race(t, servers, func(i int) (bool, error) {
		for {
			ds, err := stores[i].ClaimLogoutDeliveries(ctx, fmt.Sprintf("L%d", i), time.Minute, 3)
			if err != nil || len(ds) == 0 {
				return false, err
			}
			mu.Lock()
			for _, dl := range ds {
				seen[dl.ID]++
			}
			mu.Unlock()
		}
	})
	if len(seen) != sessions {
		t.Fatalf("claimed %d rows, want all %d", len(seen), sessions)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("row %d claimed %d times, want once", id, n)
		}
	}
}
