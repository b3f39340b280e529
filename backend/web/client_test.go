package web

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatehouse/backend"
)

// withConfig changes the web server's configuration before it starts.
func withConfig(f func(*Config)) envOption { return func(s *envSetup) { f(&s.web) } }

// TestClientAddr: the client of a request is its TCP peer, unless the peer is a trusted proxy;
// then the right-most hop of X-Forwarded-For (or, without one, Forwarded) that is not a trusted
// proxy.
func TestClientAddr(t *testing.T) {
	s := &Server{trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		fwd        []string
		want       string
	}{
		{"untrusted peer: headers ignored", "203.0.113.5:1234", []string{"198.51.100.1"}, []string{"for=198.51.100.2"}, "203.0.113.5"},
		{"no header", "10.0.0.2:1234", nil, nil, "10.0.0.2"},
		{"one hop", "10.0.0.2:1234", []string{"198.51.100.1"}, nil, "198.51.100.1"},
		{"forged hop left of the real one", "10.0.0.2:1234", []string{"6.6.6.6, 198.51.100.1"}, nil, "198.51.100.1"},
		{"a second trusted proxy", "10.0.0.2:1234", []string{"6.6.6.6, 198.51.100.1, 10.1.2.3"}, nil, "198.51.100.1"},
		{"headers on two lines", "10.0.0.2:1234", []string{"6.6.6.6", "198.51.100.1"}, nil, "198.51.100.1"},
		{"every hop trusted", "10.0.0.2:1234", []string{"10.0.0.7, 10.0.0.8"}, nil, "10.0.0.7"},
		{"garbage", "10.0.0.2:1234", []string{"garbage"}, nil, "10.0.0.2"},
		{"garbage left of a trusted hop", "10.0.0.2:1234", []string{"garbage, 10.0.0.9"}, nil, "10.0.0.9"},
		{"IPv6 hop with port", "127.0.0.1:1234", []string{"[2001:db8::17]:4711"}, nil, "2001:db8::17"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.2]:1234", []string{"198.51.100.1"}, nil, "198.51.100.1"},
		{"Forwarded", "10.0.0.2:1234", nil, []string{`for=198.51.100.1;proto=https;by=10.0.0.2`}, "198.51.100.1"},
		{"Forwarded, quoted IPv6", "10.0.0.2:1234", nil, []string{`for=6.6.6.6, For="[2001:db8::17]:4711"`}, "2001:db8::17"},
		{"Forwarded unknown", "10.0.0.2:1234", nil, []string{"for=unknown"}, "10.0.0.2"},
		{"both, agreeing", "10.0.0.2:1234", []string{"198.51.100.1"}, []string{"for=198.51.100.1"}, "198.51.100.1"},
		// nginx appends to X-Forwarded-For and passes a client's own Forwarded through (L5).
		{"both, the client's own Forwarded", "10.0.0.2:1234", []string{"198.51.100.1"}, []string{"for=6.6.6.6"}, "198.51.100.1"},
		{"both, X-Forwarded-For garbage", "10.0.0.2:1234", []string{"garbage"}, []string{"for=6.6.6.6"}, "10.0.0.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				r.Header.Add("Forwarded", v)
			}
			if got := s.clientAddr(r).String(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// startNginx runs Debian's nginx in the foreground on a free loopback port, as a reverse proxy
// to backend configured as a company would: the Host passed on, X-Forwarded-For appended with
// the client's address. It returns nginx's base URL.
func startNginx(t *testing.T, port int, backend string) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Fatal("the reverse proxy test needs nginx: install the Debian package nginx (build/test.sh does)")
		}
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
	access_log %[1]s/access.log;
	client_body_temp_path %[1]s/client_body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location /auth/ {
			return 404;
		}
		location / {
			proxy_pass %[3]s;
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto $scheme;
		}
	}
}
`, dir, port, backend)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s", err, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not start listening within 10 s")
		}
	}
	return "http://" + addr
}

// freePort is a loopback port nobody listens on (for a moment).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// auditIPs counts the audit events with the action by the client address they record.
func auditIPs(t *testing.T, e *env, action string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for offset := 0; ; offset += backend.DefaultPageSize {
		p, err := e.svc.AuditLog(context.Background(), e.svc.Operator(), backend.AuditFilter{Action: action, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range p.Events {
			seen[ev.IP]++
		}
		if offset+len(p.Events) >= p.Total {
			return seen
		}
	}
}

// loginVia posts the password step to base from hc, with the extra headers, and returns the
// status.
func loginVia(t *testing.T, hc *http.Client, base, username, password string, header map[string]string) int {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestBehindNginx pins issue 9 F11 (behind a reverse proxy every person shared one address),
// through a real nginx trusted with --trusted-proxies 127.0.0.1/32. Two people reach it from
// their own addresses (127.0.0.2 and 127.0.0.3): one fails until throttled, forging a new
// X-Forwarded-For every time, and stays throttled (nginx appends the real address, and only
// the right-most hop not a trusted proxy is believed); the other still logs in. The audit log
// and the request log show each person's own address, never the proxy's or a forged one. A
// client that sends X-Forwarded-For to Gatehouse directly gets nothing from it. On main, both
// people shared nginx's 127.0.0.1.
func TestBehindNginx(t *testing.T) {
	port := freePort(t)
	proxyURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, withConfig(func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.PublicURL = proxyURL // what people type; nginx passes that Host on
	}))
	startNginx(t, port, e.ts.URL)
	e.user("alice", backend.RoleUser, false)
	annA, bob, forger := net.IPv4(127, 0, 0, 2), net.IPv4(127, 0, 0, 3), net.IPv4(127, 0, 0, 4)
	// The README's configuration keeps forward-auth off the public host: outsiders cannot ask
	// it which hosts are protected.
	if res, err := http.Get(proxyURL + "/auth/nginx"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /auth/nginx through the proxy: %v %v, want 404", res, err)
	} else {
		res.Body.Close()
	}

	n := 0
	for ; n <= failureBurst; n++ {
		st := loginVia(t, peerClient(annA), proxyURL, fmt.Sprintf("ghost%03d", n), "wrong password",
			map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", n%250)})
		if st == http.StatusTooManyRequests {
			break
		}
		if st != http.StatusUnauthorized {
			t.Fatalf("failure %d through nginx: status %d, want 401", n+1, st)
		}
	}
	if n != failureBurst {
		t.Errorf("through nginx, forging X-Forwarded-For: throttled after %d failures, want %d", n, failureBurst)
	}
	if st := loginVia(t, peerClient(bob), proxyURL, "alice", testPassword, nil); st != http.StatusSeeOther {
		t.Errorf("bob logs in through nginx while ann is throttled: status %d, want 303", st)
	}
	// Straight to Gatehouse, skipping the proxy: the forged headers are ignored.
	if st := loginVia(t, peerClient(annA), e.ts.URL, "alice", testPassword, map[string]string{"X-Forwarded-For": "198.51.100.1", "Forwarded": "for=198.51.100.1"}); st != http.StatusTooManyRequests {
		t.Errorf("ann directly with forged headers: status %d, want 429 (still her own address)", st)
	}
	if st := loginVia(t, peerClient(forger), e.ts.URL, "mallory", "wrong password", map[string]string{"X-Forwarded-For": "127.0.0.3"}); st != http.StatusUnauthorized {
		t.Errorf("a forger directly: status %d, want 401", st)
	}

	// Unknown names are audited without the name (issue 9 F7): count the events by address.
	failures := auditIPs(t, e, backend.AuditLoginFailure)
	if failures["127.0.0.2"] != failureBurst || failures["127.0.0.4"] != 1 || len(failures) != 2 {
		t.Errorf("login failures by address: %v, want %d from 127.0.0.2 and 1 from 127.0.0.4, none from the proxy or a forged address", failures, failureBurst)
	}
	if got := auditIPs(t, e, backend.AuditLoginSuccess); got["127.0.0.3"] != 1 || len(got) != 1 {
		t.Errorf("logins by address: %v, want 1 from 127.0.0.3", got)
	}
	logs := e.logs.String()
	for _, want := range []string{"ip=127.0.0.2", "ip=127.0.0.3", "ip=127.0.0.4"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the request log lacks %s", want)
		}
	}
	for _, bad := range []string{"ip=127.0.0.1 ", "ip=203.0.113.", "ip=198.51.100."} {
		if strings.Contains(logs, bad) {
			t.Errorf("the request log has %q: the proxy's or a forged address", bad)
		}
	}
}
