package sms_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/backend/backendtest"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// config is a valid configuration for the fake Twilio.
func config(fake *smstest.Server) sms.Config {
	c := backendtest.SMSConfig(fake, "https://gatehouse.example")
	withTimeout(&c)
	return c
}

// withTimeout gives up on Twilio after 2 seconds: the fake answers at once, unless told to hang.
func withTimeout(c *sms.Config) { c.Timeout = 2 * time.Second }

// TestGatewayRequest: what twilio-go sends, through the rewriting transport, is Twilio's
// Messages API call: the path with the account, basic auth with the account's credentials, and
// the form fields — checked on the raw request, independently of the fake.
func TestGatewayRequest(t *testing.T) {
	for _, tc := range []struct {
		name, prefix, from, service string
	}{
		{"from the System Phone Number", "", smstest.PhoneNumber, ""},
		{"through a Messaging Service", "", "", "MGservice0123"},
		{"API URL with a path", "/twilio", smstest.PhoneNumber, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got *http.Request
			var form url.Values
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				mu.Lock()
				got, form = r, r.PostForm
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				json.NewEncoder(w).Encode(map[string]any{"sid": "SM0123", "status": "queued", "num_segments": "1"})
			}))
			defer srv.Close()
			gw, err := sms.NewGateway(sms.Config{AccountSID: "ACtest", AuthToken: "secret0token", From: tc.from,
				MessagingServiceSID: tc.service, PublicURL: "https://gatehouse.example", APIURL: srv.URL + tc.prefix})
			if err != nil {
				t.Fatal(err)
			}
			if err := gw.SendSMS(context.Background(), "+16502530067", "Your code is 123456."); err != nil {
				t.Fatalf("SendSMS: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.Method != http.MethodPost || got.URL.Path != tc.prefix+"/2010-04-01/Accounts/ACtest/Messages.json" {
				t.Errorf("request: %s %s; want POST %s/2010-04-01/Accounts/ACtest/Messages.json", got.Method, got.URL.Path, tc.prefix)
			}
			if user, pass, ok := got.BasicAuth(); !ok || user != "ACtest" || pass != "secret0token" {
				t.Errorf("basic auth: %q, %q, %v; want the account SID and auth token", user, pass, ok)
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type: %q", ct)
			}
			want := url.Values{"To": {"+16502530067"}, "Body": {"Your code is 123456."}}
			if tc.service != "" {
				want.Set("MessagingServiceSid", tc.service)
			} else {
				want.Set("From", tc.from)
			}
			if form.Encode() != want.Encode() {
				t.Errorf("form: got %s, want %s", form.Encode(), want.Encode())
			}
		})
	}
}

func TestGatewayAgainstFake(t *testing.T) {
	fake := smstest.NewServer()
	defer fake.Close()
	gw, err := sms.NewGateway(config(fake))
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.SendSMS(context.Background(), "+16502530067", "hello"); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].To != "+16502530067" || msgs[0].From != smstest.PhoneNumber || msgs[0].Body != "hello" ||
		!strings.HasPrefix(msgs[0].SID, "SM") || msgs[0].AccountSID != fake.AccountSID {
		t.Errorf("messages: %+v", msgs)
	}

	// Twilio's errors come back with their code and status, and without their message, which
	// names the number (L4): the error is logged.
	err = gw.SendSMS(context.Background(), "16502530", "hello")
	if err == nil || !strings.Contains(err.Error(), "error 21211 (HTTP 400)") || strings.Contains(err.Error(), "16502530") {
		t.Errorf("an invalid To: got %v, want Twilio's error 21211 and not the number", err)
	}
	fake.FailWith(&smstest.Error{Status: 429, Code: 20429, Message: "Too Many Requests"})
	if err := gw.SendSMS(context.Background(), "+16502530067", "hello"); err == nil || err.Error() != "twilio refused the text message: error 20429 (HTTP 429)" {
		t.Errorf("FailWith: got %v", err)
	}
	fake.FailWith(nil)

	// Wrong credentials: Twilio's 20003.
	cfg := config(fake)
	cfg.AuthToken = "wrongtoken"
	bad, err := sms.NewGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.SendSMS(context.Background(), "+16502530067", "hello"); err == nil || !strings.Contains(err.Error(), "20003") {
		t.Errorf("wrong auth token: got %v, want Twilio's error 20003", err)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Errorf("messages after the errors: %d, want 1", n)
	}
}

// TestGatewayTimeout: a Twilio that does not answer costs the timeout, not more, and says so.
func TestGatewayTimeout(t *testing.T) {
	fake := smstest.NewServer()
	defer fake.Close()
	cfg := config(fake)
	cfg.Timeout = 200 * time.Millisecond
	gw, err := sms.NewGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fake.Hang(10 * time.Second)
	start := time.Now()
	err = gw.SendSMS(context.Background(), "+16502530067", "hello")
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") {
		t.Errorf("a hanging Twilio: got %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("SendSMS took %v, want about 200ms", d)
	}

	// The caller's context ends the wait too.
	cfg.Timeout = 10 * time.Second
	gw, err = sms.NewGateway(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := gw.SendSMS(ctx, "+16502530067", "hello"); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("an ended context: got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("SendSMS with an ended context took %v", d)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Errorf("messages: %d, want 0", n)
	}
}
