package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
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
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/sqlite"
)

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
	dir := t.TempDir()
	key := make([]byte, backend.SecretKeySize)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
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
		code := crashTOTP(t, strings.ReplaceAll(keyB[1], " ", ""), time.Now())
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
		sam.wantRedirect(b, "/logout", nil, "/login?notice=out")

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
