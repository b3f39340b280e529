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

func testLoginResumes(t *testing.T, o Opener) {
	db, c := newDB(t, o)
	page := func(u string) *backend.LoginResume { return &backend.LoginResume{URL: u, ExpiresAt: t0.Add(time.Hour)} }
	if err := db.PutLoginResume(ctx, "attempt-1", page("https://wiki.example.com/a")); err != nil {
		t.Fatal(err)
	}
	// Put again replaces: a sign-in in place of the page.
	if err := db.PutLoginResume(ctx, "attempt-1", &backend.LoginResume{AuthRequestID: "req-1", ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if r, err := db.FindLoginResume(ctx, "attempt-1"); err != nil || r.AuthRequestID != "req-1" || r.URL != "" || !r.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("FindLoginResume after a second put: got %+v, %v; want req-1 alone, expiring at %v", r, err, t0.Add(time.Hour))
	}
	if err := db.PutLoginResume(ctx, "attempt-1", page("https://wiki.example.com/b")); err != nil {
		t.Fatal(err)
	}
	if err := db.Atomically(ctx, func(ctx context.Context) error { return db.MoveLoginResume(ctx, "attempt-1", "attempt-2") }); err != nil {
		t.Fatal(err)
	}
	if r, err := db.TakeLoginResume(ctx, "attempt-1"); err != nil || r != nil {
		t.Fatalf("take from the old token: got %+v, %v; want none", r, err)
	}
	if _, err := db.FindLoginResume(ctx, "attempt-1"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("FindLoginResume of the old token: %v, want ENOTFOUND", err)
	}
	// Moving onto a token that has one replaces it.
	if err := db.PutLoginResume(ctx, "session", page("https://wiki.example.com/stale")); err != nil {
		t.Fatal(err)
	}
	if err := db.MoveLoginResume(ctx, "attempt-2", "session"); err != nil {
		t.Fatal(err)
	}
	if r, err := db.FindLoginResume(ctx, "session"); err != nil || r.URL != "https://wiki.example.com/b" {
		t.Fatalf("FindLoginResume after the move: got %+v, %v; want the page moved", r, err)
	}
	wins := race(t, 20, func(int) (bool, error) {
		r, err := db.TakeLoginResume(ctx, "session")
		if r != nil && (r.URL != "https://wiki.example.com/b" || r.AuthRequestID != "") {
			t.Errorf("took %+v, want the last one put", r)
		}
		return r != nil, err
	})
	if wins != 1 {
		t.Fatalf("20 concurrent takes: %d got it, want 1", wins)
	}
	// An expired one is neither found nor given back.
	if err := db.PutLoginResume(ctx, "late", page("https://wiki.example.com/c")); err != nil {
		t.Fatal(err)
	}
	c.set(t0.Add(2 * time.Hour))
	if _, err := db.FindLoginResume(ctx, "late"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Fatalf("FindLoginResume after expiry: %v, want ENOTFOUND", err)
	}
	if r, err := db.TakeLoginResume(ctx, "late"); err != nil || r != nil {
		t.Fatalf("take after expiry: got %+v, %v; want none", r, err)
	}
	// In a transaction that has begun (where a store may queue the moves and send them together
	// with its COMMIT), each move sees the one before it; a move replaces what the new owner
	// had, and a move from an owner with none leaves the new owner's.
	late := t0.Add(3 * time.Hour)
	for owner, r := range map[string]*backend.LoginResume{
		"r1": {URL: "https://wiki.example.com/d", ExpiresAt: late},
		"r3": {AuthRequestID: "req-old", ExpiresAt: late},
	} {
		if err := db.PutLoginResume(ctx, owner, r); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := db.TakeLoginResume(ctx, "none"); err != nil {
			return err
		}
		for _, m := range [][2]string{{"r1", "r2"}, {"r2", "r3"}, {"nobody", "r3"}} {
			if err := db.MoveLoginResume(ctx, m[0], m[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for owner, want := range map[string]string{"r1": "", "r2": "", "r3": "https://wiki.example.com/d"} {
		r, err := db.TakeLoginResume(ctx, owner)
		if err != nil || (want == "") != (r == nil) || (r != nil && (r.URL != want || r.AuthRequestID != "")) {
			t.Errorf("after the moves r1→r2→r3: take %s: got %+v, %v; want the page %q alone", owner, r, err, want)
		}
	}
}
