package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/argon2"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/postgres"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/sqlite"
	"gatehouse/backend/storecopy"
)

// The benchmarks of build/bench.sh. They run only with GATEHOUSE_BENCH=1 (they take minutes and
// want the machine to themselves) and print one "BENCH|figure|value|aim|note" line per figure,
// which build/bench.sh turns into the table in the README. Everything is over loopback, against
// `gatehouse serve` run as a child process (TestHelperServe), with the real argon2id parameters.

func benchOnly(t *testing.T) {
	if os.Getenv("GATEHOUSE_BENCH") == "" {
		t.Skip("a benchmark: run build/bench.sh (or set GATEHOUSE_BENCH=1)")
	}
}

func report(figure, value, aim, note string) {
	fmt.Printf("BENCH|%s|%s|%s|%s\n", figure, value, aim, note)
}

const benchPassword = "bench passphrase 2026"

// argon2Rate is how many argon2id verifications with the default parameters GOMAXPROCS
// goroutines complete per second: the physical limit of logins.
func argon2Rate(d time.Duration) float64 {
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	salt := make([]byte, 16)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				argon2.IDKey([]byte(benchPassword), salt, 2, 19*1024, 1, 32)
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}

// benchData makes a data directory with a server key, and returns the directory and the key.
func benchData(t *testing.T) (string, []byte) { return backendtest.DataDir(t) }

// realHash is an argon2id hash of benchPassword with svc's parameters.
func realHash(t *testing.T, db *sqlite.DB, svc *backend.Service) string {
	u, err := svc.CreateUser(context.Background(), svc.Operator(), backend.NewUser{Username: "hashsource", Password: benchPassword, Role: backend.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.PasswordHash(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// openReal opens the data directory's store and a Service over it with the real argon2id
// parameters and the real clock; the caller closes the store before starting servers on it.
func openReal(t *testing.T, dir string, key []byte) (*sqlite.DB, *backend.Service) {
	h := backendtest.New(t, backendtest.InDataDir(dir, key), backendtest.WithRealClock(), backendtest.WithoutLogs(),
		backendtest.WithConfig(func(c *backend.Config) { c.Passwords = backend.PasswordPolicy{} }))
	return h.Store.(*sqlite.DB), h.Service
}

// vmHWM is the peak resident set of the process, from /proc.
func vmHWM(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return "?"
	}
	var kb int
	fmt.Sscan(string(m[1]), &kb)
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// TestBenchLogin: full logins over HTTP (password, TOTP code, first page) at 2×GOMAXPROCS
// concurrency against the argon2id rate measured just before and after; then the storm: 1,000
// logins at once against a fresh server, all answered 303 or 429, none 5xx, and the server's
// peak RSS.
func TestBenchLogin(t *testing.T) {
	benchOnly(t)
	ctx := context.Background()
	dir, key := benchData(t)
	db, svc := openReal(t, dir, key)
	hash := realHash(t, db, svc)
	const enrolled, stormUsers = 400, 1000
	var users []*backend.User
	for i := range enrolled {
		users = append(users, &backend.User{Username: fmt.Sprintf("totp%04d", i), Role: backend.RoleUser})
	}
	for i := range stormUsers {
		users = append(users, &backend.User{Username: fmt.Sprintf("storm%04d", i), Role: backend.RoleUser})
	}
	if err := db.SeedUsers(ctx, users, hash); err != nil {
		t.Fatal(err)
	}
	// Enroll the TOTP users' apps through the Service (2 at a time: each confirms the password).
	keys := make([]string, enrolled)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < enrolled; i = int(next.Add(1)) - 1 {
				keys[i] = benchEnroll(t, svc, fmt.Sprintf("totp%04d", i))
			}
		})
	}
	wg.Wait()
	db.Close()

	rate1 := argon2Rate(5 * time.Second)
	base, child := startServe(t, dir)
	var ip atomic.Int64
	workers := 2 * runtime.GOMAXPROCS(0)
	var done atomic.Int64
	var fails atomic.Int64
	next.Store(0)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < enrolled; i = int(next.Add(1)) - 1 {
				c := newCrashClient(base, &ip)
				name := fmt.Sprintf("totp%04d", i)
				if loc, err := c.post("/login", url.Values{"username": {name}, "password": {benchPassword}}); err != nil || loc != "/login/verify" {
					fails.Add(1)
					continue
				}
				code := backendtest.TOTP(t, keys[i], time.Now().Add(30*time.Second)) // the next step: never the enrollment's
				if loc, err := c.post("/login/verify", url.Values{"code": {code}}); err != nil || loc != "/" {
					fails.Add(1)
					continue
				}
				if page, err := c.get("/profile"); err != nil || !strings.Contains(page, name) {
					fails.Add(1)
					continue
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	child.Process.Kill()
	child.Wait()
	rate2 := argon2Rate(5 * time.Second)
	argon := (rate1 + rate2) / 2
	logins := float64(done.Load()) / elapsed.Seconds()
	report("Login throughput (password + TOTP + first page, HTTP, "+fmt.Sprint(workers)+" concurrent)",
		fmt.Sprintf("%.1f logins/s = **%.2f** × argon2id (%.1f verifies/s)", logins, logins/argon, argon), "≥ 0.90",
		fmt.Sprintf("%d logins, %d failed", done.Load(), fails.Load()))

	// The storm, twice against a fresh server: 1,000 logins at once, each answered once; then
	// 1,000 clients that, refused as busy, come back after Retry-After (and up to a second
	// more, as people and browsers do not retry in step) until they are in.
	for _, retry := range []bool{false, true} {
		base, child = startServe(t, dir)
		st := benchStorm(base, stormUsers, retry, &ip)
		rss := vmHWM(child.Process.Pid)
		child.Process.Kill()
		child.Wait()
		figure, aim := "Login storm: 1,000 concurrent password logins, one server, each answered once", "all 303 or 429, 0 5xx, RSS ≤ 256 MiB"
		value := fmt.Sprintf("%d × 303, %d × 429 (busy) in %v; p50 %v, p99 %v, max %v; **%d** 5xx/errors; peak RSS **%s**",
			st.statuses[303], st.statuses[429], st.elapsed.Round(time.Millisecond), pct(st.lat, 50).Round(time.Millisecond),
			pct(st.lat, 99).Round(time.Millisecond), pct(st.lat, 100).Round(time.Millisecond), st.bad, rss)
		if retry {
			figure, aim = "Login storm, retrying: 1,000 clients that retry after Retry-After until logged in", "all in, 0 5xx, RSS ≤ 256 MiB"
			value = fmt.Sprintf("all %d in after %v (%d requests, %d × 429); each request p50 %v, p99 %v, max %v; **%d** 5xx/errors; peak RSS **%s**",
				st.statuses[303], st.elapsed.Round(time.Millisecond), len(st.lat), st.statuses[429], pct(st.lat, 50).Round(time.Millisecond),
				pct(st.lat, 99).Round(time.Millisecond), pct(st.lat, 100).Round(time.Millisecond), st.bad, rss)
		}
		report(figure, value, aim, fmt.Sprintf("answers %v", st.statuses))
	}
}

type stormResult struct {
	statuses map[int]int     // status -> count; -1: no answer (an error or a timeout)
	lat      []time.Duration // of each request
	bad      int             // 5xx and errors
	elapsed  time.Duration
}

// benchStorm sends n password logins at once (users storm0000…) and waits for every answer. With
// retry, a client refused with 429 waits Retry-After plus up to a second and tries again.
func benchStorm(base string, n int, retry bool, ip *atomic.Int64) stormResult {
	r := stormResult{statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			c := newCrashClient(base, ip)
			c.hc.Timeout = 2 * time.Minute // the server's own WriteTimeout (60 s) is the bound
			<-begin
			for {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {fmt.Sprintf("storm%04d", i)}, "password": {benchPassword}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", base)
				res, err := c.hc.Do(req)
				st, after := -1, 0
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					st = res.StatusCode
					fmt.Sscan(res.Header.Get("Retry-After"), &after)
				}
				mu.Lock()
				r.statuses[st]++
				r.lat = append(r.lat, time.Since(t0))
				if st < 0 || st >= 500 {
					r.bad++
				}
				mu.Unlock()
				if !retry || st != http.StatusTooManyRequests {
					return
				}
				time.Sleep(time.Duration(after)*time.Second + time.Duration(mrand.Int64N(int64(time.Second))))
			}
		})
	}
	start := time.Now()
	close(begin)
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

func benchEnroll(t *testing.T, svc *backend.Service, name string) string {
	return backendtest.EnrollApp(t, svc, backendtest.SignIn(t, svc, name, benchPassword), benchPassword, time.Now()).Key
}

// TestBenchScale: 100,000 users (seeded with gatehouse user seed); how soon `serve` answers /healthz from process start, and the
// admin Users page (first page, a status filter, a search) p99 over HTTP.
func TestBenchScale(t *testing.T) {
	benchOnly(t)
	ctx := context.Background()
	dir, key := benchData(t)
	db, svc := openReal(t, dir, key)
	realHash(t, db, svc) // hashsource, an administrator, with benchPassword
	db.Close()
	// The rest are seeded by the command the README gives: gatehouse user seed --count 99999.
	var out strings.Builder
	if err := run(ctx, []string{"user", "seed", "--count", "99999", "--data", dir}, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("user seed: %v\n%s", err, out.String())
	}

	var ready []time.Duration
	var base string
	var child *exec.Cmd
	for i := range 5 {
		t0 := time.Now()
		base, child = startServe(t, dir)
		for {
			res, err := http.Get(base + "/healthz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		ready = append(ready, time.Since(t0))
		if i < 4 {
			child.Process.Kill()
			child.Wait()
		}
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	report("Start-up: `serve` (test binary re-executed) answers /healthz, 100,000 users",
		fmt.Sprintf("median **%v** of 5", pct(ready, 50).Round(time.Millisecond)), "≤ 300 ms", "from exec to the first 200")

	var ip atomic.Int64
	c := newCrashClient(base, &ip)
	if loc, err := c.post("/login", url.Values{"username": {"hashsource"}, "password": {benchPassword}}); err != nil || loc != "/" {
		t.Fatalf("admin login: %q, %v", loc, err)
	}
	for _, q := range []struct{ name, path string }{
		{"first page", "/admin/users"},
		{"status filter (Pending)", "/admin/users?status=pending"},
		{"status filter (Enabled), page 50", "/admin/users?status=enabled&page=50"},
		{"search \"test user\" (matches all)", "/admin/users?q=test+user"},
		{"search \"user09999\"", "/admin/users?q=user09999"},
	} {
		var d []time.Duration
		for range 200 {
			t0 := time.Now()
			if _, err := c.get(q.path); err != nil {
				t.Fatal(err)
			}
			d = append(d, time.Since(t0))
		}
		report("Admin Users page at 100,000 users: "+q.name,
			fmt.Sprintf("p50 %v, p99 **%v**", pct(d, 50).Round(10*time.Microsecond), pct(d, 99).Round(10*time.Microsecond)), "p99 ≤ 25 ms", "200 requests over HTTP")
	}
}

// TestBenchSecondFactor: the TOTP step of a login per second (attempt lookup, failure counter,
// code check, replay-consume, session), and its core (secret, code, consume), vs a bare
// single-row UPDATE and commit on the same store, each at 2×GOMAXPROCS.
func TestBenchSecondFactor(t *testing.T) {
	benchOnly(t)
	ctx := context.Background()
	dir, key := benchData(t)
	// Cheap password hashes (backendtest's): the step measured hashes none, and 2,000 logins
	// and enrollments with the real ones would take minutes. 2,000 steps make the run last
	// seconds, not the quarter of a second that 200 did (too short to mean anything next to a
	// WAL checkpoint).
	h := backendtest.New(t, backendtest.InDataDir(dir, key), backendtest.WithRealClock(), backendtest.WithoutLogs())
	db, svc := h.Store.(*sqlite.DB), h.Service
	hash := realHash(t, db, svc)
	const n = 2000
	var users []*backend.User
	for i := range n {
		users = append(users, &backend.User{Username: fmt.Sprintf("v%04d", i), Role: backend.RoleUser})
	}
	if err := db.SeedUsers(ctx, users, hash); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, n)
	attempts := make([]string, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				keys[i] = benchEnroll(t, svc, fmt.Sprintf("v%04d", i))
				st, err := svc.Login(ctx, fmt.Sprintf("v%04d", i), benchPassword)
				if err != nil {
					t.Error(err)
					return
				}
				attempts[i] = st.AttemptToken
			}
		})
	}
	wg.Wait()
	workers := 2 * runtime.GOMAXPROCS(0)
	run := func(f func(i int) error) float64 {
		next.Store(0)
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
					if err := f(i); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		return float64(n) / time.Since(start).Seconds()
	}
	verify := run(func(i int) error {
		_, err := svc.VerifyTOTP(ctx, attempts[i], backendtest.TOTP(t, keys[i], time.Now().Add(30*time.Second)))
		return err
	})
	ids := make([]int64, n)
	for i, u := range users {
		ids[i] = u.ID
	}
	b := run(func(i int) error { // a bare one-row UPDATE and commit on the same store
		return db.UpdateFailures(ctx, ids[i], func(f *backend.Failures, _ time.Time) error { f.Count++; return nil })
	})
	report("Second-factor verify (VerifyTOTP: the whole TOTP step)",
		fmt.Sprintf("%.0f/s = **%.2f** × bare one-row write+commit (%.0f/s)", verify, verify/b, b), "≥ 0.50",
		"one write transaction (Store.Atomically): failure charge, TOTP consume, attempt→session, counter reset, audit")
}

// TestMain stops the throwaway PostgreSQL of the benchmarks (pgtest), if one was started.
func TestMain(m *testing.M) { pgtest.Main(m) }

// cpuTime is the CPU time (user + system) the process has used, from /proc.
func cpuTime(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (in parentheses, which may hold spaces): utime is the
	// 14th field of the line, stime the 15th, in clock ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// balancer is the benchmark's load balancer: a round-robin reverse proxy (net/http/httputil)
// in the test process, adding X-Forwarded-For, in front of the servers at bases.
func balancer(t *testing.T, bases []string) string {
	var proxies []*httputil.ReverseProxy
	for _, b := range bases {
		u, _ := url.Parse(b)
		// The Host header becomes the server's own (it refuses a Host that is not its public
		// URL's), and X-Forwarded-For names the client (--trusted-proxies 127.0.0.1/32).
		p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.SetXForwarded() },
			Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		proxies = append(proxies, p)
	}
	var n atomic.Uint64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[int(n.Add(1)%uint64(len(proxies)))].ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// benchLogins runs full logins (password, TOTP code of the next step, first page) of the users
// totp{from}… up to totp{to} (excluded) at base from workers clients, and returns the time
// they took and the failures.
func benchLogins(t *testing.T, base string, keys []string, from, to, workers int) (time.Duration, int64) {
	var ip, fails atomic.Int64
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < to; i = int(next.Add(1)) - 1 {
				c := newCrashClient(base, &ip)
				name := fmt.Sprintf("totp%04d", i)
				if loc, err := c.post("/login", url.Values{"username": {name}, "password": {benchPassword}}); err != nil || loc != "/login/verify" {
					fails.Add(1)
					continue
				}
				code := backendtest.TOTP(t, keys[i], time.Now().Add(30*time.Second))
				if loc, err := c.post("/login/verify", url.Values{"code": {code}}); err != nil || loc != "/" {
					fails.Add(1)
					continue
				}
				if page, err := c.get("/profile"); err != nil || !strings.Contains(page, name) {
					fails.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), fails.Load()
}

// TestBenchPostgres: the same full logins (real argon2id) on SQLite and on PostgreSQL (the
// installation copied with storecopy, so both hold the same users), against the argon2id rate;
// then on PostgreSQL through a round-robin balancer to one replica and to two, with the CPU time
// the gatehouse processes spent per login. Each run logs in every user once on its own copy.
func TestBenchPostgres(t *testing.T) {
	benchOnly(t)
	ctx := context.Background()
	dir, key := benchData(t)
	db, svc := openReal(t, dir, key)
	hash := realHash(t, db, svc)
	const enrolled = 300
	var users []*backend.User
	for i := range enrolled {
		users = append(users, &backend.User{Username: fmt.Sprintf("totp%04d", i), Role: backend.RoleUser})
	}
	if err := db.SeedUsers(ctx, users, hash); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, enrolled)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < enrolled; i = int(next.Add(1)) - 1 {
				keys[i] = benchEnroll(t, svc, fmt.Sprintf("totp%04d", i))
			}
		})
	}
	wg.Wait()
	db.Close()
	time.Sleep(31 * time.Second) // past the enrollments' TOTP step, which the logins' next step may be
	urls := make([]string, 3)
	for i := range urls {
		urls[i] = pgtest.Database(t)
		if _, err := storecopy.Copy(ctx, backendtest.SQLitePath(dir), urls[i]); err != nil {
			t.Fatal(err)
		}
	}
	pgEnv := func(u string) []string {
		return []string{"GATEHOUSE_DATABASE_URL=" + u, "GATEHOUSE_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key),
			"GATEHOUSE_TRUSTED_PROXIES=127.0.0.1/32"}
	}
	workers := 2 * runtime.GOMAXPROCS(0)

	// Five setups, all started first, then measured in alternating rounds of 30 logins each,
	// so that the load of the shared machine falls on all alike: SQLite, PostgreSQL (each
	// server on its own), and on PostgreSQL behind the balancer one replica, then two (each
	// setup on its own copy, as each run logs every user in once).
	type setup struct {
		children []*exec.Cmd
		target   string
		elapsed  time.Duration
		cpu      time.Duration // of its gatehouse processes
		fails    int64
	}
	serve := func(env ...string) (string, *exec.Cmd) {
		if len(env) == 0 {
			return startServe(t, dir)
		}
		return startServeWith(t, dir, env...)
	}
	newSetup := func(replicas int, balanced bool, env ...string) *setup {
		s := &setup{}
		var bases []string
		for range replicas {
			base, c := serve(env...)
			bases = append(bases, base)
			s.children = append(s.children, c)
			t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		}
		s.target = bases[0]
		if balanced {
			s.target = balancer(t, bases)
		}
		return s
	}
	onSQLite := newSetup(1, false)
	onPG := newSetup(1, false, pgEnv(urls[0])...)
	one := newSetup(1, true, pgEnv(urls[1])...)
	two := newSetup(2, true, pgEnv(urls[2])...)
	setups := []*setup{onSQLite, onPG, one, two}
	pgPool, err := pgxpool.New(ctx, urls[0])
	if err != nil {
		t.Fatal(err)
	}
	defer pgPool.Close()
	onPGBackends := pgBackends{pgPool}
	var pgCPU time.Duration // PostgreSQL's, for the logins of onPG
	const chunk = 30
	var argonN float64
	var argonT, argonCPU time.Duration // argonCPU: the test process's CPU time while it hashed
	for from := 0; from < enrolled; from += chunk {
		to := min(enrolled, from+chunk)
		t0, cpu0 := time.Now(), cpuTime(t, os.Getpid())
		argonN += argon2Rate(2*time.Second) * 2
		argonT += time.Since(t0)
		argonCPU += cpuTime(t, os.Getpid()) - cpu0
		for _, s := range setups {
			var cpu0 time.Duration
			for _, c := range s.children {
				cpu0 += cpuTime(t, c.Process.Pid)
			}
			var pg0 map[int]time.Duration
			if s == onPG {
				pg0 = onPGBackends.cpu(t)
			}
			d, fails := benchLogins(t, s.target, keys, from, to, workers)
			for _, c := range s.children {
				s.cpu += cpuTime(t, c.Process.Pid)
			}
			if s == onPG {
				pgCPU += onPGBackends.since(t, pg0)
			}
			s.cpu -= cpu0
			s.elapsed += d
			s.fails += fails
		}
	}
	argon := argonN / argonT.Seconds()
	rate := func(s *setup) float64 { return float64(int64(enrolled)-s.fails) / s.elapsed.Seconds() }
	perLogin := func(s *setup) float64 { return ms(s.cpu) / float64(enrolled) }

	note := fmt.Sprintf("%d logins each, %d concurrent clients, %d alternating rounds; failed: SQLite %d, PostgreSQL %d",
		enrolled, workers, (enrolled+chunk-1)/chunk, onSQLite.fails, onPG.fails)
	report("Login throughput on PostgreSQL (password + TOTP + first page, HTTP) vs bare argon2id",
		fmt.Sprintf("%.1f logins/s = **%.2f** × argon2id (%.1f verifies/s)", rate(onPG), rate(onPG)/argon, argon), "≥ 0.90", note)
	report("Login throughput on PostgreSQL vs the same logins on SQLite",
		fmt.Sprintf("%.1f vs %.1f logins/s = **%.2f**", rate(onPG), rate(onSQLite), rate(onPG)/rate(onSQLite)), "≥ 0.95",
		fmt.Sprintf("the same installation, copied (gatehouse database copy); CPU per login in gatehouse: SQLite %.1f ms, PostgreSQL %.1f ms, and in PostgreSQL's server processes %.1f ms; argon2id alone %.1f CPU ms a verify",
			perLogin(onSQLite), perLogin(onPG), ms(pgCPU)/float64(enrolled), ms(argonCPU)/argonN))
	report("One replica vs two on PostgreSQL, behind a round-robin balancer (a Go reverse proxy in the benchmark)",
		fmt.Sprintf("1: %.1f logins/s, %.1f CPU ms/login; 2: %.1f logins/s, %.1f CPU ms/login (both together); **%.2f** × one",
			rate(one), perLogin(one), rate(two), perLogin(two), rate(two)/rate(one)), "report (no gain expected on 2 shared CPUs)",
		fmt.Sprintf("failed: %d and %d; the balancer, the clients and PostgreSQL share the servers' 2 CPUs", one.fails, two.fails))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pgBackends reads the CPU time (user + system, from /proc) of the PostgreSQL server processes
// connected to the database at dbURL (pg_stat_activity), by process ID: the work PostgreSQL
// does for that database's clients, on the same CPUs.
type pgBackends struct {
	conn *pgxpool.Pool
}

func (b pgBackends) cpu(t *testing.T) map[int]time.Duration {
	rows, err := b.conn.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]time.Duration{}
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			m[int(pid)] = cpuTime(t, int(pid))
		}
	}
	return m
}

// since is the CPU time the backends used since before (a backend that connected since counts
// from zero; one that disconnected meanwhile is not counted).
func (b pgBackends) since(t *testing.T, before map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, c := range b.cpu(t) {
		d += c - before[pid]
	}
	return d
}

// TestBenchSecondFactorPostgres: TestBenchSecondFactor on PostgreSQL: the whole TOTP step
// (VerifyTOTP) per second vs a bare one-row UPDATE and its commit on the same database; on the
// tests' cluster (fsync off) and on a durable one (fsync on, as a deployment runs it), where
// both sides also wait for their commit's flush.
func TestBenchSecondFactorPostgres(t *testing.T) {
	benchOnly(t)
	shared, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	benchSecondFactorOn(t, shared, "tests' cluster, fsync off")
	benchSecondFactorOn(t, pgtest.New(t, pgtest.Options{Durable: true}), "durable cluster, fsync on")
}

// benchSecondFactorOn is TestBenchSecondFactorPostgres on one cluster.
func benchSecondFactorOn(t *testing.T, cluster *pgtest.Cluster, label string) {
	ctx := context.Background()
	kind := backendtest.StoreKind{Name: "postgres",
		Open: func(dir string, now func() time.Time) (backend.Store, func() error, error) {
			url, err := cluster.DatabaseFor(dir)
			if err != nil {
				return nil, nil, err
			}
			db, err := postgres.Open(ctx, url)
			if err != nil {
				return nil, nil, err
			}
			return db, db.Close, nil
		},
		Remove: cluster.DropDatabaseFor,
	}
	h := backendtest.New(t, backendtest.WithStore(kind), backendtest.WithRealClock(), backendtest.WithoutLogs())
	svc := h.Service
	dbURL, err := cluster.DatabaseFor(h.Dir)
	if err != nil {
		t.Fatal(err)
	}
	const n, serial = 2000, 200 // the last serial attempts are for the one-at-a-time latency
	var wg sync.WaitGroup
	var next atomic.Int64
	ids := make([]int64, n+serial)
	for i := range n + serial {
		u, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: fmt.Sprintf("v%04d", i), Password: benchPassword})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	keys := make([]string, n+serial)
	attempts := make([]string, n+serial)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n+serial; i = int(next.Add(1)) - 1 {
				keys[i] = benchEnroll(t, svc, fmt.Sprintf("v%04d", i))
				st, err := svc.Login(ctx, fmt.Sprintf("v%04d", i), benchPassword)
				if err != nil {
					t.Error(err)
					return
				}
				attempts[i] = st.AttemptToken
			}
		})
	}
	wg.Wait()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	workers := 2 * runtime.GOMAXPROCS(0)
	// Each figure runs in 10 rounds of 200, the three alternating, so that the shared
	// machine's load falls on all alike.
	const rounds = 10
	run := func(from, to int, f func(i int) error) time.Duration {
		next.Store(int64(from))
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < to; i = int(next.Add(1)) - 1 {
					if err := f(i); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	verifyStep := func(i int) error {
		_, err := svc.VerifyTOTP(ctx, attempts[i], backendtest.TOTP(t, keys[i], time.Now().Add(30*time.Second)))
		return err
	}
	bareStep := func(i int) error { // BEGIN, a one-row UPDATE, COMMIT
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_count = failed_count + 1 WHERE id = $1`, ids[i]); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	autoStep := func(i int) error { // the UPDATE alone, committing itself: one round trip
		_, err := pool.Exec(ctx, `UPDATE users SET failed_count = failed_count + 1 WHERE id = $1`, ids[i])
		return err
	}
	var dVerify, dBare, dAuto time.Duration
	for r := range rounds {
		from, to := r*n/rounds, (r+1)*n/rounds
		dVerify += run(from, to, verifyStep)
		dBare += run(from, to, bareStep)
		dAuto += run(from, to, autoStep)
	}
	verify, bare, auto := n/dVerify.Seconds(), n/dBare.Seconds(), n/dAuto.Seconds()
	// One at a time, alternating: the latency of a step, where its round trips show.
	var latVerify, latBare []time.Duration
	for i := n; i < n+serial; i++ {
		for _, m := range []struct {
			f   func(int) error
			lat *[]time.Duration
		}{{verifyStep, &latVerify}, {bareStep, &latBare}} {
			t0 := time.Now()
			if err := m.f(i); err != nil {
				t.Fatal(err)
			}
			*m.lat = append(*m.lat, time.Since(t0))
		}
	}
	report("Second-factor verify on PostgreSQL, "+label+" (VerifyTOTP: the whole TOTP step)",
		fmt.Sprintf("%.0f/s = **%.2f** × bare one-row UPDATE + COMMIT (%.0f/s)", verify, verify/bare, bare), "≥ 0.50",
		fmt.Sprintf("one transaction, 2 round trips, 4 statements: BEGIN + the attempt and its user (with the secret) locked; one statement (the TOTP consume with the charge and the counter reset in one UPDATE, attempt→session, the login's moves, audit) + COMMIT; %d concurrent, %d alternating rounds; a lone autocommit UPDATE: %.0f/s; one at a time, p50: step %v, bare %v",
			workers, rounds, auto, pct(latVerify, 50).Round(10*time.Microsecond), pct(latBare, 50).Round(10*time.Microsecond)))
}
