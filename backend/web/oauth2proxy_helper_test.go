package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauth2-proxy (github.com/oauth2-proxy/oauth2-proxy) is a real OpenID Connect relying party
// that nobody here wrote: the tests put it in front of a small app with Gatehouse as its issuer.
// This is the one place its version is named.
const (
	oauth2ProxyPackage = "github.com/oauth2-proxy/oauth2-proxy/v7"
	oauth2ProxyVersion = "v7.15.6"
)

// It is built from its own module with `go install pkg@version`, not pinned as a `tool` in
// go.mod. A tool joins the main module's graph: `go get -tool` of this release adds 56 modules to
// go.mod (grpc, prometheus, redis, viper, the Google API client …) and 110 lines to go.sum, and
// minimal version selection then builds Gatehouse itself with oauth2-proxy's choices (it raised
// golang-jwt/jwt, spf13/pflag and protobuf), and oauth2-proxy with Gatehouse's wherever those are
// newer (the OpenID Connect provider's go-jose and x/oauth2 are): neither as its authors tested
// it. `pkg@version` builds the release exactly as tagged, from the Go module proxy, and leaves
// go.mod alone.
var oauth2ProxyBuild struct {
	once sync.Once
	path string
	err  error
}

// oauth2ProxyBinary returns the path of the oauth2-proxy binary, building it on the first call
// of the test binary. It is installed into the user cache directory (beside build/test.sh's
// vulndb), in a folder named by the version, and `go install` decides itself whether what is
// there is current: a warm run takes seconds, a cold one (module download and compile) about
// three minutes, once per machine rather than once per run.
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	b := &oauth2ProxyBuild
	b.once.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			b.err = fmt.Errorf("no cache directory for oauth2-proxy: %w", err)
			return
		}
		gobin := filepath.Join(cache, "gatehouse", "oauth2-proxy-"+oauth2ProxyVersion)
		if err := os.MkdirAll(gobin, 0o755); err != nil {
			b.err = err
			return
		}
		goCmd, err := exec.LookPath("go")
		if err != nil {
			b.err = fmt.Errorf("building oauth2-proxy needs the go command: %w", err)
			return
		}
		start := time.Now()
		cmd := exec.Command(goCmd, "install", oauth2ProxyPackage+"@"+oauth2ProxyVersion)
		// Outside this module and any workspace: pkg@version uses oauth2-proxy's go.mod only.
		cmd.Dir = gobin
		cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOWORK=off", "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go install %s@%s: %v\n%s", oauth2ProxyPackage, oauth2ProxyVersion, err, out)
			return
		}
		b.path = filepath.Join(gobin, "oauth2-proxy")
		t.Logf("oauth2-proxy %s ready in %s (%s)", oauth2ProxyVersion, time.Since(start).Round(100*time.Millisecond), b.path)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// oauth2ProxyConfig is how one oauth2-proxy is set up: an OpenID Connect client of Issuer in
// front of Upstream.
type oauth2ProxyConfig struct {
	Addr                   string // HOST:PORT it listens on (freeLoopbackAddr): the redirect URI is known before it starts
	Issuer                 string // the issuer URL, exactly as discovery states it
	ClientID, ClientSecret string
	Upstream               string   // the app's URL
	Flags                  []string // more flags, after (and overriding) the usual ones
}

// oauth2ProxyRedirectURL is the callback oauth2-proxy at addr gives the issuer: register it with the app.
func oauth2ProxyRedirectURL(addr string) string { return "http://" + addr + "/oauth2/callback" }

// An oauth2Proxy is a running oauth2-proxy process.
type oauth2Proxy struct {
	URL string // http://Addr
	log *syncBuffer
}

// Log is what the process has written so far.
func (p *oauth2Proxy) Log() string { return p.log.String() }

// startOAuth2Proxy starts oauth2-proxy with cfg, waits until it answers and stops it when t
// ends; if t failed, its log is shown. The flags are those that worked against the spike
// issuer (notes/oidc-plan.md §2): PKCE S256, any email domain, cookies without Secure over
// plain http, and no "Sign in with …" button, so a visit goes straight to the issuer.
func startOAuth2Proxy(t *testing.T, cfg oauth2ProxyConfig) *oauth2Proxy {
	t.Helper()
	bin := oauth2ProxyBinary(t)
	secret := make([]byte, 32) // the cookie secret must decode to 16, 24 or 32 bytes
	rand.Read(secret)
	args := []string{
		"--http-address=" + cfg.Addr,
		"--provider=oidc",
		"--provider-display-name=Gatehouse",
		"--oidc-issuer-url=" + cfg.Issuer,
		"--client-id=" + cfg.ClientID,
		"--client-secret=" + cfg.ClientSecret,
		"--redirect-url=" + oauth2ProxyRedirectURL(cfg.Addr),
		"--upstream=" + cfg.Upstream,
		"--cookie-secret=" + base64.RawURLEncoding.EncodeToString(secret),
		"--cookie-secure=false",
		// Its own cookie name, so that proxies on one host do not take each other's cookies.
		"--cookie-name=_oauth2_proxy_" + strings.NewReplacer(".", "_", ":", "_").Replace(cfg.Addr),
		"--email-domain=*",
		"--skip-provider-button",
		"--code-challenge-method=S256",
		"--scope=openid email profile",
		"--pass-user-headers=true",
	}
	args = append(args, cfg.Flags...)
	p := &oauth2Proxy{URL: "http://" + cfg.Addr, log: &syncBuffer{}}
	cmd := exec.Command(bin, args...)
	// Only what it needs from the environment: no OAUTH2_PROXY_* variable of the caller's.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "OAUTH2_PROXY_") })
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("oauth2-proxy log:\n%s", p.Log())
		}
	})
	// /ping answers once it listens; it fetched the issuer's discovery document before that.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("oauth2-proxy exited before it answered: %v", err) // its log follows (Cleanup)
		case <-ctx.Done():
			t.Fatalf("oauth2-proxy did not answer at %s/ping within 30 s", p.URL)
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(p.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
	}
}

// freeLoopbackAddr returns HOST:PORT, a port of loopback address host (127.0.0.1, 127.0.0.2 …:
// Linux answers on all of 127.0.0.0/8) that was free a moment ago, for a server of another
// process. A proxy on a loopback address of its own is a host of its own to the browser, with
// its own cookies, as a company's apps and Gatehouse are.
func freeLoopbackAddr(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The headers oauth2-proxy gives the app it protects (--pass-user-headers).
var oauth2ProxyUserHeaders = []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username"}

// echoApp starts the app oauth2-proxy protects: a page, as plain text, that says which path
// was asked for and the user headers it received, one "Name: value" line each ("Name: " when
// absent), so a test reads in the browser who the app thinks is there.
func echoApp(t *testing.T) *httptest.Server {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Test app\nPath: %s\n", r.URL.Path)
		for _, h := range oauth2ProxyUserHeaders {
			fmt.Fprintf(w, "%s: %s\n", h, r.Header.Get(h))
		}
	}))
	t.Cleanup(app.Close)
	return app
}

// syncBuffer is a bytes.Buffer that a process's output and the test may use at once.
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
