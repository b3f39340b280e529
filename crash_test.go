package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"gatehouse/backend"
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
	dir := t.TempDir()
	key := make([]byte, backend.SecretKeySize)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
					code := crashTOTP(t, strings.ReplaceAll(m[1], " ", ""), time.Now())
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
					if loc, err := c.post("/login/recovery", url.Values{"code": {code}}); err == nil && loc == "/profile?notice=recovery" {
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

// withSystem opens the data directory's store and a Service over it (cheap argon2 for new
// hashes), runs f, and closes them.
func withSystem(t *testing.T, dir string, key []byte, f func(*sqlite.DB, *backend.Service)) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer db.Close()
	svc, err := backend.New(backend.Config{
		Store: db, SecretKey: key, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Passwords: backend.PasswordPolicy{Argon2: backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f(db, svc)
}

// enrollViaService enrolls the user's authenticator app and returns the recovery codes.
func enrollViaService(t *testing.T, svc *backend.Service, name string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := svc.Login(ctx, name, crashPassword)
	if err != nil {
		t.Fatal(err)
	}
	id, err := svc.Authenticate(ctx, st.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ConfirmPassword(ctx, id, crashPassword); err != nil {
		t.Fatal(err)
	}
	en, err := svc.BeginAppEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.ConfirmAppEnrollment(ctx, id, crashTOTP(t, strings.ReplaceAll(en.Key, " ", ""), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return res.RecoveryCodes
}

func crashTOTP(t *testing.T, key string, at time.Time) string {
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key); err != nil {
		t.Errorf("key %q: %v", key, err)
	}
	c, _ := totp.GenerateCodeCustom(key, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return c
}

var listening = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// startServe starts the server on dir as a child process and returns its address once it
// answers /healthz.
func startServe(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), serveEnv+"="+dir, "GATEHOUSE_SECRET_KEY=")
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
