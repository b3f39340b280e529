package smstest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	twclient "github.com/twilio/twilio-go/client"

	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/web"
)

// post calls the fake's Messages API as a plain HTTP client.
func post(t *testing.T, s *smstest.Server, account, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/2010-04-01/Accounts/"+account+"/Messages.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return res.StatusCode, body
}

func TestServerProtocol(t *testing.T) {
	s := smstest.NewServer()
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") && !strings.HasPrefix(s.URL, "http://[::1]:") {
		t.Errorf("URL %s: want loopback", s.URL)
	}
	ok := url.Values{"To": {"+16502530067"}, "From": {smstest.PhoneNumber}, "Body": {"hi"}}
	for _, tc := range []struct {
		name, account, user, pass string
		form                      url.Values
		status, code              int
	}{
		{"no auth", s.AccountSID, "", "", ok, 401, 20003},
		{"wrong token", s.AccountSID, s.AccountSID, "nope", ok, 401, 20003},
		{"another account", "ACother", s.AccountSID, s.AuthToken, ok, 404, 20404},
		{"no To", s.AccountSID, s.AccountSID, s.AuthToken, url.Values{"From": {smstest.PhoneNumber}, "Body": {"hi"}}, 400, 21604},
		{"bad To", s.AccountSID, s.AccountSID, s.AuthToken, url.Values{"To": {"555"}, "From": {smstest.PhoneNumber}, "Body": {"hi"}}, 400, 21211},
		{"no From", s.AccountSID, s.AccountSID, s.AuthToken, url.Values{"To": {"+16502530067"}, "Body": {"hi"}}, 400, 21603},
		{"no Body", s.AccountSID, s.AccountSID, s.AuthToken, url.Values{"To": {"+16502530067"}, "From": {smstest.PhoneNumber}}, 400, 21602},
	} {
		status, body := post(t, s, tc.account, tc.user, tc.pass, tc.form)
		if status != tc.status || body["code"] != float64(tc.code) || body["status"] != float64(tc.status) ||
			body["message"] == "" || !strings.HasPrefix(body["more_info"].(string), "https://www.twilio.com/docs/errors/") {
			t.Errorf("%s: %d %v; want %d with Twilio's error %d", tc.name, status, body, tc.status, tc.code)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("messages after errors: %d", n)
	}

	status, body := post(t, s, s.AccountSID, s.AccountSID, s.AuthToken, ok)
	if status != 201 || body["status"] != "queued" || !strings.HasPrefix(body["sid"].(string), "SM") ||
		body["to"] != "+16502530067" || body["from"] != smstest.PhoneNumber || body["num_segments"] != "1" || body["direction"] != "outbound-api" {
		t.Errorf("a message: %d %v", status, body)
	}
	status, body = post(t, s, s.AccountSID, s.AccountSID, s.AuthToken, url.Values{"To": {"+16502530067"}, "MessagingServiceSid": {"MG1"}, "Body": {"hi"}})
	if status != 201 || body["status"] != "accepted" || body["from"] != nil || body["messaging_service_sid"] != "MG1" {
		t.Errorf("a message through a Messaging Service: %d %v", status, body)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].SID != body["sid"] && msgs[1].SID != body["sid"] || msgs[1].MessagingServiceSID != "MG1" {
		t.Errorf("Messages: %+v", msgs)
	}

	s.FailWith(&smstest.Error{Status: 500, Code: 20500, Message: "Internal Server Error"})
	if status, body := post(t, s, s.AccountSID, s.AccountSID, s.AuthToken, ok); status != 500 || body["code"] != float64(20500) {
		t.Errorf("FailWith: %d %v", status, body)
	}
}

// TestSignature: the fake's signatures are what twilio-go's own validator accepts, and nothing
// else.
func TestSignature(t *testing.T) {
	s := smstest.NewServer()
	defer s.Close()
	v := twclient.NewRequestValidator(s.AuthToken)
	const u = "https://gatehouse.example/sms/inbound"
	form := s.Form(smstest.Inbound{From: "+16502530067", Body: "ABCDE-FGHJK"})
	sig := smstest.Signature(s.AuthToken, u, form)
	if !v.ValidateBody(u, []byte(form.Encode()), sig) {
		t.Error("twilio-go does not accept the fake's signature")
	}
	if v.ValidateBody("https://other.example/sms/inbound", []byte(form.Encode()), sig) {
		t.Error("twilio-go accepts the signature for another URL")
	}
	form.Set("Body", "changed")
	if v.ValidateBody(u, []byte(form.Encode()), sig) {
		t.Error("twilio-go accepts the signature of another body")
	}
	if a, b := s.Form(smstest.Inbound{}), s.Form(smstest.Inbound{}); a.Get("MessageSid") == b.Get("MessageSid") || a.Get("To") != smstest.PhoneNumber || a.Get("AccountSid") != s.AccountSID {
		t.Errorf("Form defaults: %v", a)
	}
}

// TestReply: the reply in a TwiML answer, as Twilio reads it.
func TestReply(t *testing.T) {
	for _, tc := range []struct{ twiml, want string }{
		{`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`, ""},
		{`<Response><Message>Got it &amp; thanks</Message></Response>`, "Got it & thanks"},
		{`<Response><Message>one</Message><Message>two</Message></Response>`, "one\ntwo"},
	} {
		if got, err := smstest.Reply(tc.twiml); err != nil || got != tc.want {
			t.Errorf("Reply(%q) = %q, %v; want %q", tc.twiml, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "Forbidden", `<Other></Other>`} {
		if got, err := smstest.Reply(bad); err == nil {
			t.Errorf("Reply(%q) = %q, want an error", bad, got)
		}
	}
}

// The sandbox page's interface, met by the fake without an adapter of its own in main or tests.
var _ web.SMSSandbox = smstest.Sandbox[web.SandboxMessage]{}

// TestSandbox: what the SMS sandbox page gets from the fake: the messages sent, oldest first,
// and texts delivered to a webhook, signed, with the reply of a 200 answer's TwiML only.
func TestSandbox(t *testing.T) {
	s := smstest.NewServer()
	defer s.Close()
	sb := smstest.Sandbox[web.SandboxMessage]{Server: s}
	for _, body := range []string{"first", "second"} {
		if status, _ := post(t, s, s.AccountSID, s.AccountSID, s.AuthToken, url.Values{"To": {"+16502530067"}, "From": {smstest.PhoneNumber}, "Body": {body}}); status != 201 {
			t.Fatalf("send %q: status %d", body, status)
		}
	}
	sent := sb.Sent()
	if len(sent) != 2 || sent[0].To != "+16502530067" || sent[0].Body != "first" || sent[1].Body != "second" || sent[0].Created.IsZero() {
		t.Errorf("Sent() = %+v, want first and second to +16502530067", sent)
	}

	var got url.Values
	var signedOK bool
	status, answer := http.StatusOK, `<Response><Message>Got it</Message></Response>`
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.PostForm
		signedOK = r.Header.Get("X-Twilio-Signature") == smstest.Signature(s.AuthToken, "http://"+r.Host+r.URL.Path, r.PostForm)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	defer hook.Close()
	code, reply, err := sb.Text(hook.URL+"/sms/inbound", "+442079460018", smstest.PhoneNumber, "ABCDE-FGHJK")
	if err != nil || code != http.StatusOK || reply != "Got it" {
		t.Errorf("Text = %d, %q, %v; want 200, Got it", code, reply, err)
	}
	if got.Get("From") != "+442079460018" || got.Get("To") != smstest.PhoneNumber || got.Get("Body") != "ABCDE-FGHJK" || !signedOK {
		t.Errorf("the webhook got %v, signed right: %v", got, signedOK)
	}
	status, answer = http.StatusForbidden, `<Response><Message>not this</Message></Response>`
	if code, reply, err := sb.Text(hook.URL+"/sms/inbound", "+442079460018", smstest.PhoneNumber, "x"); err != nil || code != http.StatusForbidden || reply != "" {
		t.Errorf("Text to a webhook answering 403 = %d, %q, %v; want 403 and no reply", code, reply, err)
	}
	status, answer = http.StatusOK, "not TwiML"
	if code, reply, err := sb.Text(hook.URL+"/sms/inbound", "+442079460018", smstest.PhoneNumber, "x"); err != nil || code != http.StatusOK || reply != "" {
		t.Errorf("Text to a webhook answering no TwiML = %d, %q, %v; want 200 and no reply", code, reply, err)
	}
	hook.Close()
	if _, _, err := sb.Text(hook.URL+"/sms/inbound", "+442079460018", smstest.PhoneNumber, "x"); err == nil {
		t.Error("Text to a webhook that is not there: got no error")
	}
}
