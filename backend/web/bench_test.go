package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
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
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("a benchmark: run build/bench.sh (or set GATEHOUSE_BENCH=1)")
	}
	const conns, rounds, round = 64, 5, 3 * time.Second
	ctx := context.Background()
	const password = "bench passphrase 2026"
	// Cheap hashes (backendtest's): only the 64 logins before the run hash a password. The
	// real clock: sessions are touched as time passes.
	h := backendtest.New(t, backendtest.WithRealClock(), backendtest.WithoutLogs(), backendtest.WithAdmin("admin", password))
	svc, logger := h.Service, h.Logger
	if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: "reader", DisplayName: "Page Reader", Password: password, Role: backend.RoleUser}); err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, conns)
	for i := range tokens {
		st, err := svc.Login(ctx, "reader", password)
		if err != nil || st.Step != backend.StepDone {
			t.Fatalf("login: %v", err)
		}
		tokens[i] = st.SessionToken
	}
	id, err := svc.Authenticate(ctx, tokens[0])
	if err != nil {
		t.Fatal(err)
	}

	s, err := NewServer(Config{Service: svc, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	withSession := httptest.NewServer(s)
	defer withSession.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) { s.profilePage(w, r, id) })
	without := httptest.NewServer(s.middleware(http.NewCrossOriginProtection().Handler(mux)))
	defer without.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	get := func(base string, i int) ([]byte, error) {
		req, _ := http.NewRequest("GET", base+"/profile", nil)
		req.AddCookie(&http.Cookie{Name: s.sessionCk, Value: tokens[i]})
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		return b, err
	}
	a, errA := get(withSession.URL, 0)
	b, errB := get(without.URL, 0)
	if errA != nil || errB != nil || !bytes.Equal(a, b) || !bytes.Contains(a, []byte("Page Reader")) {
		t.Fatalf("the two pages differ (%v, %v):\n%s\n---\n%s", errA, errB, a, b)
	}

	// load runs conns clients against base for d and returns the requests completed and
	// their latencies.
	load := func(base string, d time.Duration) (int, []time.Duration) {
		lat := loadFor(t, conns, d, func(i int) error {
			_, err := get(base, i)
			return err
		})
		return len(lat), lat
	}
	load(withSession.URL, time.Second) // warm up: connections, caches
	load(without.URL, time.Second)
	var ratios []float64
	var latA, latB []time.Duration
	var nA, nB int
	for range rounds {
		n1, l1 := load(withSession.URL, round)
		n2, l2 := load(without.URL, round)
		ratios = append(ratios, float64(n1)/float64(n2))
		nA, nB = nA+n1, nB+n2
		latA, latB = append(latA, l1...), append(latB, l2...)
	}
	slices.Sort(ratios)
	secs := (rounds * round).Seconds()
	q := percentile
	fmt.Printf("BENCH|%s|%s|%s|%s\n", "Session overhead: the profile page (signed in) vs the same page without the session check, 64 connections",
		fmt.Sprintf("%.0f/s = **%.2f** × %.0f/s; p50/p99 %v/%v vs %v/%v", float64(nA)/secs, ratios[len(ratios)/2], float64(nB)/secs,
			q(latA, 50), q(latA, 99), q(latB, 50), q(latB, 99)),
		"≥ 0.70", fmt.Sprintf("median of %d alternating %v rounds (ratios %.2f–%.2f); %d-byte page; load generator in the same process", rounds, round, ratios[0], ratios[len(ratios)-1], len(a)))
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
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("a benchmark: run build/bench.sh (or set GATEHOUSE_BENCH=1)")
	}
	const conns, rounds, round = 64, 5, 3 * time.Second
	ctx := context.Background()
	const password = "bench passphrase 2026"
	type site struct {
		url    string
		cookie string
		tokens []string
	}
	open := func(kind backendtest.StoreKind, cached bool) *site {
		h := backendtest.New(t, backendtest.WithStore(kind), backendtest.WithRealClock(), backendtest.WithoutLogs(), backendtest.WithAdmin("admin", password))
		svc := h.Service
		if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: "reader", DisplayName: "Page Reader", Password: password, Role: backend.RoleUser}); err != nil {
			t.Fatal(err)
		}
		if cached {
			t.Cleanup(svc.StartSessionCache())
		}
		s, err := NewServer(Config{Service: svc, Logger: h.Logger})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s)
		t.Cleanup(srv.Close)
		st := &site{url: srv.URL, cookie: s.sessionCk}
		for range conns {
			l, err := svc.Login(ctx, "reader", password)
			if err != nil || l.Step != backend.StepDone {
				t.Fatalf("login: %v", err)
			}
			st.tokens = append(st.tokens, l.SessionToken)
		}
		return st
	}
	sites := map[string]*site{}
	for _, cached := range []bool{false, true} {
		for _, k := range []backendtest.StoreKind{backendtest.SQLite, backendtest.PostgreSQL} {
			sites[fmt.Sprint(k.Name, cached)] = open(k, cached)
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	get := func(s *site, i int) ([]byte, error) {
		req, _ := http.NewRequest("GET", s.url+"/profile", nil)
		req.AddCookie(&http.Cookie{Name: s.cookie, Value: s.tokens[i]})
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		return b, err
	}
	for name, s := range sites {
		if b, err := get(s, 0); err != nil || !bytes.Contains(b, []byte("Page Reader")) {
			t.Fatalf("the profile page (%s): %v", name, err)
		}
	}
	load := func(s *site, d time.Duration) (int, []time.Duration) {
		lat := loadFor(t, conns, d, func(i int) error {
			_, err := get(s, i)
			return err
		})
		return len(lat), lat
	}
	for _, s := range sites {
		load(s, time.Second) // warm up: connections, caches, the pool
	}
	order := []string{"postgresfalse", "sqlitefalse", "postgrestrue", "sqlitetrue"}
	n := map[string]int{}
	lat := map[string][]time.Duration{}
	ratio := map[string][]float64{} // per round: "before" PostgreSQL/SQLite uncached, "after" cached, "pg" PostgreSQL cached/uncached
	for range rounds {
		got := map[string]int{}
		for _, name := range order {
			c, l := load(sites[name], round)
			got[name], n[name], lat[name] = c, n[name]+c, append(lat[name], l...)
		}
		ratio["before"] = append(ratio["before"], float64(got["postgresfalse"])/float64(got["sqlitefalse"]))
		ratio["after"] = append(ratio["after"], float64(got["postgrestrue"])/float64(got["sqlitetrue"]))
		ratio["pg"] = append(ratio["pg"], float64(got["postgrestrue"])/float64(got["postgresfalse"]))
	}
	secs := (rounds * round).Seconds()
	q := percentile
	row := func(figure, key, a, b, aim string) {
		r := ratio[key]
		slices.Sort(r)
		fmt.Printf("BENCH|%s|%s|%s|%s\n", figure,
			fmt.Sprintf("%.0f/s = **%.2f** × %.0f/s; p50/p99 %v/%v vs %v/%v", float64(n[a])/secs, r[len(r)/2], float64(n[b])/secs,
				q(lat[a], 50), q(lat[a], 99), q(lat[b], 50), q(lat[b], 99)),
			aim, fmt.Sprintf("median of %d alternating %v rounds (ratios %.2f–%.2f); PostgreSQL on loopback, load generator in the same process", rounds, round, r[0], r[len(r)-1]))
	}
	row("Session-checked request on PostgreSQL vs SQLite: the profile page, 64 connections, session cache on (as served)", "after", "postgrestrue", "sqlitetrue", "≥ 0.80")
	row("The same without the session cache (every check a store read: the figure before it)", "before", "postgresfalse", "sqlitefalse", "(≥ 0.80)")
	row("The profile page on PostgreSQL with the session cache vs without", "pg", "postgrestrue", "postgresfalse", "")
}

// TestBenchSessionCheckVsTrivial is build/bench.sh's figure for issue 13's forward-auth aim,
// before the endpoint exists: a handler that only checks the session (Authenticate, with the
// session cache running as under Run) and answers 200 with Remote-User, against a trivial
// net/http handler that answers 200, 64 connections each with its own session, in alternating
// rounds; on SQLite and on PostgreSQL.
func TestBenchSessionCheckVsTrivial(t *testing.T) {
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("a benchmark: run build/bench.sh (or set GATEHOUSE_BENCH=1)")
	}
	const conns, rounds, round = 64, 5, 2 * time.Second
	ctx := context.Background()
	const password = "bench passphrase 2026"
	type site struct {
		url    string
		tokens []string
	}
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	trivial := &site{url: serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))}
	for range conns {
		trivial.tokens = append(trivial.tokens, "none")
	}
	checked := func(kind backendtest.StoreKind) *site {
		h := backendtest.New(t, backendtest.WithStore(kind), backendtest.WithRealClock(), backendtest.WithoutLogs(), backendtest.WithAdmin("admin", password))
		svc := h.Service
		if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: "reader", Password: password, Role: backend.RoleUser}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(svc.StartSessionCache())
		st := &site{url: serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		}))}
		for range conns {
			l, err := svc.Login(ctx, "reader", password)
			if err != nil || l.Step != backend.StepDone {
				t.Fatalf("login: %v", err)
			}
			st.tokens = append(st.tokens, l.SessionToken)
		}
		return st
	}
	sites := map[string]*site{"trivial": trivial, "sqlite": checked(backendtest.SQLite), "postgres": checked(backendtest.PostgreSQL)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	get := func(s *site, i int) error {
		req, _ := http.NewRequest("GET", s.url+"/", nil)
		req.AddCookie(&http.Cookie{Name: "s", Value: s.tokens[i]})
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	load := func(s *site, d time.Duration) (int, []time.Duration) {
		lat := loadFor(t, conns, d, func(i int) error {
			return get(s, i)
		})
		return len(lat), lat
	}
	for _, s := range sites {
		load(s, time.Second) // warm up, and every session in the cache
	}
	order := []string{"trivial", "sqlite", "postgres"}
	n := map[string]int{}
	lat := map[string][]time.Duration{}
	ratio := map[string][]float64{}
	for range rounds {
		got := map[string]int{}
		for _, name := range order {
			c, l := load(sites[name], round)
			got[name], n[name], lat[name] = c, n[name]+c, append(lat[name], l...)
		}
		for _, name := range order[1:] {
			ratio[name] = append(ratio[name], float64(got[name])/float64(got["trivial"]))
		}
	}
	secs := (rounds * round).Seconds()
	q := percentile
	for _, name := range order[1:] {
		r := ratio[name]
		slices.Sort(r)
		fmt.Printf("BENCH|%s|%s|%s|%s\n", "A session check alone (forward-auth-like handler, session cache on) on "+map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[name]+" vs a trivial net/http handler, 64 connections",
			fmt.Sprintf("%.0f/s = **%.2f** × %.0f/s; p50/p99 %v/%v vs %v/%v", float64(n[name])/secs, r[len(r)/2], float64(n["trivial"])/secs,
				q(lat[name], 50), q(lat[name], 99), q(lat["trivial"], 50), q(lat["trivial"], 99)),
			"≥ 0.80, p99 ≤ 10 ms", fmt.Sprintf("median of %d alternating %v rounds (ratios %.2f–%.2f); load generator in the same process", rounds, round, r[0], r[len(r)-1]))
	}
}
