package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSandboxOffersKeys: the README's first command, `serve --sms-sandbox`, gives a working
// security key option: its public URL names the server localhost (an IP address is no WebAuthn
// relying party ID, and registering a key under one answered 500), the Setup Two-Factor page
// offers the key, and a registration begins (its options request answers 200, for localhost).
func TestSandboxOffersKeys(t *testing.T) {
	t.Setenv("GATEHOUSE_SECRET_KEY", "")
	dir := t.TempDir()
	if out, err := gatehouse(t, dir, "correct horse battery\n", "user", "create", "--username", "ada", "--admin", "--password-stdin"); err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--sms-sandbox"}, strings.NewReader(""), &stdout, &stderr)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr.String())
		}
	}()
	open := regexp.MustCompile(`Open (http://\S+) in your browser`)
	deadline := time.Now().Add(20 * time.Second)
	for open.FindStringSubmatch(stdout.String()) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	m := open.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("serve printed %q, want where to open Gatehouse", stdout.String())
	}
	base := m[1]
	if !regexp.MustCompile(`^http://localhost:\d+$`).MatchString(base) {
		t.Fatalf("the sandbox's URL is %s, want http://localhost:PORT", base)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	post := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := c.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	if resp, body := post("/login", url.Values{"username": {"ada"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Log out") {
		t.Fatalf("log in: status %d\n%s", resp.StatusCode, body)
	}
	resp, err := c.Get(base + "/profile/two-factor")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `formaction="/profile/two-factor/key/start"`) {
		t.Fatalf("the Setup Two-Factor page offers no working key button (status %d):\n%s", resp.StatusCode, page)
	}
	if resp, body := post("/profile/two-factor/key/start", url.Values{"current_password": {"correct horse battery"}}); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/profile/two-factor/key" {
		t.Fatalf("start a key: status %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	resp, body := post("/profile/two-factor/key/options", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registration options: status %d, want 200\n%s", resp.StatusCode, body)
	}
	var options struct {
		PublicKey struct {
			RP struct{ ID string } `json:"rp"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(body), &options); err != nil || options.PublicKey.RP.ID != "localhost" {
		t.Errorf("registration options %s: relying party %q (%v), want localhost", body, options.PublicKey.RP.ID, err)
	}
}
