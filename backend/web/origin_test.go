package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestSandboxRefusesOtherHosts pins issue 9 F9 (the SMS sandbox was readable by DNS
// rebinding): with a login code on the sandbox page, a request whose Host is another name on
// the server's port (evil.example resolving to 127.0.0.1) is refused (421) and shows no code,
// for the page and its form; the server's own names (the public URL's, localhost, 127.0.0.1
// and [::1] on its port) are served.
func TestSandboxRefusesOtherHosts(t *testing.T) {
	e := newEnv(t, withSandbox)
	e.user("bob", backend.RoleUser, true)
	c := e.client()
	c.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	c.enrollBySMS("/login/enroll", testPhone)
	c.post("/logout", nil)
	c.login("bob", testPassword)
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	c.get("/sms-sandbox").wantBody(t, "Your Gatehouse login code is")

	u, _ := url.Parse(e.ts.URL)
	port := u.Port()
	get := func(host string) *response {
		req, _ := http.NewRequest("GET", e.ts.URL+"/sms-sandbox", nil)
		req.Host = host
		return e.client().do(req)
	}
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.evil.example:" + port, "localhost:1"} {
		r := get(host)
		if r.StatusCode != http.StatusMisdirectedRequest || strings.Contains(r.body, "login code") {
			t.Errorf("GET /sms-sandbox with Host %s: status %d, want 421 and no code:\n%s", host, r.StatusCode, excerpt(r.body))
		}
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/sms-sandbox/text", strings.NewReader("from=%2B16502530067&body=x"))
	req.Host = "evil.example:" + port
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Sec-Fetch-Site", "same-origin") // the rebound page is same-origin to the browser
	if r := c.do(req); r.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("POST /sms-sandbox/text with Host evil.example: status %d, want 421", r.StatusCode)
	}
	for _, host := range []string{u.Host, "localhost:" + port, "LOCALHOST:" + port, "[::1]:" + port} {
		if r := get(host); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Your Gatehouse login code is") {
			t.Errorf("GET /sms-sandbox with Host %s: status %d, want 200 with the code", host, r.StatusCode)
		}
	}
}

// TestOriginMustBePublicOrigin pins issue 9's last finding (CrossOriginProtection compares
// hosts, not schemes): with the public URL https://gatehouse.example, a form from a browser
// that sends no Sec-Fetch-Site is refused unless its Origin is exactly that origin; so is any
// other site's. On main http://gatehouse.example passed, the Host matching.
func TestOriginMustBePublicOrigin(t *testing.T) {
	e := newEnv(t, withConfig(func(c *Config) { c.PublicURL = "https://gatehouse.example" }))
	e.user("alice", backend.RoleUser, false)
	form := url.Values{"username": {"alice"}, "password": {testPassword}}.Encode()
	for _, tc := range []struct {
		origin, fetchSite string
		want              int
	}{
		{"https://gatehouse.example", "", http.StatusSeeOther},
		{"", "", http.StatusSeeOther}, // no browser: nothing to compare
		{"http://gatehouse.example", "", http.StatusForbidden},
		{"https://gatehouse.example:8443", "", http.StatusForbidden},
		{"https://evil.example", "", http.StatusForbidden},
		{"null", "", http.StatusForbidden},
		{"https://gatehouse.example", "cross-site", http.StatusForbidden},
		{"null", "same-origin", http.StatusSeeOther}, // Chromium's own form under Referrer-Policy: no-referrer
	} {
		req := httptest.NewRequest("POST", "https://gatehouse.example/login", strings.NewReader(form))
		req.Header.Set("Content-Type", formType)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: status %d, want %d", tc.origin, tc.fetchSite, w.Code, tc.want)
		}
		if tc.want == http.StatusForbidden && !strings.Contains(w.Body.String(), "This form was sent from another site") {
			t.Errorf("Origin %q: the refusal lacks the cross-origin page", tc.origin)
		}
	}
}
