package web

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// env is a running System: a real SQLite file, the real Service and the real handler tree
// (backendtest's set-up); with withSMS, a fake Twilio (smstest) behind the real gateway and
// webhook.
type env struct {
	t      *testing.T
	h      *backendtest.Env
	clock  *fakeclock.Clock
	svc    *backend.Service
	srv    *Server
	ts     *httptest.Server
	logs   *backendtest.Logs
	twilio *smstest.Server // withSMS: where texts go
	smsCfg sms.Config      // withSMS: the configuration the gateway and webhook use
	setup  *envSetup       // what start builds from
	stop   func()          // stops svc's session cache
}

// envSetup is what options change before the System starts.
type envSetup struct {
	web     Config
	tls     bool
	sms     bool
	sandbox bool
	store   *backendtest.StoreKind // nil: the default store (GATEHOUSE_TEST_STORE)
	keys    bool
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
	setup := &envSetup{web: Config{Addr: "127.0.0.1:0"}}
	for _, o := range opts {
		o(setup)
	}
	e := &env{t: t, setup: setup}
	if setup.tls {
		e.ts = httptest.NewUnstartedServer(nil)
		e.ts.StartTLS()
		setup.web.PublicURL = e.ts.URL
	} else {
		e.ts = httptest.NewServer(nil)
	}
	t.Cleanup(e.ts.Close)
	var sys []backendtest.Option
	if setup.keys {
		// WebAuthn needs a name for the relying party: an IP is none (DESIGN.md), localhost is.
		e.ts.URL = strings.Replace(e.ts.URL, "127.0.0.1", "localhost", 1)
		setup.web.PublicURL = e.ts.URL
		sys = append(sys, backendtest.WithConfig(func(c *backend.Config) { c.PublicURL = e.ts.URL }))
	}
	if setup.sms {
		sys = append(sys, backendtest.WithSMS(e.ts.URL))
	}
	if setup.store != nil {
		sys = append(sys, backendtest.WithStore(*setup.store))
	}
	e.h = backendtest.New(t, sys...)
	e.clock, e.logs, e.twilio, e.smsCfg = e.h.Clock, e.h.Logs, e.h.Twilio, e.h.SMS
	if setup.web.Logger == nil {
		setup.web.Logger = e.h.Logger
	}
	e.serve(e.h.Service)
	return e
}

// serve serves a new Server over svc at e.ts, as a server process starting does.
func (e *env) serve(svc *backend.Service) {
	t := e.t
	t.Helper()
	// The session cache runs, as under Run: pages are checked as a server checks them.
	if e.stop != nil {
		e.stop()
	}
	e.stop = svc.StartSessionCache()
	t.Cleanup(e.stop)
	e.svc = svc
	cfg := e.setup.web
	cfg.Service = svc
	if e.setup.sms {
		cfg.SMSWebhook, cfg.SMSWebhookPath, cfg.PublicURL = e.h.Webhook(svc), sms.WebhookPath, e.ts.URL
		if e.setup.sandbox {
			cfg.SMSSandbox = smstest.Sandbox[SandboxMessage]{Server: e.twilio}
		}
	}
	var err error
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
	e.serve(e.h.Reopen())
}

// user creates an account with the password "correct horse battery".
func (e *env) user(username string, role backend.Role, require bool) *backend.User {
	e.t.Helper()
	return backendtest.CreateUser(e.t, e.svc, e.svc.Operator(), backend.NewUser{
		Username: username, DisplayName: strings.ToUpper(username[:1]) + username[1:] + " Example",
		Email: username + "@example.com", Password: testPassword, Role: role, RequireTwoFactor: require,
	})
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
	return e.h.Code(key)
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
