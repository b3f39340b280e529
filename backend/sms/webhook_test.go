package sms_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/sqlite"
)

var ctx = context.Background()

const password = "correct horse battery staple"

// site is the System with SMS: a Service on a real SQLite file, sending through the real
// gateway to a fake Twilio, and the real webhook behind an HTTP server whose address is not the
// configured public URL (as behind a proxy).
type site struct {
	t     *testing.T
	svc   *backend.Service
	db    *sqlite.DB
	raw   *sql.DB // a read-only view of the same file, to compare contents
	clock *fakeclock.Clock
	fake  *smstest.Server
	cfg   sms.Config
	srv   *httptest.Server
	id    *backend.Identity // alice, signed in, password confirmed
}

func newSite(t *testing.T) *site {
	t.Helper()
	h := backendtest.New(t, backendtest.WithSMS("https://gatehouse.example", withTimeout), backendtest.WithAdmin("alice", password))
	s := &site{t: t, svc: h.Service, db: h.Store.(*sqlite.DB), clock: h.Clock, fake: h.Twilio, cfg: h.SMS, id: h.Admin}
	var err error
	if s.raw, err = sql.Open("sqlite", "file:"+backendtest.SQLitePath(h.Dir)+"?mode=ro"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.raw.Close() })
	mux := http.NewServeMux()
	mux.Handle("POST "+sms.WebhookPath, h.Webhook(s.svc))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// begin starts an SMS enrollment for alice and returns its Authorization Code.
func (s *site) begin() string {
	s.t.Helper()
	en, err := s.svc.BeginSMSEnrollment(ctx, s.id)
	if err != nil {
		s.t.Fatal(err)
	}
	return en.Code
}

// post sends form to the webhook, signed with token over signedURL.
func (s *site) post(form url.Values, token, signedURL string) (int, string, http.Header) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+sms.WebhookPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Signature(token, signedURL, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// deliver sends a text to the webhook as Twilio does.
func (s *site) deliver(in smstest.Inbound) (int, string) {
	s.t.Helper()
	code, body, err := smstest.SendInboundTo(s.srv.URL+sms.WebhookPath, s.cfg.WebhookURL(), s.fake.AuthToken, s.fake.Form(in))
	if err != nil {
		s.t.Fatal(err)
	}
	return code, body
}

// snapshot returns the contents of every table but skip, to tell whether anything changed.
func (s *site) snapshot(skip ...string) string {
	s.t.Helper()
	rows, err := s.raw.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'users_search%' ORDER BY name`)
	if err != nil {
		s.t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		if slicesContains(skip, table) {
			continue
		}
		rows, err := s.raw.Query(`SELECT * FROM ` + table + ` ORDER BY 1`)
		if err != nil {
			s.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// twimlEmpty is the webhook's answer to a text it takes without a reply; twimlSays, with one.
const twimlEmpty = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response></Response>`

func twimlSays(reply string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Message>` + reply + `</Message></Response>`
}

func (s *site) state() backend.SMSEnrollmentState {
	s.t.Helper()
	st, err := s.svc.SMSEnrollmentStatus(ctx, s.id)
	if err != nil {
		s.t.Fatal(err)
	}
	return st.State
}

// TestWebhookEnrolls: a text with the code, signed as Twilio signs it, records the sender's
// phone; the enrollment can then be confirmed.
func TestWebhookEnrolls(t *testing.T) {
	s := newSite(t)
	code := s.begin()
	start := time.Now()
	status, body := s.deliver(smstest.Inbound{From: "+16502530067", Body: strings.ToLower(code)})
	if want := twimlSays(backend.SMSReplyReceived); status != http.StatusOK || body != want {
		t.Fatalf("webhook: %d %q; want 200 and %q", status, body, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("webhook answered after %v", d)
	}
	st, err := s.svc.SMSEnrollmentStatus(ctx, s.id)
	if err != nil || st.State != backend.SMSStateReceived || st.MaskedPhone != "+1 ••• ••• ••67" {
		t.Fatalf("status: %+v, %v; want received from +1 ••• ••• ••67", st, err)
	}
	res, err := s.svc.ConfirmSMSEnrollment(ctx, s.id)
	if err != nil || len(res.RecoveryCodes) != 5 {
		t.Fatalf("ConfirmSMSEnrollment: %v", err)
	}
	u, _ := s.db.FindUserByID(ctx, s.id.User.ID)
	if u.Method != backend.MethodSMS || u.SMSPhone != "+16502530067" {
		t.Errorf("user: method %q, phone %q; want sms, +16502530067", u.Method, u.SMSPhone)
	}

	// The header: text/xml.
	_, _, h := s.post(s.fake.Form(smstest.Inbound{From: "+16502530067", Body: "hi"}), s.fake.AuthToken, s.cfg.WebhookURL())
	if ct := h.Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type: %q, want text/xml", ct)
	}

	// And the login that follows, with a code texted through the fake.
	st2, err := s.svc.Login(ctx, "alice", password)
	if err != nil || st2.Step != backend.StepVerify {
		t.Fatalf("Login: %+v, %v", st2, err)
	}
	if _, err := s.svc.SendSMSCode(ctx, st2.AttemptToken); err != nil {
		t.Fatal(err)
	}
	msgs := s.fake.Messages()
	m := msgs[len(msgs)-1]
	i := strings.Index(m.Body, "code is ")
	if m.To != "+16502530067" || i < 0 {
		t.Fatalf("login text: %+v", m)
	}
	if done, err := s.svc.VerifySMSCode(ctx, st2.AttemptToken, m.Body[i+8:i+14]); err != nil || done.Step != backend.StepDone {
		t.Errorf("VerifySMSCode: %+v, %v", done, err)
	}
}

// TestWebhookRefuses: forged or misdirected requests get 403 and change nothing; texts with
// expired or used codes get a reply saying so, retried deliveries none, and none of them changes
// an enrollment.
func TestWebhookRefuses(t *testing.T) {
	s := newSite(t)
	code := s.begin()
	form := func(in smstest.Inbound) url.Values {
		if in.From == "" {
			in.From = "+16502530067"
		}
		if in.Body == "" {
			in.Body = code
		}
		return s.fake.Form(in)
	}

	forbidden := []struct {
		name      string
		form      url.Values
		token     string
		signedURL string
		tamper    func(url.Values)
	}{
		{"signed with another token", form(smstest.Inbound{}), "othertoken", s.cfg.WebhookURL(), nil},
		{"signed over the Host the request reached", form(smstest.Inbound{}), s.fake.AuthToken, s.srv.URL + sms.WebhookPath, nil},
		{"signed over another path", form(smstest.Inbound{}), s.fake.AuthToken, "https://gatehouse.example/other", nil},
		{"changed after signing", form(smstest.Inbound{}), s.fake.AuthToken, s.cfg.WebhookURL(), func(f url.Values) { f.Set("From", "+442079460018") }},
		{"another AccountSid", form(smstest.Inbound{AccountSID: "ACother0123"}), s.fake.AuthToken, s.cfg.WebhookURL(), nil},
		{"another To", form(smstest.Inbound{To: "+16502530000"}), s.fake.AuthToken, s.cfg.WebhookURL(), nil},
	}
	for _, tc := range forbidden {
		before := s.snapshot()
		sig := smstest.Signature(tc.token, tc.signedURL, tc.form)
		if tc.tamper != nil {
			tc.tamper(tc.form)
		}
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+sms.WebhookPath, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, res.StatusCode)
		}
		if after := s.snapshot(); after != before {
			t.Errorf("%s: the database changed:\nbefore:\n%s\nafter:\n%s", tc.name, before, after)
		}
	}
	// No signature at all.
	before := s.snapshot()
	res, err := http.Post(s.srv.URL+sms.WebhookPath, "application/x-www-form-urlencoded", strings.NewReader(form(smstest.Inbound{}).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || s.snapshot() != before {
		t.Errorf("no signature: status %d (want 403), changed %v", res.StatusCode, s.snapshot() != before)
	}
	if s.state() != backend.SMSStateWaiting {
		t.Fatalf("after the refused requests: %s, want waiting", s.state())
	}

	// Ignored: a wrong code, an expired code, a used code (the sender is told), a retried
	// delivery (nothing at all: it was answered the first time).
	ignored := func(name string, in smstest.Inbound, skip ...string) {
		t.Helper()
		want := twimlSays(backend.SMSReplyWrong)
		if in.MessageSID == "SMfirst" {
			want = twimlEmpty
		}
		before := s.snapshot(skip...)
		if status, body := s.deliver(in); status != http.StatusOK || body != want {
			t.Errorf("%s: %d %q; want 200 and %q", name, status, body, want)
		}
		if after := s.snapshot(skip...); after != before {
			t.Errorf("%s: the database changed:\nbefore:\n%s\nafter:\n%s", name, before, after)
		}
	}
	ignored("a wrong code", smstest.Inbound{From: "+16502530067", Body: "ABCDE-FGHJK"}, "sms_inbound")

	s.clock.Advance(10 * time.Minute)
	ignored("an expired code", smstest.Inbound{From: "+16502530067", Body: code}, "sms_inbound")
	if s.state() != backend.SMSStateExpired {
		t.Errorf("after the expired code: %s, want expired", s.state())
	}

	code = s.begin()
	if status, _ := s.deliver(smstest.Inbound{From: "+16502530067", Body: code, MessageSID: "SMfirst"}); status != http.StatusOK {
		t.Fatalf("the right code: %d", status)
	}
	ignored("a used code", smstest.Inbound{From: "+442079460018", Body: code}, "sms_inbound")
	ignored("a retried delivery", smstest.Inbound{From: "+16502530067", Body: code, MessageSID: "SMfirst"}) // nothing at all
	if st, _ := s.svc.SMSEnrollmentStatus(ctx, s.id); st.MaskedPhone != "+1 ••• ••• ••67" {
		t.Errorf("status: %+v, want the first sender's phone", st)
	}

	// Only POST.
	res, err = http.Get(s.srv.URL + sms.WebhookPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", res.StatusCode)
	}
}

// TestWebhookDirect: the handler itself (not behind a mux) refuses methods other than POST and
// accepts a query string Twilio signed.
func TestWebhookDirect(t *testing.T) {
	s := newSite(t)
	wh, err := sms.NewWebhook(s.cfg, s.svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	wh.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, sms.WebhookPath, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", rec.Code)
	}
	code := s.begin()
	f := s.fake.Form(smstest.Inbound{From: "+16502530067", Body: code})
	req := httptest.NewRequest(http.MethodPost, sms.WebhookPath+"?site=main", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Signature(s.fake.AuthToken, s.cfg.WebhookURL()+"?site=main", f))
	rec = httptest.NewRecorder()
	wh.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || s.state() != backend.SMSStateReceived {
		t.Errorf("a signed URL with a query: %d, state %s; want 200, received", rec.Code, s.state())
	}
	if _, err := sms.NewWebhook(sms.Config{}, s.svc, nil); err == nil {
		t.Error("NewWebhook with an empty configuration: got no error")
	}
}
