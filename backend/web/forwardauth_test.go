package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/browsertest"
	"gatehouse/backend/web"
)

// proxySite is Gatehouse behind a real reverse proxy on loopback, over https:
// https://auth.example.test:PORT is Gatehouse (cookie domain example.test), and
// https://app.example.test:PORT a test application that echoes the Remote-* headers it gets,
// protected by forward-auth.
type proxySite struct {
	t      *testing.T
	svc    *backend.Service
	port   string
	auth   string // https://auth.example.test:PORT
	app    string // https://app.example.test:PORT
	certPE []byte
}

// startGatehouse serves Gatehouse (real handler tree, session cache running) on loopback
// for a proxy on port, and the echoing application; it returns the site and the two
// backends' addresses.
func startGatehouse(t *testing.T, port string) (*proxySite, string, string) {
	t.Helper()
	s := &proxySite{t: t, port: port, auth: "https://auth.example.test:" + port, app: "https://app.example.test:" + port}
	h := backendtest.New(t, backendtest.WithRealClock(), backendtest.WithConfig(func(c *backend.Config) { c.PublicURL = s.auth }))
	s.svc = h.Service
	srv, err := web.NewServer(web.Config{Service: h.Service, Logger: h.Logger, PublicURL: s.auth, CookieDomain: "example.test",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	gh := httptest.NewServer(srv)
	t.Cleanup(gh.Close)
	t.Cleanup(h.Service.StartSessionCache())

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "app page %s\n", r.URL.RequestURI())
		for _, k := range []string{"Remote-User", "Remote-Name", "Remote-Email", "Remote-Two-Factor"} {
			fmt.Fprintf(w, "%s=%q\n", k, r.Header.Values(k))
		}
	}))
	t.Cleanup(app.Close)
	backendtest.CreateUser(t, h.Service, h.Service.Operator(), backend.NewUser{Username: "bob", DisplayName: "Bob Builder",
		Email: "bob@example.test", Password: "bob's long password"})
	if _, _, err := h.Service.CreateApp(backend.WithClient(context.Background(), backend.Client{IP: "127.0.0.1"}), h.Service.Operator(),
		backend.NewApp{Name: "Echo", Domains: []string{"app.example.test"}}); err != nil {
		t.Fatal(err)
	}
	return s, strings.TrimPrefix(gh.URL, "http://"), strings.TrimPrefix(app.URL, "http://")
}

// writeCert writes a self-signed certificate for *.example.test into dir.
func (s *proxySite) writeCert(dir string) (cert, key string) {
	s.t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example.test"},
		DNSNames: []string{"example.test", "*.example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		s.t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	s.certPE = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, s.certPE, 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// client is a browser without JavaScript: every *.example.test name goes to the proxy, which
// it trusts; redirects are not followed, so each answer can be checked.
func (s *proxySite) client() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.certPE)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+s.port)
			}}}
}

func (s *proxySite) get(c *http.Client, u string, header ...string) (*http.Response, string) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// waitFor waits until the proxy answers on its port.
func waitFor(t *testing.T, port string, logFile string) {
	t.Helper()
	for range 100 {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("the proxy did not listen on %s:\n%s", port, b)
}

// start runs a proxy command until the test ends.
func start(t *testing.T, logFile string, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (build/test.sh installs it): %v", name, err)
	}
	out, _ := os.Create(logFile)
	cmd := exec.Command(path, args...)
	// A HOME of its own beside its log (caddy writes its autosave there): never the test
	// binary's own, which later tests use for their caches.
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(logFile))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); out.Close() })
}

func freePort(t *testing.T) string {
	_, port, _ := net.SplitHostPort(browsertest.FreeAddr(t))
	return port
}

// nginxConfig is the README's nginx snippet, with the test's addresses: auth_request to
// /auth/nginx, the Remote-* headers set from its answer (which also replaces any the client
// sent), and its 401 turned into the redirect it names.
const nginxConfig = `
pid {{DIR}}/nginx.pid;
error_log {{DIR}}/error.log info;
events {}
http {
	access_log off;
	client_body_temp_path {{DIR}}/body; proxy_temp_path {{DIR}}/proxy; fastcgi_temp_path {{DIR}}/fcgi;
	uwsgi_temp_path {{DIR}}/uwsgi; scgi_temp_path {{DIR}}/scgi;
	ssl_certificate {{CERT}}; ssl_certificate_key {{KEY}};

	server {
		listen 127.0.0.1:{{PORT}} ssl;
		server_name auth.example.test;
		location / {
			proxy_pass http://{{GATEHOUSE}};
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $remote_addr;
		}
	}

	server {
		listen 127.0.0.1:{{PORT}} ssl;
		server_name app.example.test;

		location = /_gatehouse {
			internal;
			proxy_pass http://{{GATEHOUSE}}/auth/nginx;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
			proxy_set_header X-Forwarded-For $remote_addr;
		}

		location / {
			auth_request /_gatehouse;
			auth_request_set $gatehouse_user $upstream_http_remote_user;
			auth_request_set $gatehouse_name $upstream_http_remote_name;
			auth_request_set $gatehouse_email $upstream_http_remote_email;
			auth_request_set $gatehouse_2fa $upstream_http_remote_two_factor;
			auth_request_set $gatehouse_login $upstream_http_location;
			proxy_set_header Remote-User $gatehouse_user;
			proxy_set_header Remote-Name $gatehouse_name;
			proxy_set_header Remote-Email $gatehouse_email;
			proxy_set_header Remote-Two-Factor $gatehouse_2fa;
			error_page 401 =302 $gatehouse_login;
			proxy_pass http://{{APP}};
		}
	}
}
`

// caddyConfig is the README's Caddyfile, with the test's addresses: forward_auth to
// /auth/forward, copying the Remote-* headers onto the request; the headers of those names
// the client sent are removed first.
const caddyConfig = `{
	admin off
	auto_https disable_redirects
	storage file_system {{DIR}}/data
}
https://auth.example.test:{{PORT}} {
	tls {{CERT}} {{KEY}}
	reverse_proxy {{GATEHOUSE}}
}
https://app.example.test:{{PORT}} {
	tls {{CERT}} {{KEY}}
	# route: in this order (Caddy would run request_header after forward_auth).
	route {
		request_header -Remote-*
		forward_auth {{GATEHOUSE}} {
			uri /auth/forward
			header_up Host {upstream_hostport}
			copy_headers Remote-User Remote-Name Remote-Email Remote-Two-Factor
		}
		reverse_proxy {{APP}}
	}
}
`

func fill(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, "{{"+k+"}}", v)
	}
	return tmpl
}

// TestNginxAuthRequest and TestCaddyForwardAuth: Gatehouse protects an application behind a
// real proxy (Debian's nginx, auth_request; Debian's caddy, forward_auth).
func TestNginxAuthRequest(t *testing.T) {
	port := freePort(t)
	s, gh, app := startGatehouse(t, port)
	dir := t.TempDir()
	cert, key := s.writeCert(dir)
	conf := filepath.Join(dir, "nginx.conf")
	os.WriteFile(conf, []byte(fill(nginxConfig, map[string]string{"DIR": dir, "CERT": cert, "KEY": key, "PORT": port, "GATEHOUSE": gh, "APP": app})), 0o644)
	start(t, filepath.Join(dir, "out.log"), "nginx", "-p", dir, "-c", conf, "-g", "daemon off; master_process off;")
	waitFor(t, port, filepath.Join(dir, "error.log"))
	s.protects(t)
}

func TestCaddyForwardAuth(t *testing.T) {
	port := freePort(t)
	s, gh, app := startGatehouse(t, port)
	dir := t.TempDir()
	cert, key := s.writeCert(dir)
	conf := filepath.Join(dir, "Caddyfile")
	os.WriteFile(conf, []byte(fill(caddyConfig, map[string]string{"DIR": dir, "CERT": cert, "KEY": key, "PORT": port, "GATEHOUSE": gh, "APP": app})), 0o644)
	start(t, filepath.Join(dir, "out.log"), "caddy", "run", "--adapter", "caddyfile", "--config", conf)
	waitFor(t, port, filepath.Join(dir, "out.log"))
	s.protects(t)
}

// protects walks the flow through the proxy: anonymous → the Gatehouse login → back at the
// page; the application sees Remote-User, never one the client forged; disabled → the very
// next request is refused. Then the login page as reached through the proxy, in Chromium.
func (s *proxySite) protects(t *testing.T) {
	c := s.client()
	page := s.app + "/docs/page?x=1&y=2"
	res, _ := s.get(c, page, "Remote-User", "admin")
	login := res.Header.Get("Location")
	want := s.auth + "/login?rd=" + url.QueryEscape(page)
	if res.StatusCode != http.StatusFound || login != want {
		t.Fatalf("anonymous GET %s: got %d to %q, want 302 to %q", page, res.StatusCode, login, want)
	}
	res, body := s.get(c, login)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `name="rd" value="`+strings.ReplaceAll(page, "&", "&amp;")+`"`) {
		t.Fatalf("login page: %d, want 200 with the page in the form:\n%s", res.StatusCode, body)
	}
	form := url.Values{"username": {"bob"}, "password": {"bob's long password"}, "rd": {page}}
	req, _ := http.NewRequest("POST", s.auth+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.auth)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var sessionCookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "__Secure-gatehouse_session" {
			sessionCookie = ck
		}
	}
	if res.StatusCode != http.StatusSeeOther || sessionCookie == nil || sessionCookie.Domain != "example.test" || !sessionCookie.Secure || !sessionCookie.HttpOnly {
		t.Fatalf("POST /login: %d, cookies %v; want 303 and __Secure-gatehouse_session for Domain=example.test, Secure, HttpOnly", res.StatusCode, res.Cookies())
	}
	res, _ = s.get(c, s.auth+res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("after the login: %d to %q, want 303 back to %q", res.StatusCode, res.Header.Get("Location"), page)
	}
	res, body = s.get(c, page, "Remote-User", "admin", "Remote-Email", "admin@example.test")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `Remote-User=["bob"]`) || !strings.Contains(body, `Remote-Email=["bob@example.test"]`) ||
		!strings.Contains(body, `Remote-Name=["Bob Builder"]`) || !strings.Contains(body, `Remote-Two-Factor=["no"]`) || !strings.Contains(body, "app page /docs/page?x=1&y=2") {
		t.Fatalf("signed in, with forged headers: %d\n%s\nwant the page with bob's headers only", res.StatusCode, body)
	}
	// Back at the login page while signed in: straight back to the page.
	if res, _ := s.get(c, login); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("login page, signed in: %d to %q, want back to the page", res.StatusCode, res.Header.Get("Location"))
	}

	// An administrator disables bob: the very next request is refused.
	bob, err := s.svc.UserByUsername(context.Background(), s.svc.Operator(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := s.svc.UpdateUser(context.Background(), s.svc.Operator(), bob.ID, backend.UserChanges{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if res, body := s.get(c, page); res.StatusCode != http.StatusFound || strings.Contains(body, "app page") {
		t.Fatalf("after bob was disabled: %d\n%s\nwant 302 to the login", res.StatusCode, body)
	}
	// The forward-auth check itself answers only the trusted proxy.
	if res, body := s.get(c, s.auth+web.ForwardAuthPath, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example.test", "X-Forwarded-Uri", "/"); res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusFound {
		t.Logf("the check through the public site: %d %s", res.StatusCode, body)
	}

	// The login page as reached through the proxy, in Chromium.
	ctx := browsertest.Start(t, chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"), chromedp.Flag("ignore-certificate-errors", true))
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible("#f-username")); err != nil {
		t.Fatalf("Chromium at %s: %v", page, err)
	}
	u, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href"))
	if err != nil || !strings.HasPrefix(u, s.auth+"/login?rd=") {
		t.Fatalf("Chromium at %s: landed on %q, %v; want the Gatehouse login", page, u, err)
	}
	browsertest.Shoot(t, ctx, browsertest.ShotsDir(), "forwardauth-login-"+t.Name(), nil, browsertest.Desktop, browsertest.Phone)
}

// TestForwardAuthUntrustedPeer: from a peer outside --trusted-proxies the check refuses the
// headers that name the page, with a clear 400.
func TestForwardAuthUntrustedPeer(t *testing.T) {
	h := backendtest.New(t)
	srv, err := web.NewServer(web.Config{Service: h.Service, Logger: h.Logger, PublicURL: "https://login.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{web.ForwardAuthPath, web.NginxAuthPath} {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr, req.Host = "203.0.113.9:5000", "login.example.com"
		req.Header.Set("X-Original-URL", "https://app.example.com/")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "app.example.com")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "--trusted-proxies") || rec.Header().Get(web.HeaderRemoteUser) != "" {
			t.Errorf("GET %s from an untrusted peer: %d %q, want 400 naming --trusted-proxies", path, rec.Code, rec.Body.String())
		}
	}
}

// TestCookieDomainNeedsHTTPS: the startup errors of --cookie-domain.
func TestCookieDomainNeedsHTTPS(t *testing.T) {
	for _, tc := range []struct{ domain, public, want string }{
		{"example.com", "http://login.example.com", "needs an https --public-url"},
		{"example.com", "", "needs an https --public-url"},
		{"example.com", "https://login.other.com", "does not contain the public URL's host login.other.com"},
		{"com", "https://login.example.com", "is not a domain"},
		{"example.com", "https://login.example.com", ""},
		{"example.com", "https://example.com", ""},
		{"", "http://anything", ""},
	} {
		err := web.CheckCookieDomain(tc.domain, tc.public)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckCookieDomain(%q, %q) = %v, want %q", tc.domain, tc.public, err, tc.want)
		}
	}
}
