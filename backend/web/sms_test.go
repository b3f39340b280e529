package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// The phone users text from in these tests, and how pages show it.
const (
	testPhone       = "+16502530067"
	testPhoneShown  = "+1 650-253-0067"
	testPhoneMasked = "+1 ••• ••• ••67"
)

var authCodePattern = regexp.MustCompile(`id="sms-auth-code">([0-9A-Z]{5}-[0-9A-Z]{5})<`)

// authCode reads the Authorization Code on the "Use SMS" page.
func authCode(t *testing.T, page string) string {
	t.Helper()
	m := authCodePattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no Authorization Code on the page:\n%s", excerpt(page))
	}
	return m[1]
}

// text sends a text message to the System Phone Number through the webhook, as Twilio does,
// and returns the System's reply to the sender.
func (e *env) text(from, body string) string {
	e.t.Helper()
	status, answer, err := e.twilio.SendInbound(e.ts.URL+sms.WebhookPath, smstest.Inbound{From: from, Body: body})
	if err != nil || status != http.StatusOK {
		e.t.Fatalf("webhook: %d %q %v, want 200 and TwiML", status, answer, err)
	}
	reply, err := smstest.Reply(answer)
	if err != nil {
		e.t.Fatalf("webhook: %v", err)
	}
	return reply
}

// smsState polls the status endpoint under base as the page's script does.
func (c *client) smsState(base string) string {
	c.e.t.Helper()
	r := c.get(base + "/sms/status")
	r.wantStatus(c.e.t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.e.t.Fatalf("status endpoint answers %q", ct)
	}
	var st struct{ State string }
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		c.e.t.Fatalf("status %q: %v", r.body, err)
	}
	return st.State
}

// enrollBySMS walks "Use SMS" under base (the profile's or the login's) for a client whose
// password is confirmed, texting from phone, and returns the recovery codes.
func (c *client) enrollBySMS(base, phone string) []string {
	t := c.e.t
	t.Helper()
	c.post(base+"/sms", nil).wantRedirect(t, base+"/sms")
	page := c.get(base + "/sms")
	page.wantBody(t, "Use SMS", "+1 500-555-0006", "I have sent the text", `data-sms-status="`+base+`/sms/status"`, "sms.js")
	code := authCode(t, page.body)
	if c.smsState(base) != "waiting" {
		t.Fatal("the setup is not waiting for the text")
	}
	c.e.text(phone, strings.ToLower(code))
	if got := c.smsState(base); got != "received" {
		t.Fatalf("after the text the state is %q, want received", got)
	}
	page = c.get(base + "/sms")
	page.wantBody(t, "Your text message arrived", testPhoneMasked, "Confirm", "Use another phone")
	r := c.post(base+"/sms/confirm", nil)
	r.wantRedirect(t, "/recovery-codes")
	codes := recoveryCodes(t, c.get("/recovery-codes").body)
	return codes
}

func TestSMSEnrollmentFromProfile(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	base := "/profile/two-factor"
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPasswordWeb)

	// The password again, asked for on the choice page itself, as for the app.
	c.get(base).wantBody(t, "Use SMS", `formaction="/profile/two-factor/sms"`, `name="current_password"`)
	r := c.post(base+"/sms", url.Values{"current_password": {"not the password"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect password.", "Use SMS", `name="current_password"`)
	c.post(base+"/sms", url.Values{"current_password": {testPassword}}).wantRedirect(t, base+"/sms")
	page := c.get(base + "/sms")
	page.wantBody(t, "Your Authorization Code", "Text it to the System Phone Number", "+1 500-555-0006", `href="sms:+15005550006?&amp;body=`)
	code := authCode(t, page.body)

	// A reload, and "Use SMS" again, show the same code: the setup is server-side.
	if again := authCode(t, c.get(base+"/sms").body); again != code {
		t.Errorf("reload shows code %s, want %s", again, code)
	}
	c.post(base+"/sms", nil).wantRedirect(t, base+"/sms")
	if again := authCode(t, c.get(base+"/sms").body); again != code {
		t.Errorf("Use SMS again shows code %s, want %s", again, code)
	}
	// Nothing to confirm before the text arrives.
	r = c.post(base+"/sms/confirm", nil)
	r.wantStatus(t, http.StatusConflict)
	r.wantBody(t, "No text message with your Authorization Code has arrived yet", code)

	// A text with another code changes nothing, and the phone is told; the right one, typed
	// sloppily, is taken.
	if reply := e.text(testPhone, "ABCDE-FGHJK"); reply != backend.SMSReplyWrong {
		t.Errorf("reply to a wrong code: %q, want %q", reply, backend.SMSReplyWrong)
	}
	if got := c.smsState(base); got != "waiting" {
		t.Fatalf("after a wrong code the state is %q", got)
	}
	if reply := e.text(testPhone, " "+strings.ToLower(strings.ReplaceAll(code, "-", " "))+" "); reply != backend.SMSReplyReceived {
		t.Errorf("reply to the right code: %q, want %q", reply, backend.SMSReplyReceived)
	}
	if got := c.smsState(base); got != "received" {
		t.Fatalf("after the code the state is %q, want received", got)
	}
	c.get(base+"/sms").wantBody(t, testPhoneMasked, "Confirm")
	c.post(base+"/sms/confirm", nil).wantRedirect(t, "/recovery-codes")
	recoveryCodes(t, c.get("/recovery-codes").body)
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	prof := c.get("/profile")
	prof.wantBody(t, "Enabled", "SMS settings", testPhoneShown, "Change phone number", "5 of 5 unused")
	u, _ := e.svc.UserByUsername(context.Background(), e.svc.Operator(), "alice")
	if u.Method != backend.MethodSMS || u.SMSPhone != testPhone {
		t.Errorf("user has %s %q, want sms %s", u.Method, u.SMSPhone, testPhone)
	}

	// Changing the phone is enrolling again: the old one stays until the new one is confirmed.
	c.get(base).wantBody(t, "Setting it up again replaces your app or phone", "Security keys you added stay", "Use SMS")
	c.post(base+"/sms", nil).wantRedirect(t, base+"/sms")
	page = c.get(base + "/sms")
	page.wantBody(t, "Once you confirm a phone here")
	code = authCode(t, page.body)
	e.text("+12025550123", code)
	c.post(base+"/sms/confirm", nil).wantRedirect(t, "/recovery-codes")
	c.post("/recovery-codes/done", nil)
	c.get("/profile").wantBody(t, "+1 202-555-0123")
}

func TestSMSEnrollmentUponLogin(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("bob", backend.RoleUser, true)
	c := e.client()
	c.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	c.get("/login/enroll").wantBody(t, "Use SMS", `action="/login/enroll/sms"`)
	// No password again at the enroll step: it was given moments ago.
	codes := c.enrollBySMS("/login/enroll", testPhone)
	if len(codes) != backend.RecoveryCodeCount {
		t.Fatalf("%d codes", len(codes))
	}
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	c.get("/profile").wantBody(t, "Enabled", testPhoneShown)
	// The status endpoint of a finished login says so rather than leak anything.
	if r := c.get("/login/enroll/sms/status"); r.StatusCode == http.StatusOK && strings.Contains(r.body, "state") {
		t.Errorf("status after the login: %d %s", r.StatusCode, r.body)
	}
}

func TestSMSEnrollmentNewCode(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	base := "/profile/two-factor"
	c.post("/profile/confirm-password", url.Values{"action": {"sms"}, "password": {testPassword}}).wantRedirect(t, base+"/sms")
	old := authCode(t, c.get(base+"/sms").body)
	// "Get a new code" replaces the old one: a text with it is ignored.
	c.post(base+"/sms/restart", nil).wantRedirect(t, base+"/sms")
	code := authCode(t, c.get(base+"/sms").body)
	if code == old {
		t.Fatal("restart kept the code")
	}
	e.text(testPhone, old)
	if got := c.smsState(base); got != "waiting" {
		t.Fatalf("the replaced code was taken: %s", got)
	}
	// A code expires after 10 minutes: the page says so and offers a new one.
	e.clock.Advance(9 * time.Minute)
	c.get(base+"/sms").wantBody(t, "Valid for 1 minute")
	e.clock.Advance(61 * time.Second)
	if got := c.smsState(base); got != "expired" {
		t.Fatalf("state %q after 10 minutes, want expired", got)
	}
	c.get(base+"/sms").wantBody(t, "expired", "Get a new code")
	e.text(testPhone, code)
	if got := c.smsState(base); got != "expired" {
		t.Fatalf("an expired code was taken: %s", got)
	}
	// A new code needs the password again by now.
	r := c.post(base+"/sms/restart", nil)
	r.wantStatus(t, http.StatusOK) // a normal step, not an error page
	r.wantBody(t, "Confirm your password", `value="sms-restart"`)
	c.post("/profile/confirm-password", url.Values{"action": {"sms-restart"}, "password": {testPassword}}).wantRedirect(t, base+"/sms")
	if again := authCode(t, c.get(base+"/sms").body); again == code {
		t.Error("the expired code is shown again")
	}
}

func TestSMSLogin(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("bob", backend.RoleUser, true)
	c := e.client()
	c.login("bob", testPassword)
	codes := c.enrollBySMS("/login/enroll", testPhone)
	c.post("/recovery-codes/done", nil)
	c.post("/logout", nil)

	c.login("bob", testPassword).wantRedirect(t, "/login/verify")
	page := c.get("/login/verify")
	page.wantBody(t, "Send code", testPhoneMasked, "Authentication code", "Verify", "Use a recovery code", `action="/login/verify/sms"`)
	if strings.Contains(page.body, "authenticator app") {
		t.Error("the SMS verify page speaks of an app")
	}
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	msgs := e.twilio.Messages()
	if len(msgs) != 1 || msgs[0].To != testPhone || msgs[0].From != smstest.PhoneNumber {
		t.Fatalf("messages sent: %+v", msgs)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msgs[0].Body)
	page = c.get("/login/verify")
	page.wantBody(t, "A code was sent to "+testPhoneMasked, "Send again", "You can ask for another code in 30 seconds", `data-wait="30"`)

	// Too early for another: the page says how long to wait, and nothing is sent.
	r := c.post("/login/verify/sms/send", nil)
	r.wantStatus(t, http.StatusTooManyRequests)
	r.wantBody(t, "You can ask for another in 30 seconds")
	if n := len(e.twilio.Messages()); n != 1 {
		t.Errorf("%d messages after a refused resend", n)
	}
	r = c.post("/login/verify/sms", url.Values{"code": {"000000"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "That code is not valid", "Send again")

	// Twilio failing is a clear message that uses nothing up.
	e.clock.Advance(31 * time.Second)
	e.twilio.FailWith(&smstest.Error{Status: 400, Code: 21614, Message: "not a mobile number"})
	r = c.post("/login/verify/sms/send", nil)
	r.wantStatus(t, http.StatusServiceUnavailable)
	r.wantBody(t, "could not be sent just now", "recovery codes")
	e.twilio.FailWith(nil)
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	if n := len(e.twilio.Messages()); n != 2 {
		t.Fatalf("%d messages after Send again, want 2", n)
	}
	// Every code sent for this login works (once): the first one signs in.
	c.post("/login/verify/sms", url.Values{"code": {code}}).wantRedirect(t, "/")
	c.get("/profile").wantStatus(t, http.StatusOK)
	c.post("/logout", nil)

	// On the next login, a code typed before "Send code" is answered so; a used code fails;
	// recovery codes still work for SMS users.
	c.login("bob", testPassword).wantRedirect(t, "/login/verify")
	r = c.post("/login/verify/sms", url.Values{"code": {code}})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "No code is waiting for you: press &#34;Send code&#34; to get one by text message.")
	e.clock.Advance(30 * time.Second)
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	c.post("/login/verify/sms", url.Values{"code": {code}}).wantStatus(t, http.StatusUnauthorized)
	c.get("/login/recovery").wantBody(t, "Use a code by text message instead")
	c.post("/login/recovery", url.Values{"code": {codes[0]}}).wantRedirect(t, "/profile")
}

func TestSMSWebhookOutsideCrossOriginProtection(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("bob", backend.RoleUser, true)
	c := e.client()
	c.login("bob", testPassword)
	c.post("/login/enroll/sms", nil)
	code := authCode(t, c.get("/login/enroll/sms").body)
	hook := e.ts.URL + sms.WebhookPath

	post := func(form url.Values, sig string, headers map[string]string) *response {
		req, _ := http.NewRequest("POST", hook, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return e.client().do(req) // no cookies: Twilio has no session
	}
	form := e.twilio.Form(smstest.Inbound{From: testPhone, Body: code})
	good := smstest.Signature(e.twilio.AuthToken, hook, form)

	// Forged: another token, a signature over another URL (the Host header's), or none.
	for name, sig := range map[string]string{
		"wrong token": smstest.Signature("AnotherToken123", hook, form),
		"other URL":   smstest.Signature(e.twilio.AuthToken, "http://evil.example"+sms.WebhookPath, form),
		"none":        "",
	} {
		r := post(form, sig, nil)
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, r.StatusCode)
		}
	}
	changed := form
	changed.Set("From", "+12025550123")
	post(changed, good, nil).wantStatus(t, http.StatusForbidden) // the body is signed too
	if got := c.smsState("/login/enroll"); got != "waiting" {
		t.Fatalf("a forged text changed the setup: %s", got)
	}
	// Too big a body is refused before anything reads it.
	big := e.twilio.Form(smstest.Inbound{From: testPhone, Body: strings.Repeat("x", 100<<10)})
	if r := post(big, smstest.Signature(e.twilio.AuthToken, hook, big), nil); r.StatusCode < 400 {
		t.Errorf("a 100 KiB body: %d", r.StatusCode)
	}

	// Signed, it passes though it comes from "another site" with no session: the webhook is
	// outside cross-origin protection (inside, this POST would be "Request refused").
	form = e.twilio.Form(smstest.Inbound{From: testPhone, Body: code})
	r := post(form, smstest.Signature(e.twilio.AuthToken, hook, form), map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://api.twilio.com"})
	r.wantStatus(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("webhook answers %q, want TwiML", ct)
	}
	if got := c.smsState("/login/enroll"); got != "received" {
		t.Fatalf("the signed text was not taken: %s", got)
	}
	// GET is not the webhook.
	if r := e.client().get(sms.WebhookPath); r.StatusCode == http.StatusOK {
		t.Error("GET on the webhook answers 200")
	}
}

func TestSMSUnavailable(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	r := c.post("/profile/two-factor/sms", nil)
	r.wantStatus(t, http.StatusServiceUnavailable)
	r.wantBody(t, "SMS is not available", "Back to the options")
	c.get("/profile/two-factor/sms").wantStatus(t, http.StatusServiceUnavailable)
	// Without SMS there is no webhook and no sandbox.
	req, _ := http.NewRequest("POST", e.ts.URL+sms.WebhookPath, strings.NewReader("MessageSid=SM1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.do(req).wantStatus(t, http.StatusNotFound)
	c.get("/sms-sandbox").wantStatus(t, http.StatusNotFound)
	if strings.Contains(c.get("/login").body, "sandbox") {
		t.Error("the sandbox bar without the sandbox")
	}
}

func TestSMSSandboxPage(t *testing.T) {
	e := newEnv(t, withSandbox)
	e.user("bob", backend.RoleUser, true)
	c := e.client()
	c.get("/login").wantBody(t, "SMS sandbox", `href="/sms-sandbox"`)
	sb := c.get("/sms-sandbox")
	sb.wantStatus(t, http.StatusOK)
	sb.wantBody(t, "SMS sandbox", "No text messages yet", "Text the System", "+1 500-555-0006", e.ts.URL+sms.WebhookPath)

	c.login("bob", testPassword)
	c.post("/login/enroll/sms", nil)
	page := c.get("/login/enroll/sms")
	code := authCode(t, page.body)
	page.wantBody(t, `href="/sms-sandbox?body=`+code+`"`)
	c.get("/sms-sandbox?body="+code).wantBody(t, ">"+code+"</textarea>")
	// The sandbox's form texts through the real webhook, signed: the setup notices.
	r := c.post("/sms-sandbox/text", url.Values{"from": {"650 253 0067"}, "body": {code}})
	r.wantRedirect(t, "/sms-sandbox")
	c.follow(r).wantBody(t, "delivered to the System", "From <strong>"+testPhoneShown+"</strong>", "200 OK")
	if got := c.smsState("/login/enroll"); got != "received" {
		t.Fatalf("state %q after the sandbox text", got)
	}
	c.post("/login/enroll/sms/confirm", nil).wantRedirect(t, "/recovery-codes")
	c.post("/recovery-codes/done", nil)
	c.post("/logout", nil)

	// Outgoing messages are listed, newest first.
	c.login("bob", testPassword)
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	c.get("/sms-sandbox").wantBody(t, "To <strong>"+testPhoneShown+"</strong>", "Your Gatehouse login code is")
	// A cross-origin post to the sandbox form is refused like any other form.
	req, _ := http.NewRequest("POST", e.ts.URL+"/sms-sandbox/text", strings.NewReader("from=%2B16502530067&body=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	c.do(req).wantStatus(t, http.StatusForbidden)
}

// TestAdminSeesSMSUserByMethod: what an administrator sees of a user enrolled with SMS is worded
// for SMS and shows the phone as the profile does; the audit log speaks plain words.
func TestAdminSeesSMSUserByMethod(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("admin", backend.RoleAdmin, false)
	alice := e.user("alice", backend.RoleUser, true)
	c := e.client()
	c.login("alice", testPassword).wantRedirect(t, "/login/enroll")
	codes := c.enrollBySMS("/login/enroll", testPhone)
	if len(codes) != 5 {
		t.Fatalf("got %d recovery codes, want 5", len(codes))
	}
	sheet := c.get("/recovery-codes")
	sheet.wantBody(t, "instead of a code from your app or text message")
	// backend's sheet, the one the desktop console saves and prints.
	if dl := c.post("/recovery-codes/download", nil); dl.body != e.svc.RecoveryCodeSheetText(&backend.RecoveryCodeSheet{Username: "alice", Codes: codes, Issued: e.clock.Now()}) || !strings.Contains(dl.body, "text message") {
		t.Errorf("download: got %q, want backend's sheet of these codes", dl.body)
	}
	c.post("/recovery-codes/done", nil)
	// Enrolled and required: "Setup Two-Factor" still moves to another phone or to the app.
	c.get("/profile").wantBody(t, `href="/profile/two-factor"`, ">Setup Two-Factor<", "move to a new phone or switch between app and SMS")

	a := e.client()
	a.signIn("admin")
	user := a.get(fmt.Sprintf("/admin/users/%d", alice.ID))
	user.wantBody(t, `<dd id="sms-phone">`+testPhoneShown+`</dd>`)
	if strings.Contains(user.body, testPhone) {
		t.Errorf("the user page shows the phone as %s, want %s", testPhone, testPhoneShown)
	}
	edit := a.get(fmt.Sprintf("/admin/users/%d/edit", alice.ID))
	edit.wantBody(t, "The phone number, any security keys or passkeys and the recovery codes of Alice Example will be removed.")
	if strings.Contains(edit.body, "The app and recovery codes") || strings.Contains(edit.body, "The authenticator app and recovery codes") {
		t.Error("the Reset Two-Factor pop-up of an SMS user speaks of an app")
	}
	a.get("/admin/users?status=enabled").wantBody(t, "1 user · page 1 of 1")
	audit := a.get("/admin/audit")
	audit.wantBody(t, backend.AuditActionText(backend.AuditTwoFactorEnrolled), backend.AuditActionText(backend.AuditSMSReceived))
	if strings.Contains(audit.body, ">"+backend.AuditTwoFactorEnrolled+"<") {
		t.Errorf("the audit log shows the identifier %s", backend.AuditTwoFactorEnrolled)
	}
}
