package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/backend/backendtest"
	"gatehouse/backend/postgres/pgtest"
)

// TestBenchSessionOverhead is build/bench.sh's session figure (it runs only with
// GATEHOUSE_BENCH=1): requests per second of the profile page of a signed-in user through the
// real handler tree, against the same page, the same bytes, through the same middleware, with
// the session check left out: the identity is looked up once, before the run, and handed to
// the page's handler. The difference is exactly what signedIn adds to every page: reading the
// cookie, hashing the token, reading the session and its user (and touching the session once a
// minute). 64 connections, each with its own session, one request at a time each; the two are
// measured in alternating rounds so that the machine's load falls on both alike.
func TestBenchSessionOverhead(t *testing.T) {
	needBench(t)
	// Cheap hashes (benchReader's): only the 64 logins before the run hash a password. The
	// real clock: sessions are touched as time passes.
	h, tokens := benchReader(t)
	svc := h.Service
	id, err := svc.Authenticate(context.Background(), tokens[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Config{Service: svc, Logger: h.Logger})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) { s.profilePage(w, r, id) })
	sites := map[string]*benchSite{
		"signed in": {url: benchServe(t, s), path: "/profile", cookie: s.sessionCk, tokens: tokens},
		"without":   {url: benchServe(t, s.middleware(http.NewCrossOriginProtection().Handler(mux))), path: "/profile", cookie: s.sessionCk, tokens: tokens},
	}
	a, errA := sites["signed in"].get(0)
	b, errB := sites["without"].get(0)
	if errA != nil || errB != nil || !bytes.Equal(a, b) || !bytes.Contains(a, []byte("Page Reader")) {
		t.Fatalf("the two pages differ (%v, %v):\n%s\n---\n%s", errA, errB, a, b)
	}
	br := benchRun(t, 5, 3*time.Second, sites, []string{"signed in", "without"})
	br.row("Session overhead: the profile page (signed in) vs the same page without the session check, 64 connections",
		"signed in", "without", "≥ 0.70", fmt.Sprintf("%d-byte page; load generator in the same process", len(a)))
}

// loadFor sends requests with get from conns goroutines (i is the goroutine's, for its own
// connection) until d has passed, and returns every request's latency. An error fails t and
// ends that goroutine.
func loadFor(t *testing.T, conns int, d time.Duration, get func(i int) error) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i := range conns {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := get(i); err != nil {
					t.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat
}

// percentile is the p-th percentile of d, which it sorts.
func percentile(d []time.Duration, p int) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, len(d)*p/100)].Round(10 * time.Microsecond)
}

// TestMain stops the throwaway PostgreSQL of the benchmarks (pgtest), if one was started.
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestBenchSessionStores is build/bench.sh's figure of the session check on PostgreSQL: the
// profile page of a signed-in user through the real handler tree, on PostgreSQL (pgtest's
// cluster on loopback) vs the same page on SQLite, 64 connections, each with its own session,
// in alternating rounds. Each store is measured with the session cache running, as under Run
// (backend/sessioncache.go), and without it (every check a store read), side by side: the
// figure before and after the cache, in one run.
func TestBenchSessionStores(t *testing.T) {
	needBench(t)
	open := func(kind backendtest.StoreKind, cached bool) *benchSite {
		h, tokens := benchReader(t, backendtest.WithStore(kind))
		if cached {
			t.Cleanup(h.Service.StartSessionCache())
		}
		s, err := NewServer(Config{Service: h.Service, Logger: h.Logger})
		if err != nil {
			t.Fatal(err)
		}
		return &benchSite{url: benchServe(t, s), path: "/profile", cookie: s.sessionCk, tokens: tokens, check: func(res *http.Response, body []byte) error {
			if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Page Reader")) {
				return fmt.Errorf("the profile page: status %d", res.StatusCode)
			}
			return nil
		}}
	}
	sites := map[string]*benchSite{}
	for _, cached := range []bool{false, true} {
		for _, k := range []backendtest.StoreKind{backendtest.SQLite, backendtest.PostgreSQL} {
			sites[fmt.Sprint(k.Name, cached)] = open(k, cached)
		}
	}
	br := benchRun(t, 5, 3*time.Second, sites, []string{"postgresfalse", "sqlitefalse", "postgrestrue", "sqlitetrue"})
	const note = "PostgreSQL on loopback, load generator in the same process"
	br.row("Session-checked request on PostgreSQL vs SQLite: the profile page, 64 connections, session cache on (as served)", "postgrestrue", "sqlitetrue", "≥ 0.80", note)
	br.row("The same without the session cache (every check a store read: the figure before it)", "postgresfalse", "sqlitefalse", "(≥ 0.80)", note)
	br.row("The profile page on PostgreSQL with the session cache vs without", "postgrestrue", "postgresfalse", "", note)
}

// TestBenchSessionCheckVsTrivial is build/bench.sh's figure for issue 13's forward-auth aim,
// before the endpoint exists: a handler that only checks the session (Authenticate, with the
// session cache running as under Run) and answers 200 with Remote-User, against a trivial
// net/http handler that answers 200, 64 connections each with its own session, in alternating
// rounds; on SQLite and on PostgreSQL.
func TestBenchSessionCheckVsTrivial(t *testing.T) {
	needBench(t)
	checked := func(kind backendtest.StoreKind) *benchSite {
		h, tokens := benchReader(t, backendtest.WithStore(kind))
		svc := h.Service
		t.Cleanup(svc.StartSessionCache())
		return &benchSite{url: benchServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie("s")
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			id, err := svc.Authenticate(r.Context(), c.Value)
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Remote-User", id.User.Username)
			w.WriteHeader(http.StatusOK)
		})), path: "/", cookie: "s", tokens: tokens}
	}
	sites := map[string]*benchSite{"sqlite": checked(backendtest.SQLite), "postgres": checked(backendtest.PostgreSQL)}
	sites["trivial"] = benchTrivial(t, sites["sqlite"])
	br := benchRun(t, 5, 2*time.Second, sites, []string{"trivial", "sqlite", "postgres"})
	for _, name := range []string{"sqlite", "postgres"} {
		br.row("A session check alone (forward-auth-like handler, session cache on) on "+map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[name]+" vs a trivial net/http handler, 64 connections",
			name, "trivial", "≥ 0.80, p99 ≤ 10 ms", "load generator in the same process")
	}
}
