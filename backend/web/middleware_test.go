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
