package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// The benchmarks' common set-up (build/bench.sh): sessions of one user for every connection
// (benchReader), sites that each answer one request (benchSite), measured side by side in
// alternating rounds (benchRun) and reported as build/bench.sh's BENCH rows (benchResult.row).

// benchPassword is the password of the benchmarks' users.
const benchPassword = "bench passphrase 2026"

// benchConns is the connections of every side-by-side benchmark, each one request at a time.
const benchConns = 64

// needBench skips t unless GATEHOUSE_BENCH is set: benchmarks run from build/bench.sh.
func needBench(t *testing.T) {
	t.Helper()
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("a benchmark: run build/bench.sh (or set GATEHOUSE_BENCH=1)")
	}
}

// benchReader returns a System (cheap hashes, the real clock, logs formatted and dropped, an
// administrator) with the user "reader" (Page Reader) signed in benchConns times: one session
// token per connection. opts come after the defaults.
func benchReader(t *testing.T, opts ...backendtest.Option) (*backendtest.Env, []string) {
	t.Helper()
	ctx := context.Background()
	h := backendtest.New(t, append([]backendtest.Option{backendtest.WithRealClock(), backendtest.WithoutLogs(),
		backendtest.WithAdmin("admin", benchPassword)}, opts...)...)
	svc := h.Service
	if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: "reader", DisplayName: "Page Reader", Password: benchPassword, Role: backend.RoleUser}); err != nil {
		t.Fatal(err)
	}
	tokens := make([]string, benchConns)
	for i := range tokens {
		st, err := svc.Login(ctx, "reader", benchPassword)
		if err != nil || st.Step != backend.StepDone {
			t.Fatalf("login: %v", err)
		}
		tokens[i] = st.SessionToken
	}
	return h, tokens
}

// benchSite is one side of a side-by-side benchmark: a server and the request each
// connection sends it again and again.
type benchSite struct {
	url    string            // the server
	path   string            // what is asked for
	header map[string]string // request headers
	cookie string            // the session cookie's name; "" sends none
	tokens []string          // the cookie's value, one per connection
	// check says what is wrong with an answer, nil if it is the one expected; nil: any 200.
	check func(res *http.Response, body []byte) error
}

// benchServe serves h for the rest of t, returning its URL.
func benchServe(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// benchTrivial is a trivial net/http handler (200, no body) sent the same requests as like.
func benchTrivial(t *testing.T, like *benchSite) *benchSite {
	s := *like
	s.url, s.check = benchServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })), nil
	return &s
}

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConns, MaxConnsPerHost: benchConns}}

// get sends connection i's request and returns the body of a correct answer.
func (s *benchSite) get(i int) ([]byte, error) {
	req, err := http.NewRequest("GET", s.url+s.path, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	if s.cookie != "" {
		req.AddCookie(&http.Cookie{Name: s.cookie, Value: s.tokens[i]})
	}
	res, err := benchClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	switch {
	case err != nil:
	case s.check != nil:
		err = s.check(res, body)
	case res.StatusCode != http.StatusOK:
		err = fmt.Errorf("%s%s: status %d", s.url, s.path, res.StatusCode)
	}
	return body, err
}

// benchResult is what benchRun measured: per site, the requests answered in each round and
// every request's latency.
type benchResult struct {
	rounds int
	round  time.Duration
	perRun []map[string]int // per round, per site: requests answered
	n      map[string]int
	lat    map[string][]time.Duration
}

// benchRun warms every site up for a second (connections, caches), then measures them in
// order, round after round, for round each: the machine's load falls on all of them alike.
func benchRun(t *testing.T, rounds int, round time.Duration, sites map[string]*benchSite, order []string) *benchResult {
	t.Helper()
	for _, name := range order {
		if _, err := sites[name].get(0); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		loadFor(t, benchConns, time.Second, func(i int) error { _, err := sites[name].get(i); return err })
	}
	br := &benchResult{rounds: rounds, round: round, n: map[string]int{}, lat: map[string][]time.Duration{}}
	for range rounds {
		got := map[string]int{}
		for _, name := range order {
			lat := loadFor(t, benchConns, round, func(i int) error { _, err := sites[name].get(i); return err })
			got[name], br.n[name], br.lat[name] = len(lat), br.n[name]+len(lat), append(br.lat[name], lat...)
		}
		br.perRun = append(br.perRun, got)
	}
	return br
}

// row prints build/bench.sh's line of figure: a's rate against b's (the median of the rounds'
// ratios), their p50/p99 latencies, the aim and what note adds about the set-up.
func (br *benchResult) row(figure, a, b, aim, note string) {
	var r []float64
	for _, got := range br.perRun {
		r = append(r, float64(got[a])/float64(got[b]))
	}
	slices.Sort(r)
	secs := (time.Duration(br.rounds) * br.round).Seconds()
	q := percentile
	fmt.Printf("BENCH|%s|%s|%s|%s\n", figure,
		fmt.Sprintf("%.0f/s = **%.2f** × %.0f/s; p50/p99 %v/%v vs %v/%v", float64(br.n[a])/secs, r[len(r)/2], float64(br.n[b])/secs,
			q(br.lat[a], 50), q(br.lat[a], 99), q(br.lat[b], 50), q(br.lat[b], 99)),
		aim, fmt.Sprintf("median of %d alternating %v rounds (ratios %.2f–%.2f); %s", br.rounds, br.round, r[0], r[len(r)-1], note))
}
