package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
)

func newDomainApp(t *testing.T, db backend.Store, name string, domains ...string) *backend.App {
	t.Helper()
	a := &backend.App{ClientID: "gh-" + name, Name: name, Audience: backend.AudienceEveryone, Domains: domains}
	if err := db.CreateApp(ctx, a); err != nil {
		t.Fatalf("CreateApp %s: %v", name, err)
	}
	return a
}

func testAppDomains(t *testing.T, o Opener) {
	d := o(t)
	db := d.Open(nil)
	wiki := newDomainApp(t, db, "wiki", "wiki.example.com", "*.tools.example.com")
	grafana := newDomainApp(t, db, "grafana", "grafana.tools.example.com")

	got, err := db.FindAppByID(ctx, wiki.ID)
	if err != nil || !slices.Equal(got.Domains, []string{"wiki.example.com", "*.tools.example.com"}) {
		t.Fatalf("FindAppByID domains: got %v, %v; want the two in order", got, err)
	}
	for _, tc := range []struct {
		keys []string
		want int64 // 0: ENOTFOUND
	}{
		{[]string{"wiki.example.com"}, wiki.ID},
		{[]string{"jira.tools.example.com", "*.tools.example.com"}, wiki.ID},
		// The exact entry wins over the wildcard that also covers it.
		{[]string{"grafana.tools.example.com", "*.tools.example.com"}, grafana.ID},
		{[]string{"example.com"}, 0},
		{[]string{"wiki.example.com.evil.com", "*.example.com.evil.com"}, 0},
		{[]string{"WIKI.EXAMPLE.COM"}, 0}, // the Service lowers hosts: the store matches exactly
	} {
		a, err := db.FindAppByDomain(ctx, tc.keys...)
		if tc.want == 0 {
			if backend.ErrorCode(err) != backend.ENOTFOUND {
				t.Errorf("FindAppByDomain(%v): got %v, %v; want ENOTFOUND", tc.keys, a, err)
			}
			continue
		}
		if err != nil || a.ID != tc.want {
			t.Errorf("FindAppByDomain(%v): got %v, %v; want app %d", tc.keys, a, err, tc.want)
		}
	}

	// A domain belongs to one application: taking another's is ECONFLICT and changes nothing,
	// inside a transaction too.
	err = db.Atomically(ctx, func(ctx context.Context) error {
		_, err := db.UpdateApp(ctx, grafana.ID, backend.AppUpdate{Domains: &[]string{"new.example.com", "wiki.example.com"}})
		return err
	})
	if backend.ErrorCode(err) != backend.ECONFLICT {
		t.Fatalf("UpdateApp with another's domain: got %v, want ECONFLICT", err)
	}
	if a, _ := db.FindAppByID(ctx, grafana.ID); !slices.Equal(a.Domains, []string{"grafana.tools.example.com"}) {
		t.Fatalf("after the refused update: domains %v, want them unchanged", a.Domains)
	}
	if _, err := db.FindAppByDomain(ctx, "new.example.com"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("the refused update's other domain: got %v, want ENOTFOUND", err)
	}
	other := &backend.App{ClientID: "gh-other", Name: "other", Audience: backend.AudienceEveryone, Domains: []string{"*.tools.example.com"}}
	if err := db.CreateApp(ctx, other); backend.ErrorCode(err) != backend.ECONFLICT {
		t.Fatalf("CreateApp with another's domain: got %v, want ECONFLICT", err)
	}
	if _, err := db.FindAppByName(ctx, "other"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("the refused application was created: %v", err)
	}

	// Replacing the list, then deleting the application, frees its domains.
	if a, err := db.UpdateApp(ctx, wiki.ID, backend.AppUpdate{Domains: &[]string{"docs.example.com"}}); err != nil || !slices.Equal(a.Domains, []string{"docs.example.com"}) {
		t.Fatalf("UpdateApp domains: got %v, %v", a, err)
	}
	if _, err := db.FindAppByDomain(ctx, "wiki.example.com"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("a domain removed still found: %v", err)
	}
	if err := db.DeleteApp(ctx, wiki.ID); err != nil {
		t.Fatal(err)
	}
	if n := d.count(t, "app_domains"); n != 1 {
		t.Fatalf("after DeleteApp: %d domains, want grafana's 1", n)
	}
	page, _, err := db.FindApps(ctx, backend.AppFilter{})
	if err != nil || len(page) != 1 || !slices.Equal(page[0].Domains, []string{"grafana.tools.example.com"}) {
		t.Fatalf("FindApps: got %v, %v", page, err)
	}
}

func testLoginReturns(t *testing.T, o Opener) {
	db, c := newDB(t, o)
	if err := db.PutLoginReturn(ctx, "attempt-1", "https://wiki.example.com/a", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutLoginReturn(ctx, "attempt-1", "https://wiki.example.com/b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Atomically(ctx, func(ctx context.Context) error { return db.MoveLoginReturn(ctx, "attempt-1", "attempt-2") }); err != nil {
		t.Fatal(err)
	}
	if u, err := db.TakeLoginReturn(ctx, "attempt-1"); err != nil || u != "" {
		t.Fatalf("take from the old token: got %q, %v; want none", u, err)
	}
	if err := db.MoveLoginReturn(ctx, "attempt-2", "session"); err != nil {
		t.Fatal(err)
	}
	wins := race(t, 20, func(int) (bool, error) {
		u, err := db.TakeLoginReturn(ctx, "session")
		if u != "" && u != "https://wiki.example.com/b" {
			t.Errorf("took %q, want the last one put", u)
		}
		return u != "", err
	})
	if wins != 1 {
		t.Fatalf("20 concurrent takes: %d got the URL, want 1", wins)
	}
	// An expired one is not given back.
	if err := db.PutLoginReturn(ctx, "late", "https://wiki.example.com/c", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.set(t0.Add(2 * time.Hour))
	if u, err := db.TakeLoginReturn(ctx, "late"); err != nil || u != "" {
		t.Fatalf("take after expiry: got %q, %v; want none", u, err)
	}
	// In a transaction that has begun (where a store may queue the moves and send them together
	// with its COMMIT), each move sees the one before it; a move replaces what the new owner
	// had, and a move from an owner with none leaves the new owner's.
	for _, r := range []struct{ owner, url string }{{"r1", "https://wiki.example.com/d"}, {"r3", "https://wiki.example.com/old"}} {
		if err := db.PutLoginReturn(ctx, r.owner, r.url, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := db.TakeLoginReturn(ctx, "none"); err != nil {
			return err
		}
		for _, m := range [][2]string{{"r1", "r2"}, {"r2", "r3"}, {"nobody", "r3"}} {
			if err := db.MoveLoginReturn(ctx, m[0], m[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for owner, want := range map[string]string{"r1": "", "r2": "", "r3": "https://wiki.example.com/d"} {
		if u, err := db.TakeLoginReturn(ctx, owner); err != nil || u != want {
			t.Errorf("after the moves r1→r2→r3: take %s: got %q, %v; want %q", owner, u, err, want)
		}
	}
}
