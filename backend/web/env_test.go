package web

import (
	"bytes"
	"context"
	"gatehouse/backend/fakeclock"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"gatehouse/backend"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/sqlite"
)

// env is a running System: a real SQLite file, the real Service and the real handler tree; with
// withSMS, a fake Twilio (smstest) behind the real gateway and webhook.
type env struct {
	t      *testing.T
	clock  *fakeclock.Clock
	svc    *backend.Service
	srv    *Server
	ts     *httptest.Server
	logs   *syncBuffer
	twilio *smstest.Server // withSMS: where texts go
	smsCfg sms.Config      // withSMS: the configuration the gateway and webhook use
	setup  *envSetup       // what start builds from
	path   string          // the database file
}

// syncBuffer collects the server's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// envSetup is what options change before the System starts.
type envSetup struct {
	web     Config
	tls     bool
	sms     bool
	sandbox bool
}

type envOption func(*envSetup)

// withTLS serves over HTTPS (httptest's certificate), with PublicURL set to the https address.
func withTLS(s *envSetup) { s.tls = true }

// withSMS turns SMS on: the real Twilio gateway sends to a fake Twilio, and the real webhook,
// configured with the test server's URL as the public URL, takes inbound texts.
func withSMS(s *envSetup) { s.sms = true }

// withSandbox is withSMS and the SMS sandbox page, as `serve --sms-sandbox` runs.
func withSandbox(s *envSetup) { s.sms, s.sandbox = true, true }

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	setup := &envSetup{web: Config{Logger: logger, Addr: "127.0.0.1:0"}}
	for _, o := range opts {
		o(setup)
	}
	e := &env{t: t, clock: clk, logs: logs, setup: setup, path: filepath.Join(t.TempDir(), "gatehouse.db")}
	if setup.tls {
		e.ts = httptest.NewUnstartedServer(nil)
		e.ts.StartTLS()
		setup.web.PublicURL = e.ts.URL
	} else {
		e.ts = httptest.NewServer(nil)
	}
	t.Cleanup(e.ts.Close)
	if setup.sms {
		e.twilio = smstest.NewServer()
		t.Cleanup(e.twilio.Close)
		e.smsCfg = sms.Config{AccountSID: e.twilio.AccountSID, AuthToken: e.twilio.AuthToken, From: smstest.PhoneNumber,
			PublicURL: e.ts.URL, APIURL: e.twilio.URL}
	}
	e.start()
	return e
}

// start opens the database file and serves a new Service and Server over it at e.ts, as a
// server process starting on the data directory does.
func (e *env) start() {
	t := e.t
	t.Helper()
	db, err := sqlite.Open(e.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = e.clock.Now
	cfg, logger := e.setup.web, e.setup.web.Logger
	bcfg := backend.Config{
		Store: db, SecretKey: bytes.Repeat([]byte{7}, backend.SecretKeySize), Now: e.clock.Now, Logger: logger,
		Passwords: backend.PasswordPolicy{Argon2: backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}},
	}
	if e.setup.sms {
		gw, err := sms.NewGateway(e.smsCfg)
		if err != nil {
			t.Fatal(err)
		}
		bcfg.SMS = e.smsCfg.Backend(gw)
	}
	if e.svc, err = backend.New(bcfg); err != nil {
		t.Fatal(err)
	}
	cfg.Service = e.svc
	if e.setup.sms {
		wh, err := sms.NewWebhook(e.smsCfg, e.svc, logger)
		if err != nil {
			t.Fatal(err)
		}
		cfg.SMSWebhook, cfg.SMSWebhookPath, cfg.PublicURL = wh, sms.WebhookPath, e.ts.URL
		if e.setup.sandbox {
			cfg.SMSSandbox = sandboxOf(e.twilio)
		}
	}
	if e.srv, err = NewServer(cfg); err != nil {
		t.Fatal(err)
	}
	e.srv.now = e.clock.Now
	e.ts.Config.Handler = e.srv
}

// restart replaces the running Service and Server by new ones over the same database file, at
// the same address: whatever the old ones kept in memory is gone, as after a restart.
func (e *env) restart() {
	e.t.Helper()
	e.start()
}

// user creates an account with the password "correct horse battery".
func (e *env) user(username string, role backend.Role, require bool) *backend.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), e.svc.Operator(), backend.NewUser{
		Username: username, DisplayName: strings.ToUpper(username[:1]) + username[1:] + " Example",
		Email: username + "@example.com", Password: testPassword, Role: role, RequireTwoFactor: require,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

const testPassword = "correct horse battery"

// client is a browser without JavaScript: a cookie jar, same-origin form posts, and redirects
// not followed, so each step's answer can be checked.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{
		Transport:     e.ts.Client().Transport, // trusts the test server's certificate
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &client{e: e, http: hc}
}

// response is an answer, read.
type response struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) *response {
	c.e.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{res, string(b)}
}

func (c *client) get(path string) *response {
	c.e.t.Helper()
	req, _ := http.NewRequest("GET", c.e.ts.URL+path, nil)
	return c.do(req)
}

// post sends a form as a same-origin page of the System would.
func (c *client) post(path string, form url.Values) *response {
	c.e.t.Helper()
	req, _ := http.NewRequest("POST", c.e.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

// follow fetches where a redirect points, until a page.
func (c *client) follow(r *response) *response {
	c.e.t.Helper()
	for i := 0; i < 10 && r.StatusCode >= 300 && r.StatusCode < 400; i++ {
		r = c.get(r.Header.Get("Location"))
	}
	return r
}

func (r *response) wantStatus(t *testing.T, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, excerpt(r.body))
	}
}

func (r *response) wantRedirect(t *testing.T, to string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != to {
		t.Fatalf("%s %s: got %d to %q, want 303 to %q; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Header.Get("Location"), to, excerpt(r.body))
	}
}

func (r *response) wantBody(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(r.body, s) {
			t.Fatalf("%s %s: page lacks %q:\n%s", r.Request.Method, r.Request.URL.Path, s, excerpt(r.body))
		}
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

// login takes the password step.
func (c *client) login(username, password string) *response {
	return c.post("/login", url.Values{"username": {username}, "password": {password}})
}

// signIn logs a user without two-factor in.
func (c *client) signIn(username string) {
	c.e.t.Helper()
	c.login(username, testPassword).wantRedirect(c.e.t, "/")
}

var keyPattern = regexp.MustCompile(`id="totp-key">([A-Z2-7 ]+)<`)

// appKey reads the key shown for manual entry on the "Use an App" page.
func appKey(t *testing.T, page string) string {
	t.Helper()
	m := keyPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no key on the page:\n%s", excerpt(page))
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// code is the TOTP code of key at the clock's time, as an authenticator app computes it.
func (e *env) code(key string) string {
	e.t.Helper()
	c, err := totp.GenerateCodeCustom(key, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

var codePattern = regexp.MustCompile(`<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>`)

// recoveryCodes reads the codes on the recovery codes page.
func recoveryCodes(t *testing.T, page string) []string {
	t.Helper()
	var codes []string
	for _, m := range codePattern.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != backend.RecoveryCodeCount {
		t.Fatalf("got %d recovery codes on the page, want %d:\n%s", len(codes), backend.RecoveryCodeCount, excerpt(page))
	}
	return codes
}

// enrollFromProfile walks Setup Two-Factor -> Use an App for a signed-in client, and returns the
// key and the recovery codes. The clock moves past the step of the confirming code.
func (c *client) enrollFromProfile() (key string, codes []string) {
	t := c.e.t
	t.Helper()
	c.get("/profile").wantBody(t, "Setup Two-Factor")
	choice := c.get("/profile/two-factor")
	choice.wantBody(t, "Use an App", "Use SMS")
	var form url.Values
	if strings.Contains(choice.body, `name="current_password"`) { // the password again, with the choice
		form = url.Values{"current_password": {testPassword}}
	}
	r := c.post("/profile/two-factor/app", form)
	r.wantRedirect(t, "/profile/two-factor/app")
	page := c.follow(r)
	page.wantBody(t, "Install an authenticator app", "Scan the QR code", "Authentication code", "Enable Two-Factor", "data:image/png;base64,")
	key = appKey(t, page.body)
	// "Enable Two-Factor" with no code asks for it, and the QR code stays.
	blank := c.post("/profile/two-factor/app/confirm", url.Values{"code": {" "}})
	blank.wantStatus(t, http.StatusBadRequest)
	blank.wantBody(t, "Enter the 6-digit code from your app.", "Scan the QR code")
	c.post("/profile/two-factor/app/confirm", url.Values{"code": {c.e.code(key)}}).wantRedirect(t, "/recovery-codes")
	sheet := c.get("/recovery-codes")
	sheet.wantStatus(t, http.StatusOK)
	codes = recoveryCodes(t, sheet.body)
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	c.e.clock.Advance(30 * time.Second)
	return key, codes
}
