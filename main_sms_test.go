package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gatehouse/backend/cli"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

func TestSMSSandboxOnlyOnLoopback(t *testing.T) {
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"localhost:8080", true},
		{"[::1]:8080", true},
		{"127.0.0.2:0", true},
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"[::]:8080", false},
		{"192.168.1.5:8080", false},
		{"gatehouse.example.com:443", false},
		{"127.0.0.1", false}, // no port: not an address
	} {
		err := checkSandboxAddr(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("checkSandboxAddr(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
	}

	// serve refuses before it opens anything.
	dir := filepath.Join(t.TempDir(), "data")
	_, err := gatehouse(t, dir, "", "serve", "--sms-sandbox", "--addr", "0.0.0.0:0")
	if err == nil || cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("serve --sms-sandbox on 0.0.0.0: %v (exit %d), want a usage error about loopback", err, cli.ExitCode(err))
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the refused serve created the data directory")
	}
	if _, err := gatehouse(t, dir, "", "serve", "--sms-sandbox", "--tls-cert", "c.pem", "--tls-key", "k.pem"); err == nil || cli.ExitCode(err) != 2 {
		t.Errorf("serve --sms-sandbox with TLS: %v, want a usage error", err)
	}
}

func TestSMSSandboxConfig(t *testing.T) {
	cfg := &sms.Config{AccountSID: "ACreal", PublicURL: "https://gatehouse.example.com"}
	ln, tw, err := startSandbox("127.0.0.1:0", cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer tw.Close()
	defer ln.Close()
	// The fake's credentials and number; the public URL is the local server's.
	if cfg.AccountSID != tw.AccountSID || cfg.AuthToken != tw.AuthToken || cfg.From != smstest.PhoneNumber || cfg.APIURL != tw.URL {
		t.Errorf("sandbox config %+v", cfg)
	}
	if want := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port); cfg.PublicURL != want {
		t.Errorf("public URL %q, want %q", cfg.PublicURL, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("sandbox config invalid: %v", err)
	}
	// The gateway it makes sends to the fake.
	bc, err := smsSettings(*cfg)
	if err != nil || bc.Sender == nil {
		t.Fatalf("smsSettings: %v", err)
	}
	if err := bc.Sender.SendSMS(context.Background(), "+16502530067", "hello"); err != nil {
		t.Fatal(err)
	}
	if m := tw.Messages(); len(m) != 1 || m[0].Body != "hello" {
		t.Errorf("fake Twilio got %+v", m)
	}
}

func TestSMSMisconfiguredIsOneLine(t *testing.T) {
	for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "GATEHOUSE_SMS_FROM", "TWILIO_MESSAGING_SERVICE_SID", "GATEHOUSE_PUBLIC_URL", "GATEHOUSE_TWILIO_API_URL", "GATEHOUSE_SMS_REGION"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	t.Setenv("TWILIO_ACCOUNT_SID", "ACtest")
	_, err := gatehouse(t, dir, "", "serve", "--addr", "127.0.0.1:0")
	if err == nil || cli.ExitCode(err) == 0 {
		t.Fatalf("serve with half an SMS configuration: %v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "SMS is misconfigured: ") {
		t.Errorf("error %q, want one line starting with SMS is misconfigured", msg)
	}
	for _, want := range []string{"TWILIO_AUTH_TOKEN (--twilio-auth-token) is not set", "GATEHOUSE_SMS_FROM (--sms-from)", "GATEHOUSE_PUBLIC_URL (--public-url) is not set"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	// Flags mirror the variables; a bad one is named.
	_, err = gatehouse(t, dir, "", "serve", "--addr", "127.0.0.1:0", "--twilio-auth-token", "tok", "--sms-from", "650 253 0000", "--public-url", "https://gh.example.com")
	if err == nil || !strings.Contains(err.Error(), `GATEHOUSE_SMS_FROM (--sms-from) "650 253 0000" is not a phone number in E.164 form`) {
		t.Errorf("bad --sms-from: %v", err)
	}
	// The desktop path checks the same configuration before it opens a window.
	_, err = gatehouse(t, dir, "")
	if err == nil || !strings.HasPrefix(err.Error(), "SMS is misconfigured") {
		t.Errorf("desktop with half an SMS configuration: %v", err)
	}

	// Without any Twilio setting SMS is simply off.
	t.Setenv("TWILIO_ACCOUNT_SID", "")
	if bc, err := smsSettings(sms.ConfigFromEnv(os.Getenv)); err != nil || bc.Sender != nil {
		t.Errorf("no configuration: %+v, %v; want SMS off and no error", bc, err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
