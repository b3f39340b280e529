package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// TestBenchForwardAuth is build/bench.sh's forward-auth figure (GATEHOUSE_BENCH=1): requests
// per second of GET /auth/nginx, the check a proxy makes before every request to a protected
// application (a signed-in session allowed on the domain: 200 with the Remote-* headers),
// through the real handler tree with the session cache running as serve runs it, against a
// trivial net/http handler (200, empty body) in the same run. The request is nginx's
// auth_request as the README configures it: Host the loopback address proxied to,
// X-Original-URL, the browser's cookie. 64 connections, each with its own session;
// alternating rounds, with the same check through the page middleware (the path it took
// before forwardFirst) as a third site.
func TestBenchForwardAuth(t *testing.T) {
	needBench(t)
	h, tokens := benchReader(t, backendtest.WithConfig(func(c *backend.Config) { c.PublicURL = "https://login.example.com" }))
	svc := h.Service
	if _, _, err := svc.CreateApp(context.Background(), svc.Operator(), backend.NewApp{Name: "Wiki", Domains: []string{"wiki.example.com"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.StartSessionCache())
	s, err := NewServer(Config{Service: svc, Logger: h.Logger, PublicURL: "https://login.example.com",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	check := &benchSite{url: benchServe(t, s), path: NginxAuthPath, header: map[string]string{"X-Original-URL": "https://wiki.example.com/page"},
		cookie: s.sessionCk, tokens: tokens, check: func(res *http.Response, _ []byte) error {
			if res.StatusCode != http.StatusOK || res.Header.Get(HeaderRemoteUser) != "reader" {
				return fmt.Errorf("forward-auth: status %d, Remote-User %q", res.StatusCode, res.Header.Get(HeaderRemoteUser))
			}
			return nil
		}}
	// The same check through the page middleware, as before forwardFirst: routes' chain
	// without it, around the same mux.
	pages := *check
	pages.url = benchServe(t, s.middleware(http.NewCrossOriginProtection().Handler(s.checkOrigin(s.parseForms(s.mux)))))
	sites := map[string]*benchSite{"check": check, "pages": &pages, "trivial": benchTrivial(t, check)}
	br := benchRun(t, 5, 3*time.Second, sites, []string{"check", "pages", "trivial"})
	const note = "SQLite, session cache running; load generator in the same process"
	br.row("Forward-auth check (GET /auth/nginx, signed in, allowed) vs a trivial net/http handler, 64 connections",
		"check", "trivial", "≥ 0.80, p99 ≤ 10 ms", note)
	br.row("The same check through the page middleware (as before its lean path) vs a trivial net/http handler",
		"pages", "trivial", "", note)
	br.row("The lean path vs through the page middleware, the same check", "check", "pages", "report", note)
}
