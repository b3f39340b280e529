package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/cli"
	"gatehouse/backend/postgres"
	"gatehouse/backend/postgres/pgtest"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// TestTrustedProxiesFlag: serve --trusted-proxies (or GATEHOUSE_TRUSTED_PROXIES) takes address
// ranges and single addresses, separated by commas; anything else stops start-up with one clear
// line and exit status 2 (issue 9 F11).
func TestTrustedProxiesFlag(t *testing.T) {
	got, err := parseTrustedProxies(" 10.0.0.0/8, 127.0.0.1 ,::1/128,192.168.7.9/24,")
	if want := "[10.0.0.0/8 127.0.0.1/32 ::1/128 192.168.7.0/24]"; err != nil || fmt.Sprint(got) != want {
		t.Errorf("got %v, %v; want %s", got, err, want)
	}
	if got, err := parseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Errorf("empty: got %v, %v; want none", got, err)
	}
	dir := t.TempDir()
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8;127.0.0.1", "10.0.0.0/8,,300.1.1.1"} {
		_, err := gatehouse(t, dir, "", "serve", "--addr", "127.0.0.1:0", "--trusted-proxies", bad)
		if err == nil || cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--trusted-proxies") || !strings.Contains(err.Error(), "is not an address range") {
			t.Errorf("--trusted-proxies %q: %v (exit %d), want a usage error naming the flag", bad, err, cli.ExitCode(err))
		}
	}
	t.Setenv("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/99")
	if _, err := gatehouse(t, dir, "", "serve", "--addr", "127.0.0.1:0"); err == nil || cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), `"10.0.0.0/99"`) {
		t.Errorf("GATEHOUSE_TRUSTED_PROXIES=10.0.0.0/99: %v, want a usage error", err)
	}
}

// pgReplicaEnv names the address of the server TestHelperServePostgres runs; without it that
// test does nothing. The database, the server key, the public URL and Twilio come from the
// environment, as an operator's env file gives them.
const pgReplicaEnv = "GATEHOUSE_PG_REPLICA_ADDR"

// TestHelperServePostgres is a child of TestReplicasBehindHAProxy: `gatehouse serve` behind the
// balancer (--trusted-proxies 127.0.0.1), logging to standard error, until killed.
func TestHelperServePostgres(t *testing.T) {
	addr := os.Getenv(pgReplicaEnv)
	if addr == "" {
		return
	}
	err := run(context.Background(), []string{"serve", "--addr", addr, "--trusted-proxies", "127.0.0.1"}, os.Stdin, io.Discard, os.Stderr)
	fmt.Fprintln(os.Stderr, "serve returned:", err)
	os.Exit(2)
}

// pgReplica is one `gatehouse serve` process on the shared PostgreSQL database.
type pgReplica struct {
	t    *testing.T
	name string
	addr string // 127.0.0.1:PORT
	env  []string
	logs *backendtest.Logs // its standard error: the log
	cmd  *exec.Cmd
}

func (r *pgReplica) start() {
	t := r.t
	t.Helper()
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperServePostgres$")
	r.cmd.Env = append(append(os.Environ(), pgReplicaEnv+"="+r.addr), r.env...)
	r.cmd.Stderr = r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := http.Get("http://" + r.addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			r.kill()
			t.Fatalf("server %s did not start: %s", r.name, r.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *pgReplica) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// haproxyConfig is the balancer of TestReplicasBehindHAProxy: README "Scaling"'s haproxy
// configuration, read from README.md so that the two cannot drift, with the test's addresses
// (the bind line and the server lines) and three lines of the test's own before the servers:
// X-Replica picks a replica (to begin something on one and finish it on the other), and
// X-Served-By says which answered.
func haproxyConfig(t *testing.T, lb, a, b string) string {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, scaling, _ := strings.Cut(string(readme), "\n## Scaling\n")
	_, block, ok := strings.Cut(scaling, "```haproxy\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README.md's Scaling section has no haproxy block")
	}
	for old, new := range map[string]string{
		"    bind :443 ssl crt /etc/ssl/login.example.com.pem\n": "    bind " + lb + "\n",
		"    server a 10.0.0.11:8080 check\n": "    use-server a if { req.hdr(x-replica) -m str a }\n" +
			"    use-server b if { req.hdr(x-replica) -m str b }\n" +
			"    http-response set-header X-Served-By %s\n" +
			"    server a " + a + " check\n",
		"    server b 10.0.0.12:8080 check\n": "    server b " + b + " check\n",
	} {
		if !strings.Contains(block, old) {
			t.Fatalf("README.md's haproxy block lacks the line %q the test replaces:\n%s", old, block)
		}
		block = strings.Replace(block, old, new, 1)
	}
	return block
}

// lbClient is one browser behind the balancer: a cookie jar, same-origin form posts, redirects
// not followed, and its own loopback address (so that the per-address limiter of one replica
// counts each browser apart).
type lbClient struct {
	base string
	hc   *http.Client
}

// lbAnswer is one answer through the balancer.
type lbAnswer struct {
	status   int
	location string
	body     string
	server   string // X-Served-By: the replica that answered
}

func newLBClient(base string, ip *atomic.Int64) *lbClient {
	jar, _ := cookiejar.New(nil)
	n := ip.Add(1)
	local := &net.TCPAddr{IP: net.IPv4(127, 20+byte(n/62500), byte(n/250%250), byte(2+n%250))}
	return &lbClient{base: base, hc: &http.Client{
		Transport:     &http.Transport{DialContext: (&net.Dialer{LocalAddr: local}).DialContext, DisableKeepAlives: true},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}}
}

// do sends a request through the balancer, to replica ("a", "b") or to whichever it picks ("").
func (c *lbClient) do(method, path, replica string, form url.Values) (lbAnswer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return lbAnswer{}, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if replica != "" {
		req.Header.Set("X-Replica", replica)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return lbAnswer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return lbAnswer{}, err // cut off: not an answer
	}
	return lbAnswer{res.StatusCode, res.Header.Get("Location"), string(b), res.Header.Get("X-Served-By")}, nil
}

// must is do for a step that has to get through.
func (c *lbClient) must(t *testing.T, method, path, replica string, form url.Values) lbAnswer {
	t.Helper()
	a, err := c.do(method, path, replica, form)
	if err != nil {
		t.Fatalf("%s %s on %q: %v", method, path, replica, err)
	}
	if replica != "" && a.server != replica {
		t.Fatalf("%s %s: answered by %q, want %q", method, path, a.server, replica)
	}
	return a
}

// wantRedirect posts and fails the test unless the answer redirects to want.
func (c *lbClient) wantRedirect(t *testing.T, path, replica string, form url.Values, want string) {
	t.Helper()
	if a := c.must(t, "POST", path, replica, form); a.status != http.StatusSeeOther || a.location != want {
		t.Fatalf("POST %s on %s: %d to %q, want 303 to %q:\n%.600s", path, replica, a.status, a.location, want, a.body)
	}
}

// TestReplicasBehindHAProxy is issue 12's "Replicas for real": a PostgreSQL of the test's own,
// two `gatehouse serve` on it with one env file's settings (the same server key, the
// balancer's public URL, --trusted-proxies 127.0.0.1), and a real Debian haproxy in front,
// round robin with `option httpchk GET /readyz` and X-Forwarded-For. Each subtest shows one
// thing the replicas must do as one server; see their comments.
func TestReplicasBehindHAProxy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs SIGKILL and all of 127.0.0.0/8 on loopback")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Fatal("haproxy is not installed (Debian package haproxy; build/test.sh installs it)")
	}
	t.Parallel()
	ctx := context.Background()
	started := time.Now()
	defer func() { t.Logf("wall time %s", time.Since(started).Round(time.Millisecond)) }()

	cluster := pgtest.New(t, pgtest.Options{})
	dbURL := cluster.Database(t)
	key := make([]byte, 32)
	rand.Read(key)

	// The accounts, made through a Service of the test's own on the same database: cheap
	// argon2id hashes (a login verifies with the parameters in the hash), except victim's.
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := backend.New(backend.Config{Store: db, SecretKey: key, Logger: slog.New(slog.DiscardHandler),
		Passwords: backend.PasswordPolicy{Argon2: backendtest.CheapArgon2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateFirstAdmin(ctx, backend.NewUser{Username: "root", Password: crashPassword}); err != nil {
		t.Fatal(err)
	}
	users := map[string]*backend.User{}
	newUser := func(s *backend.Service, name string, required bool) {
		u, err := s.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: name, Password: crashPassword, RequireTwoFactor: required})
		if err != nil {
			t.Fatal(err)
		}
		users[name] = u
	}
	for _, name := range []string{"ann", "cat", "dan", "eve"} {
		newUser(svc, name, false)
	}
	newUser(svc, "sam", true)
	const loadUsers = 16
	for i := range loadUsers {
		newUser(svc, fmt.Sprintf("load%02d", i), false)
	}
	// victim's hash has the real parameters: its wrong passwords take a hash's time each, so
	// that 200 of them are in flight together.
	real, err := backend.New(backend.Config{Store: db, SecretKey: key, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	newUser(real, "victim", false)
	enroll := func(name string) *backendtest.App {
		// Confirmed with the code of the step before, so that the code of now is still unused.
		return backendtest.EnrollApp(t, svc, backendtest.SignIn(t, svc, name, crashPassword), crashPassword, time.Now().Add(-30*time.Second))
	}
	apps := map[string]*backendtest.App{"ann": enroll("ann"), "cat": enroll("cat"), "dan": enroll("dan")}

	// The one env file both replicas share, and the balancer.
	twilio := smstest.NewServer()
	t.Cleanup(twilio.Close)
	lbAddr := freeAddr(t)
	public := "http://" + lbAddr
	env := []string{"GATEHOUSE_DATABASE_URL=" + dbURL, "GATEHOUSE_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key),
		"GATEHOUSE_PUBLIC_URL=" + public, "GATEHOUSE_DATA=" + t.TempDir(),
		"TWILIO_ACCOUNT_SID=" + twilio.AccountSID, "TWILIO_AUTH_TOKEN=" + twilio.AuthToken,
		"GATEHOUSE_SMS_FROM=" + smstest.PhoneNumber, "GATEHOUSE_TWILIO_API_URL=" + twilio.URL,
		"TWILIO_MESSAGING_SERVICE_SID=", "GATEHOUSE_SMS_REGION=", "GATEHOUSE_TRUSTED_PROXIES="}
	replicas := map[string]*pgReplica{}
	for _, name := range []string{"a", "b"} {
		r := &pgReplica{t: t, name: name, addr: freeAddr(t), env: env, logs: &backendtest.Logs{}}
		r.start()
		t.Cleanup(r.kill)
		replicas[name] = r
	}
	a, b := replicas["a"], replicas["b"]
	cfgFile := filepath.Join(t.TempDir(), "haproxy.cfg")
	cfg := haproxyConfig(t, lbAddr, a.addr, b.addr)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	lbLogs := &backendtest.Logs{}
	lb := exec.Command(haproxy, "-db", "-f", cfgFile)
	lb.Stdout, lb.Stderr = lbLogs, lbLogs
	if err := lb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Process.Kill(); lb.Wait() })
	var ip atomic.Int64
	waitBalanced := func(what string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		seen := map[string]bool{}
		c := newLBClient(public, &ip)
		for len(seen) < 2 {
			if ans, err := c.do("GET", "/login", "", nil); err == nil && ans.status == http.StatusOK {
				seen[ans.server] = true
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the balancer did not send to both replicas within 15 s (answered by %v); haproxy:\n%s", what, seen, lbLogs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitBalanced("start")

	query := func(sql string, args ...any) int {
		t.Helper()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	audits := func(action, target string) int {
		t.Helper()
		return query(`SELECT count(*) FROM audit_events WHERE action = $1 AND target_name = $2`, action, target)
	}
	login := func(name string) url.Values { return url.Values{"username": {name}, "password": {crashPassword}} }

	// The README's frontend keeps forward-auth off the public host (issue 12 #4).
	t.Run("forward-auth not public", func(t *testing.T) {
		c := newLBClient(public, &ip)
		if got := c.must(t, "GET", "/auth/verify", "", nil); got.status != http.StatusNotFound || got.server != "" {
			t.Errorf("GET /auth/verify through the balancer: %d from %q, want 404 from the balancer itself", got.status, got.server)
		}
	})

	// A login begun on one replica (the password) finishes on the other (the code), and the
	// session works on both.
	t.Run("login across replicas", func(t *testing.T) {
		c := newLBClient(public, &ip)
		c.wantRedirect(t, "/login", "a", login("ann"), "/login/verify")
		code := backendtest.TOTP(t, apps["ann"].Key, time.Now())
		c.wantRedirect(t, "/login/verify", "b", url.Values{"code": {code}}, "/")
		for _, r := range []string{"a", "b"} {
			if ans := c.must(t, "GET", "/profile", r, nil); ans.status != http.StatusOK || !strings.Contains(ans.body, "ann") {
				t.Errorf("profile on %s: %d, want 200 signed in as ann", r, ans.status)
			}
		}
	})

	// 200 wrong passwords for one account at once, from 200 addresses, spread by the balancer
	// over both replicas: the shared failure counter lets no more than the lockout's 10 be
	// verified (each verified one is a login.failure event), and the account locks.
	t.Run("parallel wrong passwords", func(t *testing.T) {
		const n = 200
		clients := make([]*lbClient, n)
		for i := range clients {
			clients[i] = newLBClient(public, &ip)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses, servers := map[int]int{}, map[string]int{}
		startLine := make(chan struct{})
		for _, c := range clients {
			wg.Go(func() {
				<-startLine
				ans, err := c.do("POST", "/login", "", url.Values{"username": {"victim"}, "password": {"not the password"}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					statuses[0]++
					return
				}
				statuses[ans.status]++
				servers[ans.server]++
			})
		}
		close(startLine)
		wg.Wait()
		t.Logf("answers %v, by replica %v", statuses, servers)
		if statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != n {
			t.Errorf("answers %v: want each of the %d a 401 or a 429", statuses, n)
		}
		if servers["a"] < n/4 || servers["b"] < n/4 {
			t.Errorf("answered by %v: want both replicas to take a fair share", servers)
		}
		const max = 10 // the default LockoutPolicy.MaxFailures, which serve uses
		if got := audits(backend.AuditLoginFailure, "victim"); got < 1 || got > max {
			t.Errorf("%d passwords verified (login.failure events), want 1 to %d", got, max)
		}
		if got := audits(backend.AuditAccountLocked, "victim"); got != 1 {
			t.Errorf("account.locked events: %d, want 1", got)
		}
		c := newLBClient(public, &ip)
		if ans := c.must(t, "POST", "/login", "", url.Values{"username": {"victim"}, "password": {crashPassword}}); ans.status != http.StatusTooManyRequests {
			t.Errorf("the right password after the storm: %d, want 429 (locked)", ans.status)
		}
	})

	// One valid code, sent 50 times at once over both replicas (25 each) on the login it was
	// typed for, is accepted exactly once: a TOTP code, then a recovery code.
	once := func(t *testing.T, name, path, code, next string) {
		successes := audits(backend.AuditLoginSuccess, name) // the enrollment's own login
		c := newLBClient(public, &ip)
		c.wantRedirect(t, "/login", "a", login(name), "/login/verify")
		var wg sync.WaitGroup
		var accepted atomic.Int32
		startLine := make(chan struct{})
		for i := range 50 {
			wg.Go(func() {
				<-startLine
				ans, err := c.do("POST", path, []string{"a", "b"}[i%2], url.Values{"code": {code}})
				if err == nil && ans.status == http.StatusSeeOther && ans.location == next {
					accepted.Add(1)
				}
			})
		}
		close(startLine)
		wg.Wait()
		if accepted.Load() != 1 {
			t.Errorf("%s: accepted %d times of 50, want exactly once", path, accepted.Load())
		}
		if got := audits(backend.AuditLoginSuccess, name) - successes; got != 1 {
			t.Errorf("new login.success events of %s: %d, want 1", name, got)
		}
	}
	t.Run("TOTP code once", func(t *testing.T) {
		once(t, "cat", "/login/verify", backendtest.TOTP(t, apps["cat"].Key, time.Now()), "/")
	})
	t.Run("recovery code once", func(t *testing.T) {
		once(t, "dan", "/login/recovery", apps["dan"].RecoveryCodes[0], "/profile")
		if got := audits(backend.AuditRecoveryCodeUsed, "dan"); got != 1 {
			t.Errorf("login.recovery_code events: %d, want 1", got)
		}
	})

	// An administrator's Disable on replica a ends the user's session on replica b within a
	// second (issue 13's rule for a server that answers session checks from its cache: it
	// learns of revocations by polling every 250 ms, backend/sessioncache.go).
	t.Run("disable ends the session elsewhere", func(t *testing.T) {
		eve := newLBClient(public, &ip)
		eve.wantRedirect(t, "/login", "b", login("eve"), "/")
		if ans := eve.must(t, "GET", "/profile", "b", nil); ans.status != http.StatusOK {
			t.Fatalf("eve's profile on b: %d", ans.status)
		}
		root := newLBClient(public, &ip)
		root.wantRedirect(t, "/login", "a", login("root"), "/")
		path := fmt.Sprintf("/admin/users/%d", users["eve"].ID)
		root.wantRedirect(t, path+"/edit", "a", url.Values{"name": {""}, "email": {""}, "role": {"user"}, "account": {"disabled"}}, path)
		disabled := time.Now()
		for {
			ans := eve.must(t, "GET", "/profile", "b", nil)
			if ans.status == http.StatusSeeOther && strings.HasPrefix(ans.location, "/login") {
				break
			}
			if ans.status != http.StatusOK || time.Since(disabled) > time.Second {
				t.Fatalf("eve's request on b %v after the Disable: %d to %q, want 303 to the login page within 1 s", time.Since(disabled).Round(time.Millisecond), ans.status, ans.location)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("eve's session refused on b %v after the Disable on a", time.Since(disabled).Round(time.Millisecond))
	})

	// SMS enrollment at login: begun on a, the text (Twilio's webhook call) arrives at b, the
	// page polling a sees it, and the confirmation on b enrolls the number.
	t.Run("SMS enrollment", func(t *testing.T) {
		const phone = "+16502530077"
		sam := newLBClient(public, &ip)
		sam.wantRedirect(t, "/login", "a", login("sam"), "/login/enroll")
		sam.wantRedirect(t, "/login/enroll/sms", "a", nil, "/login/enroll/sms")
		m := replicaAuthCode.FindStringSubmatch(sam.must(t, "GET", "/login/enroll/sms", "a", nil).body)
		if m == nil {
			t.Fatal("no Authorization Code on a's page")
		}
		if st := sam.must(t, "GET", "/login/enroll/sms/status", "a", nil).body; !strings.Contains(st, `"state":"waiting"`) {
			t.Fatalf("a's status before the text: %s", st)
		}
		code, body, err := smstest.SendInboundTo("http://"+b.addr+sms.WebhookPath, public+sms.WebhookPath,
			twilio.AuthToken, twilio.Form(smstest.Inbound{From: phone, Body: m[1]}))
		if err != nil || code != http.StatusOK {
			t.Fatalf("the text to b: %d %s %v", code, body, err)
		}
		if st := sam.must(t, "GET", "/login/enroll/sms/status", "a", nil).body; !strings.Contains(st, `"state":"received"`) {
			t.Fatalf("a's status after the text reached b: %s", st)
		}
		sam.wantRedirect(t, "/login/enroll/sms/confirm", "b", nil, "/recovery-codes")
		u, err := svc.UserByUsername(ctx, svc.Operator(), "sam")
		if err != nil || u.Method != backend.MethodSMS || u.SMSPhone != phone {
			t.Errorf("sam after the confirmation: %+v, %v; want SMS with %s", u, err, phone)
		}
	})

	// load runs password logins through the balancer from 8 browsers until stop closes, and
	// returns, per answer, the browser of each acknowledged login (303 to /) and the count of
	// failures (no answer, or any other status); the first answers other than 503 are logged
	// with their bodies.
	type acked struct {
		c    *lbClient
		user string
	}
	load := func(stop chan struct{}) (func() ([]acked, map[string]int), *atomic.Int32) {
		var mu sync.Mutex
		var got []acked
		failures := map[string]int{}
		var odd []string // the first answers other than a login or a 503, with their bodies
		var okCount atomic.Int32
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := 0; !stopped(stop); i++ {
					name := fmt.Sprintf("load%02d", (w*2+i%2)%loadUsers)
					c := newLBClient(public, &ip)
					ans, err := c.do("POST", "/login", "", login(name))
					mu.Lock()
					switch {
					case err != nil:
						failures["no answer"]++
					case ans.status == http.StatusSeeOther && ans.location == "/":
						got = append(got, acked{c, name})
						okCount.Add(1)
					default:
						failures[fmt.Sprint(ans.status)]++
						if ans.status != http.StatusServiceUnavailable && len(odd) < 5 {
							odd = append(odd, fmt.Sprintf("%s %d from %q: %.400s", time.Now().Format("15:04:05.000"), ans.status, ans.server, ans.body))
						}
					}
					mu.Unlock()
				}
			})
		}
		return func() ([]acked, map[string]int) {
			wg.Wait()
			if len(odd) > 0 {
				t.Logf("answers other than a login or 503:\n%s", strings.Join(odd, "\n"))
			}
			return got, failures
		}, &okCount
	}
	// stillSignedIn checks that every acknowledged login's session is in the database: its
	// cookie opens the profile.
	stillSignedIn := func(t *testing.T, got []acked) {
		t.Helper()
		lost := 0
		for _, g := range got {
			if ans, err := g.c.do("GET", "/profile", "", nil); err != nil || ans.status != http.StatusOK || !strings.Contains(ans.body, g.user) {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("%d of %d acknowledged logins have no session afterwards", lost, len(got))
		}
	}

	// A replica killed with SIGKILL while logins go on: every login that was answered has its
	// session, and the balancer carries on with the other replica.
	t.Run("replica killed under load", func(t *testing.T) {
		stop := make(chan struct{})
		wait, ok := load(stop)
		time.Sleep(time.Second)
		before := ok.Load()
		a.kill()
		killed := time.Now()
		time.Sleep(2 * time.Second)
		after := ok.Load() - before
		close(stop)
		got, failures := wait()
		t.Logf("%d logins acknowledged (%d in the 2 s after the kill), failures %v", len(got), after, failures)
		if before == 0 || after < 10 {
			t.Errorf("acknowledged logins: %d before the kill, %d in the 2 s after; want the balancer to carry on with b", before, after)
		}
		stillSignedIn(t, got)
		if ans := newLBClient(public, &ip).must(t, "GET", "/login", "", nil); ans.server != "b" {
			t.Errorf("%s after the kill the balancer sends to %q, want b", time.Since(killed).Round(time.Millisecond), ans.server)
		}
		a.start()
		waitBalanced("a restarted")
	})

	// PostgreSQL stopped and started again under load: while it is down each replica answers
	// 503 with the clear page, and logs one line for it; once it is back both serve again
	// without being restarted, and nothing acknowledged is lost.
	t.Run("PostgreSQL restarted under load", func(t *testing.T) {
		stop := make(chan struct{})
		wait, _ := load(stop)
		time.Sleep(time.Second)
		if err := cluster.Stop(); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*pgReplica{a, b} {
			c := &lbClient{base: "http://" + r.addr, hc: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			for _, path := range []string{"/login", "/readyz"} {
				ans, err := c.do("GET", path, "", nil)
				if err != nil || ans.status != http.StatusServiceUnavailable {
					t.Errorf("%s on %s with the database down: %d %v, want 503", path, r.name, ans.status, err)
				} else if path == "/login" && !strings.Contains(ans.body, "Gatehouse cannot reach its database") {
					t.Errorf("%s on %s with the database down: the page does not say why:\n%.500s", path, r.name, ans.body)
				}
			}
		}
		time.Sleep(time.Second)
		if err := cluster.Start(); err != nil {
			t.Fatal(err)
		}
		back := time.Now()
		waitBalanced("PostgreSQL back")
		t.Logf("both replicas serve again %s after PostgreSQL started", time.Since(back).Round(time.Millisecond))
		time.Sleep(time.Second)
		close(stop)
		got, failures := wait()
		t.Logf("%d logins acknowledged, failures %v", len(got), failures)
		// While PostgreSQL is down or coming back, a login is refused with 503 (a replica's
		// page, or haproxy's own with both taken out): never a 500, nor no answer.
		for what, n := range failures {
			if what != "503" {
				t.Errorf("%d logins answered %s during the restart, want only 503 besides the logins", n, what)
			}
		}
		stillSignedIn(t, got)
		for _, r := range []*pgReplica{a, b} {
			logs := r.logs.String()
			for _, l := range strings.Split(logs, "\n") {
				if strings.Contains(l, "level=ERROR") && !strings.Contains(l, "Gatehouse cannot reach its database") {
					t.Logf("%s: %s", r.name, l)
				}
			}
			if n := strings.Count(logs, "Gatehouse cannot reach its database"); n != 1 {
				var lines []string
				for _, l := range strings.Split(logs, "\n") {
					if strings.Contains(l, "database") || strings.Contains(l, "readyz") {
						lines = append(lines, l)
					}
				}
				t.Errorf("%s logged the outage %d times, want once:\n%s", r.name, n, strings.Join(lines, "\n"))
			}
			if n := strings.Count(logs, "Gatehouse reaches its database again"); n != 1 {
				t.Errorf("%s logged the database back %d times, want once", r.name, n)
			}
		}
	})
}
