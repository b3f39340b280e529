package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
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

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/sqlite"
)

// serveEnv names the data directory of the server that TestHelperServe runs; without it that
// test does nothing.
const serveEnv = "GATEHOUSE_CRASH_SERVE"

// TestHelperServe is the child of TestServeSurvivesKill: `gatehouse serve` itself (run, as
// main calls it) on a random loopback port, until it is killed.
func TestHelperServe(t *testing.T) {
	dir := os.Getenv(serveEnv)
	if dir == "" {
		return
	}
	err := run(context.Background(), []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, os.Stdin, os.Stdout, io.Discard)
	fmt.Fprintln(os.Stderr, "serve returned:", err)
	os.Exit(2)
}

const crashPassword = "crash test passphrase"

// TestServeSurvivesKill kills the web server with SIGKILL in the middle of a storm of logins,
// two-factor enrollments and recovery-code logins, 20 times, restarting it each time. After
// each kill: every login that got its session cookie still has its session, every enrollment
// that got to its recovery codes is enabled with those 5 codes unused, every recovery code
// whose login succeeded is refused when tried again, and PRAGMA integrity_check says ok.
func TestServeSurvivesKill(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs SIGKILL and all of 127.0.0.0/8 on loopback")
	}
	t.Parallel()
	const runs, loginUsers, enrollUsers, recoveryUsers = 20, 8, 400, 40
	dir, key := backendtest.DataDir(t)
	ctx := context.Background()

	// The users, created through the Service with cheap argon2 parameters: the server verifies
	// with the parameters stored in each hash, so the storm spends its time on the requests.
	// untried holds the recovery codes not tried yet, spread so that one user's come far apart.
	codes := map[string][]string{}
	untried := make(chan [2]string, recoveryUsers*backend.RecoveryCodeCount)
	withSystem(t, dir, key, func(db *sqlite.DB, svc *backend.Service) {
		create := func(name string) {
			if _, err := svc.CreateUser(ctx, svc.Operator(), backend.NewUser{Username: name, Password: crashPassword, Role: backend.RoleUser}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range loginUsers {
			create(fmt.Sprintf("login%d", i))
		}
		for i := range enrollUsers {
			create(fmt.Sprintf("enroll%d", i))
		}
		for i := range recoveryUsers {
			name := fmt.Sprintf("recovery%d", i)
			create(name)
			codes[name] = enrollViaService(t, svc, name)
		}
		for c := range backend.RecoveryCodeCount {
			for i := range recoveryUsers {
				name := fmt.Sprintf("recovery%d", i)
				untried <- [2]string{name, codes[name][c]}
			}
		}
	})
	tried := map[string]bool{}
	var triedMu sync.Mutex
	var nextEnroll atomic.Int64

	var ip atomic.Int64 // every request comes from its own loopback address: no per-IP limit applies
	var acked struct {
		sync.Mutex
		sessions  map[string]string   // session token -> username
		enrolled  map[string][]string // username -> recovery codes handed out
		usedCodes map[string][]string // username -> codes that signed in
	}
	acked.sessions, acked.enrolled, acked.usedCodes = map[string]string{}, map[string][]string{}, map[string][]string{}
	enrolledThisRun := func() int {
		acked.Lock()
		defer acked.Unlock()
		return len(acked.enrolled)
	}
	total := map[string]int{}

	for run := range runs {
		base, child := startServe(t, dir)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 2 { // logins
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					c := newCrashClient(base, &ip)
					name := fmt.Sprintf("login%d", (2*i+w)%loginUsers)
					res, err := c.post("/login", url.Values{"username": {name}, "password": {crashPassword}})
					if err != nil {
						return
					}
					if tok := c.cookie("gatehouse_session"); res == "/" && tok != "" {
						acked.Lock()
						acked.sessions[tok] = name
						acked.Unlock()
					}
				}
			})
		}
		for range 2 { // enrollments, each of a fresh user
			wg.Go(func() {
				for !stopped(stop) {
					n := nextEnroll.Add(1) - 1
					if n >= enrollUsers {
						return
					}
					name := fmt.Sprintf("enroll%d", n)
					c := newCrashClient(base, &ip)
					if loc, err := c.post("/login", url.Values{"username": {name}, "password": {crashPassword}}); err != nil || loc != "/" {
						return
					}
					if loc, err := c.post("/profile/confirm-password", url.Values{"action": {"app"}, "password": {crashPassword}}); err != nil || loc != "/profile/two-factor/app" {
						return
					}
					page, err := c.get("/profile/two-factor/app")
					m := regexp.MustCompile(`id="totp-key">([A-Z2-7 ]+)<`).FindStringSubmatch(page)
					if err != nil || m == nil {
						return
					}
					code := backendtest.TOTP(t, strings.ReplaceAll(m[1], " ", ""), time.Now())
					if loc, err := c.post("/profile/two-factor/app/confirm", url.Values{"code": {code}}); err != nil || loc != "/recovery-codes" {
						return
					}
					sheet, err := c.get("/recovery-codes")
					got := regexp.MustCompile(`<li><code>([0-9A-Z-]{19})</code></li>`).FindAllStringSubmatch(sheet, -1)
					if err != nil || len(got) != backend.RecoveryCodeCount {
						return
					}
					acked.Lock()
					for _, g := range got {
						acked.enrolled[name] = append(acked.enrolled[name], g[1])
					}
					acked.Unlock()
				}
			})
		}
		for range 2 { // recovery-code logins
			wg.Go(func() {
				for !stopped(stop) {
					var uc [2]string
					select {
					case uc = <-untried:
					default:
						return
					}
					name, code := uc[0], uc[1]
					triedMu.Lock()
					tried[code] = true
					triedMu.Unlock()
					c := newCrashClient(base, &ip)
					if loc, err := c.post("/login", url.Values{"username": {name}, "password": {crashPassword}}); err != nil || loc != "/login/verify" {
						continue
					}
					if loc, err := c.post("/login/recovery", url.Values{"code": {code}}); err == nil && loc == "/profile" {
						acked.Lock()
						acked.usedCodes[name] = append(acked.usedCodes[name], code)
						acked.Unlock()
					}
				}
			})
		}

		// Kill at a random moment, but not before this run's storm has acknowledged an
		// enrollment (or 5 s have passed), so that a slow or busy machine still tests one.
		wait := time.Duration(100+mrand.IntN(500)) * time.Millisecond
		for start := time.Now(); time.Since(start) < wait || (enrolledThisRun() == 0 && time.Since(start) < 5*time.Second); {
			time.Sleep(10 * time.Millisecond)
		}
		if err := child.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		child.Wait()
		close(stop)
		wg.Wait()

		withSystem(t, dir, key, func(db *sqlite.DB, svc *backend.Service) {
			if err := db.Check(ctx); err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			acked.Lock()
			defer acked.Unlock()
			for tok, name := range acked.sessions {
				if id, err := svc.Authenticate(ctx, tok); err != nil || id.User.Username != name {
					t.Errorf("run %d: a session %s was given is gone: %v", run, name, err)
				}
			}
			for name, shown := range acked.enrolled {
				u, err := db.FindUserByUsername(ctx, name)
				if err != nil || u.Method != backend.MethodApp {
					t.Errorf("run %d: %s was shown recovery codes, but is not enrolled: %+v, %v", run, name, u, err)
					continue
				}
				if left, err := db.RecoveryCodes(ctx, u.ID); err != nil || len(left) != len(shown) {
					t.Errorf("run %d: %s has %d unused recovery codes, want the %d shown (%v)", run, name, len(left), len(shown), err)
				}
			}
			serviceChecked := false
			for name, used := range acked.usedCodes {
				u, err := db.FindUserByUsername(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				left, err := db.RecoveryCodes(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, code := range used {
					if unusedCode(left, code) {
						t.Errorf("run %d: %s's recovery code signed in, and is still unused", run, name)
					}
				}
				triedMu.Lock()
				for _, code := range codes[name] {
					if !tried[code] && !unusedCode(left, code) {
						t.Errorf("run %d: %s's recovery code, never tried, is not among the unused", run, name)
					}
				}
				triedMu.Unlock()
				if !serviceChecked { // and through the login itself, once a run
					serviceChecked = true
					st, err := svc.Login(ctx, name, crashPassword)
					if err != nil {
						t.Fatalf("run %d: log in %s to try a used code: %v", run, name, err)
					}
					if _, err := svc.VerifyRecoveryCode(ctx, st.AttemptToken, used[0]); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
						t.Errorf("run %d: %s's used recovery code tried again: %v, want refused", run, name, err)
					}
					svc.CancelLogin(ctx, st.AttemptToken)
				}
				total["used codes"] += len(used)
			}
			total["sessions"] += len(acked.sessions)
			total["enrollments"] += len(acked.enrolled)
			// Checked: start the next run's tally. (A used code stays used: it was checked
			// once, and the recovery users never try it again.)
			acked.sessions, acked.enrolled, acked.usedCodes = map[string]string{}, map[string][]string{}, map[string][]string{}
		})
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d kills; acknowledged and found again: %v", runs, total)
	if total["sessions"] == 0 || total["enrollments"] == 0 || total["used codes"] == 0 {
		t.Errorf("the storm acknowledged too little to test anything: %v", total)
	}
}

func stopped(stop chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// unusedCode reports whether code is among the user's unused recovery codes, as the Service
// stores them: SHA-256 over the salt and the canonical code. (The test also checks that the
// codes never tried are found this way, so a change of the scheme cannot hide a used code.)
func unusedCode(left []backend.RecoveryCode, code string) bool {
	c := backend.NormalizeRecoveryCode(code)
	for _, rc := range left {
		h := sha256.Sum256(append(slices.Clone(rc.Salt), c...))
		if bytes.Equal(h[:], rc.Hash) {
			return true
		}
	}
	return false
}

// withSystem opens the data directory's store and a Service over it (backendtest's: cheap
// argon2 for new hashes; the real clock, as the servers'), runs f, and closes them.
func withSystem(t *testing.T, dir string, key []byte, f func(*sqlite.DB, *backend.Service)) {
	t.Helper()
	h := backendtest.New(t, backendtest.InDataDir(dir, key), backendtest.WithRealClock())
	defer h.Close()
	f(h.Store.(*sqlite.DB), h.Service)
}

// enrollViaService enrolls the user's authenticator app and returns the recovery codes.
func enrollViaService(t *testing.T, svc *backend.Service, name string) []string {
	t.Helper()
	return backendtest.EnrollApp(t, svc, backendtest.SignIn(t, svc, name, crashPassword), crashPassword, time.Now()).RecoveryCodes
}

var listening = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// startServe starts the server on dir as a child process and returns its address once it
// answers /healthz.
func startServe(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	return startServeWith(t, dir)
}

// startServeWith is startServe with more environment (the PostgreSQL database, the server key).
func startServeWith(t *testing.T, dir string, env ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(append(os.Environ(), serveEnv+"="+dir, "GATEHOUSE_SECRET_KEY="), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindString(sc.Text()); m != "" {
				addr <- m
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case base := <-addr:
		return base, cmd
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start: %s", stderr.String())
	}
	return "", nil
}

// crashClient is one browser: a cookie jar, same-origin form posts, no redirects followed, and
// a new loopback address for every connection.
type crashClient struct {
	base string
	hc   *http.Client
}

func newCrashClient(base string, ip *atomic.Int64) *crashClient {
	jar, _ := cookiejar.New(nil)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		n := ip.Add(1)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 10+byte(n/62500), byte(n/250%250), byte(2+n%250))}}
		return d.DialContext(ctx, network, addr)
	}
	return &crashClient{base: base, hc: &http.Client{
		Transport:     &http.Transport{DialContext: dial, DisableKeepAlives: true},
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}}
}

// post sends a form and returns where the answer redirects ("" if it does not).
func (c *crashClient) post(path string, form url.Values) (string, error) {
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return "", err // cut off by the kill: not an answer
	}
	return res.Header.Get("Location"), nil
}

func (c *crashClient) get(path string) (string, error) {
	res, err := c.hc.Get(c.base + path)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

func (c *crashClient) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// replicaEnv names the data directory of the server TestHelperServeReplica runs, and
// replicaAddrEnv its address; without them that test does nothing.
const (
	replicaEnv     = "GATEHOUSE_REPLICA_SERVE"
	replicaAddrEnv = "GATEHOUSE_REPLICA_ADDR"
)

// TestHelperServeReplica is a child of TestTwoServersOneDataDirectory: `gatehouse serve` on the
// data directory and address given, with the SMS settings of its environment, until killed.
func TestHelperServeReplica(t *testing.T) {
	dir := os.Getenv(replicaEnv)
	if dir == "" {
		return
	}
	err := run(context.Background(), []string{"serve", "--data", dir, "--addr", os.Getenv(replicaAddrEnv)}, os.Stdin, io.Discard, io.Discard)
	fmt.Fprintln(os.Stderr, "serve returned:", err)
	os.Exit(2)
}

// replica is one `gatehouse serve` process on the shared data directory.
type replica struct {
	t    *testing.T
	name string
	dir  string
	env  []string // the SMS settings
	base string   // http://127.0.0.1:PORT, also its public URL
	cmd  *exec.Cmd
}

// startReplica starts a server process on dir at a free loopback port.
func startReplica(t *testing.T, name, dir string, env []string) *replica {
	t.Helper()
	r := &replica{t: t, name: name, dir: dir, env: env}
	r.start()
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *replica) start() {
	t := r.t
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r.base = "http://" + addr
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperServeReplica$")
	r.cmd.Env = append(append(os.Environ(), replicaEnv+"="+r.dir, replicaAddrEnv+"="+addr, "GATEHOUSE_SECRET_KEY=",
		"GATEHOUSE_PUBLIC_URL="+r.base), r.env...)
	var stderr strings.Builder
	r.cmd.Stderr = &stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(r.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			r.kill()
			t.Fatalf("server %s did not start: %s", r.name, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restart kills the process (SIGKILL: nothing is saved on the way out) and starts a new one.
func (r *replica) restart() {
	r.t.Helper()
	r.kill()
	r.start()
}

func (r *replica) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// replicaBrowser is one person's replicaBrowser: one cookie jar for both servers (cookies do not tell ports
// apart, as behind a load balancer they would share a host), same-origin form posts, redirects
// not followed.
type replicaBrowser struct {
	t  *testing.T
	hc *http.Client
}

func newReplicaBrowser(t *testing.T) *replicaBrowser {
	jar, _ := cookiejar.New(nil)
	return &replicaBrowser{t: t, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       20 * time.Second,
	}}
}

// get returns the page at path on r, and where it redirects ("" if it does not).
func (b *replicaBrowser) get(r *replica, path string) (body, location string) {
	b.t.Helper()
	res, err := b.hc.Get(r.base + path)
	if err != nil {
		b.t.Fatalf("GET %s on %s: %v", path, r.name, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return string(data), res.Header.Get("Location")
}

// post sends a form to r and returns the answer and where it redirects.
func (b *replicaBrowser) post(r *replica, path string, form url.Values) (body, location string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", r.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s on %s: %v", path, r.name, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return string(data), res.Header.Get("Location")
}

// wantRedirect posts and fails the test unless the answer redirects to want.
func (b *replicaBrowser) wantRedirect(r *replica, path string, form url.Values, want string) {
	b.t.Helper()
	if body, loc := b.post(r, path, form); loc != want {
		b.t.Fatalf("POST %s on %s: redirect %q, want %q:\n%.600s", path, r.name, loc, want, body)
	}
}

var (
	replicaKey      = regexp.MustCompile(`id="totp-key">([A-Z2-7 ]+)<`)
	replicaCodes    = regexp.MustCompile(`<li><code>([0-9A-Z-]{19})</code></li>`)
	replicaAuthCode = regexp.MustCompile(`id="sms-auth-code">([0-9A-Z]{5}-[0-9A-Z]{5})<`)
	replicaSMSCode  = regexp.MustCompile(`\b(\d{6})\b`)
)

// sheet returns the recovery codes the recovery codes page on r shows, nil if it redirects.
func (b *replicaBrowser) sheet(r *replica) []string {
	b.t.Helper()
	body, loc := b.get(r, "/recovery-codes")
	if loc != "" {
		return nil
	}
	var codes []string
	for _, m := range replicaCodes.FindAllStringSubmatch(body, -1) {
		codes = append(codes, m[1])
	}
	return codes
}

// TestTwoServersOneDataDirectory pins issue 10's "state in the store": two `gatehouse serve`
// processes on one data directory behave as one, and either restarted between any two steps
// loses nothing the person was shown. An app setup begun on A shows the same key on B and is
// confirmed there; the recovery codes are on both, and on each after a restart, until "I have
// saved these codes". An SMS setup begun on A receives its text at B while the page polls A;
// a login code sent from B shows as sent ("Send again") on A, and on A restarted.
func TestTwoServersOneDataDirectory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs SIGKILL")
	}
	t.Parallel()
	dir, key := backendtest.DataDir(t)
	withSystem(t, dir, key, func(_ *sqlite.DB, svc *backend.Service) {
		ctx := context.Background()
		if _, err := svc.CreateFirstAdmin(ctx, backend.NewUser{Username: "root", Password: crashPassword}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"ann", "sam"} {
			nu := backend.NewUser{Username: name, Password: crashPassword, RequireTwoFactor: true}
			if _, err := svc.CreateUser(ctx, svc.Operator(), nu); err != nil {
				t.Fatal(err)
			}
		}
	})
	twilio := smstest.NewServer()
	t.Cleanup(twilio.Close)
	smsEnv := []string{"TWILIO_ACCOUNT_SID=" + twilio.AccountSID, "TWILIO_AUTH_TOKEN=" + twilio.AuthToken,
		"GATEHOUSE_SMS_FROM=" + smstest.PhoneNumber, "GATEHOUSE_TWILIO_API_URL=" + twilio.URL,
		"TWILIO_MESSAGING_SERVICE_SID=", "GATEHOUSE_SMS_REGION="}
	a := startReplica(t, "A", dir, smsEnv)
	b := startReplica(t, "B", dir, smsEnv)
	login := url.Values{"password": {crashPassword}}

	t.Run("app", func(t *testing.T) {
		ann := newReplicaBrowser(t)
		login.Set("username", "ann")
		ann.wantRedirect(a, "/login", login, "/login/enroll")
		ann.wantRedirect(a, "/login/enroll/app", nil, "/login/enroll/app")
		pageA, _ := ann.get(a, "/login/enroll/app")
		pageB, _ := ann.get(b, "/login/enroll/app")
		keyA, keyB := replicaKey.FindStringSubmatch(pageA), replicaKey.FindStringSubmatch(pageB)
		if keyA == nil || keyB == nil || keyA[1] != keyB[1] {
			t.Fatalf("the key on A %q, on B %q; want the same", keyA, keyB)
		}
		a.restart()
		code := backendtest.TOTP(t, strings.ReplaceAll(keyB[1], " ", ""), time.Now())
		ann.wantRedirect(b, "/login/enroll/app/confirm", url.Values{"code": {code}}, "/recovery-codes")
		codes := ann.sheet(b)
		if len(codes) != backend.RecoveryCodeCount {
			t.Fatalf("B shows %d recovery codes, want %d", len(codes), backend.RecoveryCodeCount)
		}
		if got := ann.sheet(a); !slices.Equal(got, codes) {
			t.Errorf("A shows the recovery codes %v, want B's %v", got, codes)
		}
		b.restart()
		if got := ann.sheet(b); !slices.Equal(got, codes) {
			t.Errorf("B restarted shows %v, want %v", got, codes)
		}
		file, _ := ann.post(a, "/recovery-codes/download", nil)
		for _, c := range codes {
			if !strings.Contains(file, c) {
				t.Errorf("the file downloaded from A lacks %s", c)
			}
		}
		ann.wantRedirect(a, "/recovery-codes/done", nil, "/profile")
		if got := ann.sheet(b); got != nil {
			t.Errorf("acknowledged on A, B still shows %v", got)
		}
		if body, loc := ann.get(b, "/profile"); loc != "" || !strings.Contains(body, "Enabled") {
			t.Errorf("B's profile: redirect %q; want the signed-in profile, Two-Factor Enabled", loc)
		}
	})

	t.Run("sms", func(t *testing.T) {
		const phone = "+16502530077"
		sam := newReplicaBrowser(t)
		login.Set("username", "sam")
		sam.wantRedirect(a, "/login", login, "/login/enroll")
		sam.wantRedirect(a, "/login/enroll/sms", nil, "/login/enroll/sms")
		page, _ := sam.get(a, "/login/enroll/sms")
		m := replicaAuthCode.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no Authorization Code on A's page:\n%.800s", page)
		}
		status, _ := sam.get(a, "/login/enroll/sms/status")
		if !strings.Contains(status, `"state":"waiting"`) {
			t.Fatalf("A's status before the text: %s", status)
		}
		// Twilio delivers the text to B; the page polls A.
		code, body, err := twilio.SendInbound(b.base+sms.WebhookPath, smstest.Inbound{From: phone, Body: m[1]})
		if err != nil || code != http.StatusOK {
			t.Fatalf("inbound text to B: %d %s %v", code, body, err)
		}
		if status, _ := sam.get(a, "/login/enroll/sms/status"); !strings.Contains(status, `"state":"received"`) {
			t.Fatalf("A's status after the text reached B: %s", status)
		}
		a.restart()
		sam.wantRedirect(a, "/login/enroll/sms/confirm", nil, "/recovery-codes")
		codes := sam.sheet(a)
		if len(codes) != backend.RecoveryCodeCount || !slices.Equal(sam.sheet(b), codes) {
			t.Fatalf("recovery codes on A %v, on B %v; want the same 5", codes, sam.sheet(b))
		}
		sam.wantRedirect(b, "/recovery-codes/done", nil, "/profile")
		sam.wantRedirect(b, "/logout", nil, "/login")

		// A login code sent from B shows as sent on A, and on A restarted.
		sam.wantRedirect(b, "/login", login, "/login/verify")
		if page, _ := sam.get(a, "/login/verify"); !strings.Contains(page, ">Send code<") {
			t.Fatalf("A's verify page before a code was sent:\n%.800s", page)
		}
		sam.wantRedirect(b, "/login/verify/sms/send", nil, "/login/verify")
		for range 2 {
			page, _ := sam.get(a, "/login/verify")
			for _, want := range []string{"A code was sent to +1 ••• ••• ••77", "Send again", "You can ask for another code in"} {
				if !strings.Contains(page, want) {
					t.Fatalf("A's verify page lacks %q:\n%.1500s", want, page)
				}
			}
			a.restart()
		}
		msgs := twilio.Messages()
		if len(msgs) == 0 {
			t.Fatal("no text sent")
		}
		sms := replicaSMSCode.FindStringSubmatch(msgs[len(msgs)-1].Body)
		if sms == nil {
			t.Fatalf("no code in %q", msgs[len(msgs)-1].Body)
		}
		sam.wantRedirect(a, "/login/verify/sms", url.Values{"code": {sms[1]}}, "/")
	})
}
