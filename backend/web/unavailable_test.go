package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/postgres"
	"gatehouse/backend/postgres/pgtest"
)

// TestDatabaseOutage: while the PostgreSQL under the server is stopped, /readyz and every page
// answer 503 (the pages with "Gatehouse cannot reach its database"), /healthz stays ok, the log
// has one line for the outage however many requests meet it, and once PostgreSQL is back the
// same server (the same pool) answers again, and logs that once.
func TestDatabaseOutage(t *testing.T) {
	cluster := pgtest.New(t, pgtest.Options{})
	ctx := context.Background()
	dsn := cluster.Database(t)
	// One pooled connection (and the ping's own): the one that the database ends below is
	// the one the next request takes.
	pooled := dsn + map[bool]string{true: "&", false: "?"}[strings.Contains(dsn, "?")] + "pool_max_conns=1"
	db, err := postgres.Open(ctx, pooled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &backendtest.Logs{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	svc, err := backend.New(backend.Config{Store: db, SecretKey: make([]byte, 32), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Service: svc, Logger: logger, Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	type answer struct {
		status int
		body   string
	}
	do := func(method, path string) answer {
		t.Helper()
		var body io.Reader
		req, err := http.NewRequest(method, ts.URL+path, body)
		if method == http.MethodPost {
			req, err = http.NewRequest(method, ts.URL+path, strings.NewReader(url.Values{"username": {"alice"}, "password": {"wrong password"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", ts.URL)
		}
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{res.StatusCode, string(b)}
	}
	const downLine = "Gatehouse cannot reach its database"

	if a := do("GET", "/readyz"); a.status != 200 || a.body != "ok" {
		t.Fatalf("/readyz with the database up: %d %q, want 200 ok", a.status, a.body)
	}
	if a := do("GET", "/login"); a.status != 200 {
		t.Fatalf("/login with the database up: %d, want 200", a.status)
	}

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	// The first request to meet the outage finds out itself (a POST whose store call fails),
	// the later ones are answered from what it found.
	for _, rq := range []struct{ method, path string }{
		{"POST", "/login"}, {"GET", "/login"}, {"GET", "/profile"}, {"GET", "/"}, {"POST", "/login"}, {"GET", "/admin/users"},
	} {
		a := do(rq.method, rq.path)
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "Gatehouse cannot reach its database just now") {
			t.Errorf("%s %s with the database down: %d, want 503 and the unavailable page; body:\n%.300s", rq.method, rq.path, a.status, a.body)
		}
	}
	if a := do("GET", "/readyz"); a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "database") || strings.Count(a.body, "\n") != 1 {
		t.Errorf("/readyz with the database down: %d %q, want 503 and one line naming the database", a.status, a.body)
	}
	if a := do("GET", "/healthz"); a.status != 200 || a.body != "ok" {
		t.Errorf("/healthz with the database down: %d %q, want 200 ok (the process is up)", a.status, a.body)
	}
	if n := strings.Count(logs.String(), downLine); n != 1 {
		t.Errorf("the log says %q %d times, want once for the outage:\n%s", downLine, n, logs.String())
	}
	if strings.Contains(logs.String(), "request failed") {
		t.Errorf("the outage was logged as a failed request too:\n%s", logs.String())
	}

	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	if a := do("GET", "/readyz"); a.status != 200 || a.body != "ok" {
		t.Errorf("/readyz once the database is back: %d %q, want 200 ok", a.status, a.body)
	}
	if a := do("GET", "/login"); a.status != 200 {
		t.Errorf("/login once the database is back: %d, want 200", a.status)
	}
	if a := do("POST", "/login"); a.status != http.StatusUnauthorized {
		t.Errorf("a wrong password once the database is back: %d, want 401", a.status)
	}
	if n := strings.Count(logs.String(), "Gatehouse reaches its database again"); n != 1 {
		t.Errorf("the log says the database is back %d times, want once:\n%s", n, logs.String())
	}
	// Health checks are not logged one by one (a balancer asks every second): the outage and
	// the recovery above are the lines that tell.
	for _, path := range []string{"path=/readyz", "path=/healthz"} {
		if strings.Contains(logs.String(), path) {
			t.Errorf("the log has a request line for %s, want none:\n%s", path, logs.String())
		}
	}

	// The server's pooled connection ended by PostgreSQL (57P01 "terminating connection due to
	// administrator command", what a fast shutdown sends to every connection) while it stays
	// up: the next request takes that connection, in use a moment ago (pgxpool pings only
	// those idle for more than a second), fails on it, and a ping right after finds the
	// database answering, as after a restart. That was a 500; it is the unavailable page, and the next request
	// (on a new connection), or one a moment later, is served.
	if a := do("POST", "/login"); a.status != http.StatusUnauthorized {
		t.Fatalf("a wrong password with the database up: %d, want 401", a.status)
	}
	pgtest.Exec(t, dsn, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gatehouse' AND query NOT LIKE '-- ping%'`)
	if a := do("POST", "/login"); a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "Gatehouse cannot reach its database just now") {
		t.Errorf("a wrong password on a connection the database ended: %d, want 503 and the unavailable page; body:\n%.300s", a.status, a.body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a := do("POST", "/login"); a.status != http.StatusUnauthorized; a = do("POST", "/login") {
		if a.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("a wrong password after the connections were ended: %d, want 503 for a moment, then 401", a.status)
		}
		time.Sleep(100 * time.Millisecond)
	}

}
