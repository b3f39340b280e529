package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// TestBenchForwardAuth is build/bench.sh's forward-auth figure (GATEHOUSE_BENCH=1): requests
// per second of GET /auth/nginx, the check a proxy makes before every request to a protected
// application (a signed-in session allowed on the domain: 200 with the Remote-* headers),
// through the real handler tree with the session cache running as serve runs it, against a
// trivial net/http handler (200, empty body) in the same run. 64 connections, each with its
// own session; alternating rounds.
func TestBenchForwardAuth(t *testing.T) {
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("a benchmark: run build/bench.sh (or set GATEHOUSE_BENCH=1)")
	}
	const conns, rounds, round = 64, 5, 3 * time.Second
	ctx := context.Background()
	const password = "bench passphrase 2026"
	h := backendtest.New(t, backendtest.WithRealClock(), backendtest.WithoutLogs(), backendtest.WithAdmin("admin", password),
		backendtest.WithConfig(func(c *backend.Config) { c.PublicURL = "https://login.example.com" }))
	svc := h.Service
	if _, _, err := svc.CreateApp(ctx, svc.Operator(), backend.NewApp{Name: "Wiki", Domains: []string{"wiki.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: "reader", DisplayName: "Page Reader", Password: password}); err != nil {
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
	defer svc.StartSessionCache()()

	s, err := NewServer(Config{Service: svc, Logger: h.Logger, PublicURL: "https://login.example.com",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	check := httptest.NewServer(s)
	defer check.Close()
	trivial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer trivial.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	get := func(base string, i int) error {
		req, _ := http.NewRequest("GET", base+NginxAuthPath, nil)
		req.Host = "login.example.com"
		req.Header.Set("X-Original-URL", "https://wiki.example.com/page")
		req.AddCookie(&http.Cookie{Name: s.sessionCk, Value: tokens[i]})
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || (base == check.URL && res.Header.Get(HeaderRemoteUser) != "reader") {
			return fmt.Errorf("%s: status %d, Remote-User %q", base, res.StatusCode, res.Header.Get(HeaderRemoteUser))
		}
		return nil
	}
	load := func(base string, d time.Duration) (int, []time.Duration) {
		lat := loadFor(t, conns, d, func(i int) error {
			return get(base, i)
		})
		return len(lat), lat
	}
	load(check.URL, time.Second) // warm up: connections, caches
	load(trivial.URL, time.Second)
	var ratios []float64
	var latA, latB []time.Duration
	var nA, nB int
	for range rounds {
		n1, l1 := load(check.URL, round)
		n2, l2 := load(trivial.URL, round)
		ratios = append(ratios, float64(n1)/float64(n2))
		nA, nB = nA+n1, nB+n2
		latA, latB = append(latA, l1...), append(latB, l2...)
	}
	slices.Sort(ratios)
	secs := (rounds * round).Seconds()
	q := percentile
	fmt.Printf("BENCH|%s|%s|%s|%s\n", "Forward-auth check (GET /auth/nginx, signed in, allowed) vs a trivial net/http handler, 64 connections",
		fmt.Sprintf("%.0f/s = **%.2f** × %.0f/s; p50/p99 %v/%v vs %v/%v", float64(nA)/secs, ratios[len(ratios)/2], float64(nB)/secs,
			q(latA, 50), q(latA, 99), q(latB, 50), q(latB, 99)),
		"≥ 0.80, p99 ≤ 10 ms", fmt.Sprintf("median of %d alternating %v rounds (ratios %.2f–%.2f); SQLite, session cache running; load generator in the same process", rounds, round, ratios[0], ratios[len(ratios)-1]))
}
