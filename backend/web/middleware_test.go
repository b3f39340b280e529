package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWebhookAtItsPath: the SMS webhook is served where main says (the package knows no path of
// its own), outside cross-origin protection, and a webhook without a path is refused.
func TestWebhookAtItsPath(t *testing.T) {
	e := newEnv(t)
	var got int
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got++ })
	if _, err := NewServer(Config{Service: e.svc, SMSWebhook: hook}); err == nil {
		t.Error("NewServer took a webhook without a path")
	}
	srv, err := NewServer(Config{Service: e.svc, Logger: e.srv.log, SMSWebhook: hook, SMSWebhookPath: "/hooks/twilio"})
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string) int {
		req := httptest.NewRequest(http.MethodPost, "http://gatehouse.test"+path, strings.NewReader("MessageSid=SM1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site") // Twilio posts from outside
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post("/hooks/twilio"); code != http.StatusOK || got != 1 {
		t.Errorf("POST /hooks/twilio: status %d, webhook called %d times; want 200 and once", code, got)
	}
	if code := post("/sms/inbound"); code == http.StatusOK || got != 1 {
		t.Errorf("POST /sms/inbound: status %d, webhook called %d times; want a refusal and no call", code, got)
	}
}

// TestLogValue: what is logged of a value a stranger sent is at most maxLogValue characters,
// without control characters.
func TestLogValue(t *testing.T) {
	long := strings.Repeat("a", 100)
	for _, tc := range []struct{ in, want string }{
		{"/login", "/login"},
		{"", ""},
		{long, long[:maxLogValue] + "…"},
		{long[:maxLogValue], long[:maxLogValue]},
		{"evil\r\nlevel=ERROR msg=forged", "evil??level=ERROR msg=forged"},
		{"bad \xff byte", "bad ? byte"},
		{strings.Repeat("é", 70), strings.Repeat("é", maxLogValue) + "…"},
	} {
		if got := logValue(tc.in); got != tc.want {
			t.Errorf("logValue(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStrangersValuesLoggedShort pins L1 through the real handler tree: a 404's path, a wrong
// Host, a foreign Origin and a Content-Type, each 10,000 characters, are logged as a prefix.
func TestStrangersValuesLoggedShort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	secret := "my-password-is-hunter2" + strings.Repeat("x", 10000)
	for _, tc := range []struct {
		name   string
		method string
		path   string
		header string
	}{
		{"404 path", "GET", "/" + secret, ""},
		{"Host", "GET", "/login", "Host"},
		{"Origin", "POST", "/login", "Origin"},
		{"Content-Type", "POST", "/login", "Content-Type"},
	} {
		req, _ := http.NewRequest(tc.method, e.ts.URL+tc.path, strings.NewReader("username=a"))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		switch tc.header {
		case "Host":
			req.Host = secret + ".example"
		case "Origin":
			req.Header.Set("Origin", "http://"+secret+".example")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		case "Content-Type":
			req.Header.Set("Content-Type", "text/"+secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 {
			t.Errorf("%s: status %d, want a refusal", tc.name, res.StatusCode)
		}
	}
	logs := e.logs.String()
	if strings.Contains(logs, strings.Repeat("x", maxLogValue)) {
		t.Errorf("a stranger's value was logged longer than %d characters:\n%.2000s", maxLogValue, logs)
	}
	for _, want := range []string{"host=my-password-is-hunter2", "origin=http://my-password-is-hunter2", "content_type=text/my-password-is-hunter2", "path=/my-password-is-hunter2"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q (the value's prefix)", want)
		}
	}
}
