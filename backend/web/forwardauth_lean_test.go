package web

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// TestForwardAuthLeanPath pins what the forward-auth check's own path (forwardFirst) keeps and
// drops: the answers are the check's, with no page headers and no request-log line at info
// level; another method, a Host that is not the server's, and a panic get the answers they
// had through the page middleware.
func TestForwardAuthLeanPath(t *testing.T) {
	ctx := context.Background()
	h := backendtest.New(t, backendtest.WithRealClock(), backendtest.WithConfig(func(c *backend.Config) { c.PublicURL = "https://login.example.com" }))
	svc := h.Service
	if _, _, err := svc.CreateApp(ctx, svc.Operator(), backend.NewApp{Name: "Wiki", Domains: []string{"wiki.example.com"}}); err != nil {
		t.Fatal(err)
	}
	backendtest.CreateUser(t, svc, svc.Operator(), backend.NewUser{Username: "reader", Password: testPassword})
	st, err := svc.Login(ctx, "reader", testPassword)
	if err != nil || st.Step != backend.StepDone {
		t.Fatalf("login: %v", err)
	}
	s, err := NewServer(Config{Service: svc, Logger: h.Logger, PublicURL: "https://login.example.com",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, host string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		if host != "" {
			req.Host = host
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	cookie := []string{"Cookie", s.sessionCk + "=" + st.SessionToken}

	for _, method := range []string{"GET", "HEAD"} {
		res := do(method, NginxAuthPath, "", cookie[0], cookie[1], "X-Original-URL", "https://wiki.example.com/page")
		if res.StatusCode != http.StatusOK || res.Header.Get(HeaderRemoteUser) != "reader" || res.Header.Get(HeaderRemoteTwoFactor) != "no" {
			t.Fatalf("%s %s signed in: %d, Remote-User %q; want 200 for reader", method, NginxAuthPath, res.StatusCode, res.Header.Get(HeaderRemoteUser))
		}
		if csp := res.Header.Get("Content-Security-Policy"); csp != "" || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s %s: page headers on a proxy's answer (CSP %q, Set-Cookie %q)", method, NginxAuthPath, csp, res.Header.Get("Set-Cookie"))
		}
	}
	res := do("GET", ForwardAuthPath, "", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "wiki.example.com", "X-Forwarded-Uri", "/a?b=c")
	if want := "https://login.example.com/login?rd=https%3A%2F%2Fwiki.example.com%2Fa%3Fb%3Dc"; res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
		t.Errorf("anonymous %s: %d to %q, want 302 to %q", ForwardAuthPath, res.StatusCode, res.Header.Get("Location"), want)
	}
	logs := h.Logs.String()
	if !strings.Contains(logs, "level=DEBUG msg=request method=GET path=/auth/nginx status=200") || strings.Contains(logs, "level=INFO msg=request method=GET path=/auth/") {
		t.Errorf("the checks' log lines: want them at debug level only:\n%s", logs)
	}

	// The pages' answers: another method, a Host not the server's (DNS rebinding).
	if res := do("POST", NginxAuthPath, ""); res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("POST %s: %d, want the pages' 404 (Page not found)", NginxAuthPath, res.StatusCode)
	}
	if res := do("GET", NginxAuthPath, "evil.example", cookie[0], cookie[1], "X-Original-URL", "https://wiki.example.com/page"); res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("GET %s with Host evil.example: %d, want 421", NginxAuthPath, res.StatusCode)
	}

	// A panic in the check is a logged 500, and the server goes on.
	s.svc = nil // ForwardAuth on no Service panics
	res = do("GET", NginxAuthPath, "", cookie[0], cookie[1], "X-Original-URL", "https://wiki.example.com/page")
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(h.Logs.String(), "panic in handler") {
		t.Errorf("a panicking check: %d, want a logged 500", res.StatusCode)
	}
}

// TestLoopbackNameIsLoopbackHosts: ownHost's allocation-free loopbackName says exactly what
// the list it replaces on the Host check's path says, for every listener and Host here.
func TestLoopbackNameIsLoopbackHosts(t *testing.T) {
	listeners := []struct {
		addr string
		tls  bool
	}{{"127.0.0.1:8080", false}, {"[::1]:8080", false}, {"127.0.0.1:80", false}, {"[::1]:80", false},
		{"127.0.0.2:443", true}, {"127.0.0.1:80", true}, {"[::ffff:127.0.0.1]:9091", false}, {"192.0.2.1:8080", false}}
	hosts := []string{"localhost:8080", "localhost", "127.0.0.1:8080", "127.0.0.1", "[::1]:8080", "[::1]", "::1", "::1:8080",
		"127.0.0.2:443", "127.0.0.2", "127.0.0.2:8080", "localhost:80", "localhost:443", "[localhost]:8080", "[127.0.0.1]:8080",
		"evil.example:8080", "localhost:08080", "localhost:", "", ":8080", "LOCALHOST:8080", "127.0.0.1:9091", "localhost:9091",
		"[::ffff:127.0.0.1]:9091", "localhost.:8080", "localhost:8080:8080", "[::1]:80", "[::1"}
	for _, l := range listeners {
		ap := netip.MustParseAddrPort(l.addr)
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.TCPAddrFromAddrPort(ap)))
		r.TLS = nil
		if l.tls {
			r.TLS = &tls.ConnectionState{}
		}
		list := loopbackHosts(r)
		for _, raw := range hosts {
			host := normalHost(raw, connScheme(r))
			over, named := loopbackName(r, host)
			if over != (list != nil) || named != slices.Contains(list, host) {
				t.Errorf("listener %s (tls %v), Host %q: loopbackName %v, %v; loopbackHosts %q", l.addr, l.tls, raw, over, named, list)
			}
		}
	}
}
