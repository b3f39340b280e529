package backend_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// Phones of the tests' users: valid numbers, so that phonenumbers takes them.
const (
	alicePhone = "+16502530067"
	bobPhone   = "+442079460018"
)

// smsEnv is an env whose Service sends texts through the real Twilio gateway to a fake Twilio.
type smsEnv struct {
	*env
	fake *smstest.Server
	cfg  sms.Config
}

// newSMSEnv starts a fake Twilio and a Service using it. edit changes the configuration.
func newSMSEnv(t *testing.T, edit ...func(*backend.Config)) *smsEnv {
	t.Helper()
	e := newEnvWith(t, []backendtest.Option{backendtest.WithSMS("https://gatehouse.example", func(c *sms.Config) { c.Timeout = 2 * time.Second })}, edit...)
	return &smsEnv{env: e, fake: e.h.Twilio, cfg: e.h.SMS}
}

// text delivers a text to the System Phone Number, as the webhook does after checking it.
func (e *smsEnv) text(from, body string) error {
	_, err := e.textReply(from, body)
	return err
}

// textReply is text, returning the reply to the sender.
func (e *smsEnv) textReply(from, body string) (string, error) {
	return e.svc.ReceiveSMS(ctx, backend.InboundSMS{MessageSID: smstest.NewSID("SM"), AccountSID: e.fake.AccountSID,
		From: from, To: smstest.PhoneNumber, Body: body})
}

// status returns the SMS enrollment status of id.
func (e *smsEnv) status(id *backend.Identity) *backend.SMSEnrollmentStatus {
	e.t.Helper()
	st, err := e.svc.SMSEnrollmentStatus(ctx, id)
	if err != nil {
		e.t.Fatalf("SMSEnrollmentStatus: %v", err)
	}
	return st
}

// beginSMS begins "Use SMS" for id's user (confirming the password for a session) and returns
// the Authorization Code on show.
func (e *smsEnv) beginSMS(id *backend.Identity, password string) *backend.SMSEnrollment {
	e.t.Helper()
	if id.SignedIn() {
		if err := e.svc.ConfirmPassword(ctx, id, password); err != nil {
			e.t.Fatalf("ConfirmPassword: %v", err)
		}
	}
	en, err := e.svc.BeginSMSEnrollment(ctx, id)
	if err != nil {
		e.t.Fatalf("BeginSMSEnrollment: %v", err)
	}
	return en
}

// enrollSMS enrolls id's user by text from phone (confirming the password for a session).
func (e *smsEnv) enrollSMS(id *backend.Identity, password, phone string) *backend.EnrollmentResult {
	e.t.Helper()
	en := e.beginSMS(id, password)
	if err := e.text(phone, en.Code); err != nil {
		e.t.Fatalf("ReceiveSMS: %v", err)
	}
	res, err := e.svc.ConfirmSMSEnrollment(ctx, id)
	if err != nil {
		e.t.Fatalf("ConfirmSMSEnrollment: %v", err)
	}
	return res
}

// smsUser creates a user enrolled by text from phone, and returns the recovery codes.
func (e *smsEnv) smsUser(username, phone string) []string {
	e.t.Helper()
	e.createUser(backend.NewUser{Username: username})
	return e.enrollSMS(e.signIn(username, goodPassword), goodPassword, phone).RecoveryCodes
}

var codePattern = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode returns the code in the last text the fake Twilio was asked to send, checking it went
// to phone from the System Phone Number.
func (e *smsEnv) lastCode(phone string) string {
	e.t.Helper()
	msgs := e.fake.Messages()
	if len(msgs) == 0 {
		e.t.Fatal("no text message sent")
	}
	m := msgs[len(msgs)-1]
	if m.To != phone || m.From != smstest.PhoneNumber {
		e.t.Fatalf("text message: to %s from %s; want to %s from %s", m.To, m.From, phone, smstest.PhoneNumber)
	}
	c := codePattern.FindStringSubmatch(m.Body)
	if c == nil {
		e.t.Fatalf("text message %q: no 6-digit code", m.Body)
	}
	return c[1]
}

func TestSMSAvailable(t *testing.T) {
	t.Parallel()
	off := newEnv(t)
	ok, why := off.svc.SMSAvailable()
	if ok || !strings.Contains(why, "not available") {
		t.Errorf("without SMS: SMSAvailable() = %v, %q; want false and why", ok, why)
	}
	id := off.admin
	if err := off.svc.ConfirmPassword(ctx, id, adminPassword); err != nil {
		t.Fatal(err)
	}
	_, err := off.svc.BeginSMSEnrollment(ctx, id)
	wantCode(t, "BeginSMSEnrollment without SMS", err, backend.EUNAVAILABLE)
	if got := backend.ErrorMessage(err); got != why {
		t.Errorf("BeginSMSEnrollment without SMS: message %q, want SMSAvailable's %q", got, why)
	}

	custom := newEnv(t, func(c *backend.Config) { c.SMS.Unavailable = "SMS is not available: the operator said so." })
	if ok, why := custom.svc.SMSAvailable(); ok || why != "SMS is not available: the operator said so." {
		t.Errorf("with a reason: SMSAvailable() = %v, %q", ok, why)
	}

	on := newSMSEnv(t)
	if ok, why := on.svc.SMSAvailable(); !ok || why != "" {
		t.Errorf("with SMS: SMSAvailable() = %v, %q; want true", ok, why)
	}

	// A Messaging Service without a System Phone Number can send codes, but nobody can text it.
	svcOnly := newSMSEnv(t, func(c *backend.Config) { c.SMS.From = "" })
	if ok, why := svcOnly.svc.SMSAvailable(); ok || !strings.Contains(why, "System Phone Number") {
		t.Errorf("without From: SMSAvailable() = %v, %q; want false, naming the System Phone Number", ok, why)
	}

	for _, bad := range []backend.SMSConfig{{From: "6502530000"}, {From: "+1 555"}, {DefaultRegion: "XX"}} {
		_, err := backend.New(backend.Config{Store: on.store, SecretKey: on.key, SMS: bad})
		if err == nil {
			t.Errorf("backend.New with SMS %+v: got no error", bad)
		}
	}
}

var authCodePattern = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$`)

func TestSMSEnrollment(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	u := e.createUser(backend.NewUser{Username: "alice"})
	st := e.login("alice", goodPassword, backend.StepDone)
	id := e.identity(st.SessionToken)
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPassword)

	_, err := e.svc.BeginSMSEnrollment(ctx, id)
	wantCode(t, "BeginSMSEnrollment without ConfirmPassword", err, backend.EREAUTH)
	if got := e.status(id).State; got != backend.SMSStateNone {
		t.Errorf("status before: %s, want none", got)
	}
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	id = e.identity(st.SessionToken)
	en, err := e.svc.BeginSMSEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !authCodePattern.MatchString(en.Code) {
		t.Errorf("Authorization Code %q: want two groups of five of Crockford's base32 (50 bits)", en.Code)
	}
	if en.PhoneNumber != smstest.PhoneNumber || en.PhoneDisplay != "+1 500-555-0006" {
		t.Errorf("System Phone Number: got %q (%q), want %q", en.PhoneNumber, en.PhoneDisplay, smstest.PhoneNumber)
	}
	if want := e.clock.Now().Add(10 * time.Minute); !en.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt: got %v, want %v", en.ExpiresAt, want)
	}
	if got := e.status(id); got.State != backend.SMSStateWaiting || !got.ExpiresAt.Equal(en.ExpiresAt) {
		t.Errorf("status after Begin: %+v, want waiting until %v", got, en.ExpiresAt)
	}
	_, err = e.svc.ConfirmSMSEnrollment(ctx, id)
	wantCode(t, "ConfirmSMSEnrollment before the text", err, backend.ECONFLICT)

	// A wrong code changes nothing.
	if err := e.text(alicePhone, "ABCDE-FGHJK"); err != nil {
		t.Fatal(err)
	}
	if got := e.status(id).State; got != backend.SMSStateWaiting {
		t.Errorf("status after a wrong code: %s, want waiting", got)
	}

	// The right code, typed sloppily, from a number in national format.
	e.clock.Advance(9 * time.Minute)
	sloppy := strings.ToLower(strings.ReplaceAll(en.Code, "-", " - ")) + "."
	if err := e.text("(650) 253-0067", "  "+sloppy); err != nil {
		t.Fatal(err)
	}
	got := e.status(id)
	if got.State != backend.SMSStateReceived || got.MaskedPhone != "+1 ••• ••• ••67" {
		t.Errorf("status after the text: %+v, want received from +1 ••• ••• ••67", got)
	}
	// A page reloaded now sees the same: the state is the server's.
	if again := e.status(e.identity(st.SessionToken)); *again != *got {
		t.Errorf("status after a reload: %+v, want %+v", again, got)
	}
	// The code is used: texting it again from elsewhere changes nothing.
	if err := e.text(bobPhone, en.Code); err != nil {
		t.Fatal(err)
	}
	if again := e.status(id); *again != *got {
		t.Errorf("status after the code was reused: %+v, want %+v", again, got)
	}

	res, err := e.svc.ConfirmSMSEnrollment(ctx, id)
	if err != nil {
		t.Fatalf("ConfirmSMSEnrollment: %v", err)
	}
	if len(res.RecoveryCodes) != backend.RecoveryCodeCount || res.Login != nil {
		t.Errorf("ConfirmSMSEnrollment: %d recovery codes, login %v; want %d, nil", len(res.RecoveryCodes), res.Login, backend.RecoveryCodeCount)
	}
	if got := e.user(u.ID); got.Method != backend.MethodSMS || got.SMSPhone != alicePhone || got.TwoFactorStatus() != backend.StatusEnabled {
		t.Errorf("after enrollment: method %q, phone %q, status %q; want sms, %s, Enabled", got.Method, got.SMSPhone, got.TwoFactorStatus(), alicePhone)
	}
	if got := e.status(id).State; got != backend.SMSStateNone {
		t.Errorf("status after confirming: %s, want none", got)
	}
	_, err = e.svc.ConfirmSMSEnrollment(ctx, id)
	wantCode(t, "ConfirmSMSEnrollment again", err, backend.ECONFLICT)

	for _, a := range []string{backend.AuditSMSEnrollmentStarted, backend.AuditSMSReceived, backend.AuditTwoFactorEnrolled} {
		evs := e.auditEvents(a)
		if len(evs) != 1 || evs[0].TargetName != "alice" {
			t.Errorf("audit %s: got %d events, want 1 for alice", a, len(evs))
		} else if strings.Contains(evs[0].Detail, en.Code) || strings.Contains(evs[0].Detail, alicePhone) {
			t.Errorf("audit %s: detail %q shows the code or the whole phone", a, evs[0].Detail)
		}
	}
	if d := e.auditEvents(backend.AuditTwoFactorEnrolled)[0].Detail; d != "SMS to +1 ••• ••• ••67" {
		t.Errorf("audit %s: detail %q, want SMS to +1 ••• ••• ••67", backend.AuditTwoFactorEnrolled, d)
	}
}

func TestSMSEnrollmentExpires(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	en := e.beginSMS(id, goodPassword)
	e.clock.Advance(10 * time.Minute)
	if err := e.text(alicePhone, en.Code); err != nil {
		t.Fatal(err)
	}
	if got := e.status(id).State; got != backend.SMSStateExpired {
		t.Errorf("status after a late text: %s, want expired", got)
	}
	if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.ConfirmSMSEnrollment(ctx, id)
	wantCode(t, "ConfirmSMSEnrollment after expiry", err, backend.ECONFLICT)

	// A new setup replaces the old one, whose code stays dead.
	en2, err := e.svc.BeginSMSEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.text(alicePhone, en.Code); err != nil {
		t.Fatal(err)
	}
	if got := e.status(id).State; got != backend.SMSStateWaiting {
		t.Errorf("status after the old code: %s, want waiting", got)
	}
	// Received in time, the confirmation has 10 minutes of its own.
	e.clock.Advance(9 * time.Minute)
	if err := e.text(alicePhone, en2.Code); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	if got := e.status(id).State; got != backend.SMSStateExpired {
		t.Errorf("status 10 minutes after the text: %s, want expired", got)
	}
	if got := e.user(id.User.ID); got.Method != backend.MethodNone {
		t.Errorf("method: got %q, want none", got.Method)
	}
}

// TestSMSEnrollmentAtLogin: a user required to enroll does it by text at the enroll step, and is
// signed in by the confirmation.
func TestSMSEnrollmentAtLogin(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice", RequireTwoFactor: true})
	st := e.login("alice", goodPassword, backend.StepEnroll)
	id, err := e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginSMSEnrollment(ctx, id) // no password confirmation: it was just given
	if err != nil {
		t.Fatal(err)
	}
	if err := e.text(alicePhone, en.Code); err != nil {
		t.Fatal(err)
	}
	// The page reloads: a new identity from the same attempt sees the text.
	id, err = e.svc.EnrollmentIdentity(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.status(id); got.State != backend.SMSStateReceived {
		t.Fatalf("status at the enroll step: %+v, want received", got)
	}
	res, err := e.svc.ConfirmSMSEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Login == nil || res.Login.Step != backend.StepDone || res.Login.SessionToken == "" {
		t.Fatalf("ConfirmSMSEnrollment at login: %+v, want signed in", res.Login)
	}
	_, err = e.svc.SMSEnrollmentStatus(ctx, nil)
	wantCode(t, "SMSEnrollmentStatus(nil)", err, backend.EUNAUTHORIZED)
}

// TestConfirmSMSEnrollmentDoubleSubmit: of 8 confirmations at once, one enables two-factor, and
// its recovery codes are the ones that work.
func TestConfirmSMSEnrollmentDoubleSubmit(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, generousLockout)
	for round := range 3 {
		username := fmt.Sprintf("alice%d", round)
		e.createUser(backend.NewUser{Username: username})
		id := e.signIn(username, goodPassword)
		if err := e.svc.ConfirmPassword(ctx, id, goodPassword); err != nil {
			t.Fatal(err)
		}
		en, err := e.svc.BeginSMSEnrollment(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.text(alicePhone, en.Code); err != nil {
			t.Fatal(err)
		}
		results := make([]*backend.EnrollmentResult, 8)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range results {
			wg.Go(func() {
				<-start
				results[i], _ = e.svc.ConfirmSMSEnrollment(ctx, id)
			})
		}
		close(start)
		wg.Wait()
		shown, void := 0, 0
		for _, res := range results {
			if res == nil {
				continue
			}
			shown++
			st := e.login(username, goodPassword, backend.StepVerify)
			if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, res.RecoveryCodes[4]); err != nil {
				void++
			}
		}
		if shown != 1 || void != 0 {
			t.Errorf("round %d: successful confirmations: got %d, of which %d showed codes that do not work; want 1 with working codes", round, shown, void)
		}
	}
}

// TestReceiveSMSRefused: texts that are not for this system, retried deliveries, senders over
// their limit and senders that are not phone numbers change nothing.
func TestReceiveSMSRefused(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	en := e.beginSMS(id, goodPassword)
	waiting := func(what string) {
		t.Helper()
		if got := e.status(id).State; got != backend.SMSStateWaiting {
			t.Fatalf("after %s: status %s, want waiting", what, got)
		}
	}
	in := backend.InboundSMS{MessageSID: "SM1", AccountSID: e.fake.AccountSID, From: alicePhone, To: smstest.PhoneNumber, Body: en.Code}

	receive := func(m backend.InboundSMS) error { _, err := e.svc.ReceiveSMS(ctx, m); return err }
	other := in
	other.AccountSID = "ACother"
	wantCode(t, "another account", receive(other), backend.EFORBIDDEN)
	other = in
	other.To = "+16502530000"
	wantCode(t, "another To", receive(other), backend.EFORBIDDEN)
	other = in
	other.MessageSID = ""
	wantCode(t, "no MessageSid", receive(other), backend.EINVALID)
	waiting("refused texts")

	wantReply := func(what, want string, reply string, err error) {
		t.Helper()
		if err != nil || reply != want {
			t.Errorf("%s: reply %q, %v; want %q", what, reply, err, want)
		}
	}
	// A MessageSid seen once is ignored, whatever the second delivery says.
	wrong := in
	wrong.Body = "hello"
	reply, err := e.svc.ReceiveSMS(ctx, wrong)
	wantReply("a text without a code", "", reply, err)
	reply, err = e.svc.ReceiveSMS(ctx, in)
	wantReply("a duplicate MessageSid", "", reply, err)
	waiting("a duplicate MessageSid")

	// No sender at all: ignored (one that is no phone number: TestRefusedSenderStopsTheWait).
	reply, err = e.textReply(" ", en.Code)
	wantReply("a text with no sender", "", reply, err)
	waiting("a text with no sender")

	// 10 texts an hour per sender, each told when the code is wrong; the 11th is not even
	// matched, nor answered.
	for i := range 9 { // the duplicate above was the first
		reply, err := e.textReply(alicePhone, fmt.Sprintf("ABCDE-FGH%02d", i))
		wantReply(fmt.Sprintf("guess %d", i), backend.SMSReplyWrong, reply, err)
	}
	reply, err = e.textReply(alicePhone, en.Code)
	wantReply("the 11th text of a sender in an hour", "", reply, err)
	waiting("the 11th text of a sender in an hour")
	reply, err = e.textReply(bobPhone, en.Code)
	wantReply("the right code from another sender", backend.SMSReplyReceived, reply, err)
	if got := e.status(id); got.State != backend.SMSStateReceived || got.MaskedPhone != "+44 •• •••• ••18" {
		t.Errorf("status after a text from another sender: %+v, want received from +44 •• •••• ••18", got)
	}
	reply, err = e.textReply(bobPhone, en.Code)
	wantReply("the used code again", backend.SMSReplyWrong, reply, err)

	// Without SMS, the Service takes no text.
	off, err := backend.New(backend.Config{Store: e.store, SecretKey: e.key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = off.ReceiveSMS(ctx, in)
	wantCode(t, "ReceiveSMS without SMS", err, backend.EUNAVAILABLE)
}

// TestReceiveSMSCapPerPhone pins issue 9 (the SMS hourly cap): the cap counted raw From
// strings, so one phone written ten ways got ten times the guesses. It counts the number in
// E.164 form: the 11th text of an hour from one phone is not matched, however it is written.
func TestReceiveSMSCapPerPhone(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	en := e.beginSMS(id, goodPassword)
	spellings := []string{"+16502530067", "+1 650 253 0067", "(650) 253-0067", "650.253.0067", "+1-650-253-0067"}
	for i := range 10 {
		reply, err := e.textReply(spellings[i%len(spellings)], fmt.Sprintf("ABCDE-FGH%02d", i))
		if err != nil || reply != backend.SMSReplyWrong {
			t.Fatalf("guess %d: reply %q, %v; want %q", i, reply, err, backend.SMSReplyWrong)
		}
	}
	for _, from := range spellings {
		if reply, err := e.textReply(from, en.Code); err != nil || reply != "" {
			t.Errorf("the right code from %q after 10 texts from that phone: reply %q, %v; want no reply", from, reply, err)
		}
	}
	if got := e.status(id).State; got != backend.SMSStateWaiting {
		t.Errorf("status: %s, want waiting (the code was not taken)", got)
	}
	// The texts were counted, and the number is nowhere in the store (L3): only its keyed hash.
	if _, found := e.dbBytes("+16502530067"); found {
		t.Error("the store holds the sender's number +16502530067")
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"+16502530000", "US", "+16502530000"},
		{"+1 650-253-0000", "US", "+16502530000"},
		{"(650) 253-0000", "US", "+16502530000"},
		{"650.253.0000", "US", "+16502530000"},
		{"  650 253 0000 ", "US", "+16502530000"},
		{"650 253 0000", "", ""}, // no region: a national number cannot be read
		{"1 650 253 0000", "US", "+16502530000"},
		{"011 44 20 7946 0018", "US", "+442079460018"}, // dialled from the US
		{"020 7946 0018", "GB", "+442079460018"},
		{"020 7946 0018", "gb", "+442079460018"},
		{"+44 (0)20 7946 0018", "US", "+442079460018"},
		{"00 44 20 7946 0018", "DE", "+442079460018"},
		{"07400 123456", "GB", "+447400123456"},
		{"030 901820", "DE", "+4930901820"},
		{"+4930901820", "US", "+4930901820"},
		{"", "US", ""},
		{"12", "US", ""},
		{"abc", "US", ""},
		{"+1 555 0100", "US", ""},       // too short
		{"+15555550123", "US", ""},      // 555 is no area code
		{"+999 12345678", "US", ""},     // no such country code
		{"6502530000", "GB", ""},        // not a British number
		{"+1650253000000000", "US", ""}, // too long
	} {
		got, err := backend.NormalizePhone(tc.in, tc.region)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.in, tc.region, got, err, tc.want)
		}
		if err != nil {
			wantCode(t, "NormalizePhone("+tc.in+")", err, backend.EINVALID)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+16502530067":  "+1 ••• ••• ••67",
		"+442079460018": "+44 •• •••• ••18",
		"+447400123456": "+44 •••• ••••56",
		"+4930901820":   "+49 •• ••••20",
		"nonsense":      "•••",
	} {
		if got := backend.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSMSLogin(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	codes := e.smsUser("alice", alicePhone)

	st := e.login("alice", goodPassword, backend.StepVerify)
	sent, err := e.svc.SendSMSCode(ctx, st.AttemptToken)
	if err != nil {
		t.Fatalf("SendSMSCode: %v", err)
	}
	now := e.clock.Now()
	if sent.MaskedPhone != "+1 ••• ••• ••67" || !sent.ExpiresAt.Equal(now.Add(10*time.Minute)) || !sent.ResendAt.Equal(now.Add(30*time.Second)) {
		t.Errorf("SendSMSCode: %+v", sent)
	}
	code := e.lastCode(alicePhone)

	_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, "")
	wantCode(t, "an empty code", err, backend.EINVALID)
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, wrong)
	wantCode(t, "a wrong code", err, backend.EUNAUTHORIZED)
	_, err = e.svc.VerifyTOTP(ctx, st.AttemptToken, code)
	wantCode(t, "the code as a TOTP code", err, backend.EINVALID)

	done, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, code[:3]+" "+code[3:])
	if err != nil || done.Step != backend.StepDone || done.SessionToken == "" {
		t.Fatalf("VerifySMSCode with the right code: %+v, %v; want signed in", done, err)
	}
	// Used: not on this attempt (it has ended), nor on a new one.
	_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, code)
	wantEnded(t, "the code on its ended attempt", err)
	e.clock.Advance(time.Minute)
	st = e.login("alice", goodPassword, backend.StepVerify)
	_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, code)
	wantNoSMSCode(t, "the code on a new attempt, which has sent none", err)

	// Recovery codes keep working for SMS users.
	if done, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, codes[0]); err != nil || done.Step != backend.StepDone {
		t.Errorf("VerifyRecoveryCode for an SMS user: %v", err)
	}

	for _, a := range []string{backend.AuditSMSCodeSent, backend.AuditLoginSuccess} {
		for _, ev := range e.auditEvents(a) {
			if strings.Contains(ev.Detail, code) {
				t.Errorf("audit %s: detail %q shows the code", a, ev.Detail)
			}
		}
	}
	if evs := e.auditEvents(backend.AuditSMSCodeSent); len(evs) != 1 || evs[0].Detail != "to +1 ••• ••• ••67" {
		t.Errorf("audit %s: %d events; want 1, to the masked phone", backend.AuditSMSCodeSent, len(evs))
	}
	if evs := e.auditEvents(backend.AuditLoginSuccess); evs[1].Detail != "password and text message code" {
		t.Errorf("audit %s: %q, want password and text message code", backend.AuditLoginSuccess, evs[1].Detail)
	}
	if n := len(e.auditEvents(backend.AuditRecoveryCodeUsed)); n != 1 {
		t.Errorf("audit %s: %d events, want 1", backend.AuditRecoveryCodeUsed, n)
	}
}

// wantNoSMSCode checks that err says no text message code is waiting.
func wantNoSMSCode(t *testing.T, what string, err error) {
	t.Helper()
	const want = `No code is waiting for you: press "Send code" to get one by text message.`
	if backend.ErrorCode(err) != backend.EINVALID || backend.ErrorMessage(err) != want {
		t.Errorf("%s: got %v, want invalid %q", what, err, want)
	}
}

// TestSMSCodeNotSent: a text message code typed before any was sent, or after the last one
// expired or was used, is answered so, and is not counted as a failure.
func TestSMSCodeNotSent(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.smsUser("alice", alicePhone)
	st := e.login("alice", goodPassword, backend.StepVerify)
	failures0 := len(e.auditEvents(backend.AuditSecondFactorFailure))
	for i := range 20 { // twice the lockout's limit
		_, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, fmt.Sprintf("%06d", i))
		wantNoSMSCode(t, "a code before Send code", err)
	}
	if n := len(e.auditEvents(backend.AuditSecondFactorFailure)) - failures0; n != 0 {
		t.Errorf("second-factor failures audited: %d, want 0", n)
	}
	// Nothing was charged: the code sent now still signs alice in.
	if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	if done, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, e.lastCode(alicePhone)); err != nil || done.Step != backend.StepDone {
		t.Errorf("the code sent after 20 tries without one: %+v, %v; want signed in", done, err)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// TestSMSCodeBoundToAttempt: a code sent for one login attempt is refused on another of the
// same user, and still works on its own.
func TestSMSCodeBoundToAttempt(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, generousLockout)
	e.smsUser("alice", alicePhone)
	a := e.login("alice", goodPassword, backend.StepVerify)
	b := e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.SendSMSCode(ctx, a.AttemptToken); err != nil {
		t.Fatal(err)
	}
	codeA := e.lastCode(alicePhone)
	_, err := e.svc.VerifySMSCode(ctx, b.AttemptToken, codeA)
	wantNoSMSCode(t, "attempt A's code on attempt B, which has sent none", err)
	e.clock.Advance(30 * time.Second) // the resend cooldown is the user's
	if _, err := e.svc.SendSMSCode(ctx, b.AttemptToken); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.VerifySMSCode(ctx, b.AttemptToken, codeA)
	wantCode(t, "attempt A's code on attempt B, with a code of its own", err, backend.EUNAUTHORIZED)
	if _, err := e.svc.VerifySMSCode(ctx, a.AttemptToken, codeA); err != nil {
		t.Errorf("attempt A's code on attempt A: %v", err)
	}
}

// TestSMSCodeExpires: a code is refused from 10 minutes after it was sent, by the fake clock.
func TestSMSCodeExpires(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, generousLockout, func(c *backend.Config) { c.AttemptTTL = time.Hour })
	e.smsUser("alice", alicePhone)
	st := e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	old := e.lastCode(alicePhone)
	e.clock.Advance(10 * time.Minute)
	_, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, old)
	wantNoSMSCode(t, "a code 10 minutes old", err)

	if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(alicePhone)
	e.clock.Advance(10*time.Minute - time.Second)
	if _, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, code); err != nil {
		t.Errorf("a code 9:59 old: %v", err)
	}
}

// TestSMSCodeLimits: resend after 30 seconds, 5 an hour per user; resending does not reset the
// failure counter, and SMS failures count in the account's lockout with the password's.
func TestSMSCodeLimits(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, func(c *backend.Config) {
		c.Lockout = backend.LockoutPolicy{FreeFailures: 100, MaxFailures: 6}
		c.AttemptTTL = 2 * time.Hour
	})
	e.smsUser("alice", alicePhone)
	e.failLogins("alice", 1)                                 // failure 1: a wrong password
	st := e.login("alice", goodPassword, backend.StepVerify) // 2: the password step counts until the login succeeds
	send := func() error {
		_, err := e.svc.SendSMSCode(ctx, st.AttemptToken)
		return err
	}
	wrongCode := func(what string) {
		t.Helper()
		_, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, "000000")
		wantCode(t, what, err, backend.EUNAUTHORIZED)
	}

	t1 := e.clock.Now()
	if err := send(); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(29 * time.Second)
	err := send()
	wantCode(t, "a resend after 29 s", err, backend.ETOOMANY)
	if msg := backend.ErrorMessage(err); !strings.Contains(msg, "in 1 second.") {
		t.Errorf("cooldown message: %q, want it to say 1 second", msg)
	}
	wrongCode("a wrong code") // 3
	e.clock.Advance(time.Second)
	if err := send(); err != nil {
		t.Fatalf("a resend after 30 s: %v", err)
	}
	wrongCode("a wrong code after a resend") // 4: the resend reset nothing
	for i := range 3 {
		e.clock.Advance(30 * time.Second)
		if err := send(); err != nil {
			t.Fatalf("send %d: %v", i+3, err)
		}
	}
	e.clock.Advance(time.Minute)
	err = send()
	wantCode(t, "a 6th code in the hour", err, backend.ETOOMANY)
	if msg := backend.ErrorMessage(err); !strings.Contains(msg, "this hour") {
		t.Errorf("hourly cap message: %q", msg)
	}
	if n := len(e.fake.Messages()); n != 5 {
		t.Errorf("texts sent: %d, want 5", n)
	}
	wrongCode("a wrong code") // 5
	wrongCode("a wrong code") // 6: locks
	_, err = e.svc.VerifySMSCode(ctx, st.AttemptToken, e.lastCode(alicePhone))
	wantCode(t, "the right code once locked", err, backend.ETOOMANY)
	if n := len(e.auditEvents(backend.AuditAccountLocked)); n != 1 {
		t.Errorf("audit %s: %d events, want 1", backend.AuditAccountLocked, n)
	}

	// An hour after the first code, a place is free again.
	e.clock.Advance(t1.Add(time.Hour).Sub(e.clock.Now()))
	if err := send(); err != nil {
		t.Errorf("an hour after the first code: %v", err)
	}
	if n := len(e.auditEvents(backend.AuditSMSCodeLimited)); n != 2 {
		t.Errorf("audit %s: %d events, want 2", backend.AuditSMSCodeLimited, n)
	}
}

// TestSendSMSCodeFailure: when Twilio refuses or does not answer, the user gets a clear
// EUNAVAILABLE, nothing is used up (no cooldown, no place in the hourly cap), and nobody is
// signed in.
func TestSendSMSCodeFailure(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	gw, err := sms.NewGateway(sms.Config{AccountSID: e.fake.AccountSID, AuthToken: e.fake.AuthToken, From: smstest.PhoneNumber,
		PublicURL: "https://gatehouse.example", APIURL: e.fake.URL, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = backend.New(backend.Config{Store: e.store, SecretKey: e.key, Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		Passwords: backend.PasswordPolicy{Argon2: cheapArgon2}, SMS: e.cfg.Backend(gw)})
	if err != nil {
		t.Fatal(err)
	}
	e.smsUser("alice", alicePhone)
	st := e.login("alice", goodPassword, backend.StepVerify)

	for _, tc := range []struct {
		name  string
		setup func()
	}{
		{"twilio error", func() {
			e.fake.FailWith(&smstest.Error{Status: 400, Code: 21610, Message: "Attempt to send to unsubscribed recipient", MoreInfo: "https://www.twilio.com/docs/errors/21610"})
		}},
		{"twilio server error", func() {
			e.fake.FailWith(&smstest.Error{Status: 503, Code: 20503, Message: "Service Unavailable"})
		}},
		{"timeout", func() { e.fake.Hang(5 * time.Second) }},
	} {
		tc.setup()
		start := time.Now()
		_, err := e.svc.SendSMSCode(ctx, st.AttemptToken)
		wantCode(t, tc.name, err, backend.EUNAVAILABLE)
		if msg := backend.ErrorMessage(err); !strings.Contains(msg, "could not be sent") {
			t.Errorf("%s: message %q, want a clear sentence", tc.name, msg)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: SendSMSCode took %v, want about the 200 ms timeout", tc.name, d)
		}
		e.fake.FailWith(nil)
		e.fake.Hang(0)
		if s, err := e.svc.ResumeLogin(ctx, st.AttemptToken); err != nil || s.Step != backend.StepVerify {
			t.Errorf("%s: the attempt after a failed send: %+v, %v; want still at verify", tc.name, s, err)
		}
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("texts recorded: %d, want 0", n)
	}
	if !strings.Contains(e.logs.String(), "21610") || !strings.Contains(e.logs.String(), "did not answer") {
		t.Errorf("log: want Twilio's error code and the timeout; got:\n%s", e.logs.String())
	}
	if n := len(e.auditEvents(backend.AuditSMSCodeFailed)); n != 3 {
		t.Errorf("audit %s: %d events, want 3", backend.AuditSMSCodeFailed, n)
	}

	// Nothing was used up: a code can be sent at once, five times in the hour.
	for i := range 5 {
		if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
			t.Fatalf("send %d after the failures: %v", i+1, err)
		}
		e.clock.Advance(30 * time.Second)
	}
	if _, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, e.lastCode(alicePhone)); err != nil {
		t.Errorf("VerifySMSCode after the failures: %v", err)
	}
}

// TestSMSUnavailableAtLogin: an SMS user of a server without SMS gets EUNAVAILABLE for "Send
// code" and signs in with a recovery code.
func TestSMSUnavailableAtLogin(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	codes := e.smsUser("alice", alicePhone)
	var err error
	e.svc, err = backend.New(backend.Config{Store: e.store, SecretKey: e.key, Now: e.clock.Now, Passwords: backend.PasswordPolicy{Argon2: cheapArgon2}})
	if err != nil {
		t.Fatal(err)
	}
	st := e.login("alice", goodPassword, backend.StepVerify)
	_, err = e.svc.SendSMSCode(ctx, st.AttemptToken)
	wantCode(t, "SendSMSCode without SMS", err, backend.EUNAVAILABLE)
	if _, err := e.svc.VerifyRecoveryCode(ctx, st.AttemptToken, codes[1]); err != nil {
		t.Errorf("VerifyRecoveryCode: %v", err)
	}

	// An app user has no SMS codes.
	on := newSMSEnv(t)
	on.enrolledUser("bob")
	st = on.login("bob", goodPassword, backend.StepVerify)
	_, err = on.svc.SendSMSCode(ctx, st.AttemptToken)
	wantCode(t, "SendSMSCode for an app user", err, backend.EINVALID)
	_, err = on.svc.VerifySMSCode(ctx, st.AttemptToken, "123456")
	wantCode(t, "VerifySMSCode for an app user", err, backend.EINVALID)
	_, err = on.svc.SendSMSCode(ctx, "no such attempt")
	wantEnded(t, "SendSMSCode on no attempt", err)
}

// TestSMSCodeConcurrent: the right code submitted 20 times at once signs in once.
func TestSMSCodeConcurrent(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, generousLockout)
	e.smsUser("alice", alicePhone)
	st := e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(alicePhone)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			if s, err := e.svc.VerifySMSCode(ctx, st.AttemptToken, code); err == nil && s.SessionToken != "" {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("sign-ins with one code from 20 goroutines: %d, want 1", wins)
	}
}

// TestSMSCodesNotAtRest: neither the Authorization Code nor a login code is in the database
// files or the logs.
func TestSMSCodesNotAtRest(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	en := e.beginSMS(id, goodPassword)
	if err := e.text(alicePhone, en.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmSMSEnrollment(ctx, id); err != nil {
		t.Fatal(err)
	}
	st := e.login("alice", goodPassword, backend.StepVerify)
	if _, err := e.svc.SendSMSCode(ctx, st.AttemptToken); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(alicePhone)
	secrets := []string{en.Code, strings.ReplaceAll(en.Code, "-", ""), code}
	for name, b := range e.h.Contents() {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%q found in %s", s, name)
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("%q found in the logs", s)
		}
	}
}

// TestSMSSetupBelongsToItsSession pins issue 9 F4 (the SMS half): an SMS setup belongs to the
// session that began it. Another session of the same user sees no setup, neither while the
// code waits nor once a text with it has arrived (here from someone else's phone), and cannot
// confirm that number even with its password confirmed; the session that began it sees the
// masked number, and could confirm or refuse it.
func TestSMSSetupBelongsToItsSession(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	u := e.createUser(backend.NewUser{Username: "alice"})
	owner := e.signIn("alice", goodPassword)
	if err := e.svc.ConfirmPassword(ctx, owner, goodPassword); err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.BeginSMSEnrollment(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	other := e.signIn("alice", goodPassword)
	if got := e.status(other); got.State != backend.SMSStateNone || got.Setup != nil {
		t.Errorf("another session's status while the code waits: %+v, want none", got)
	}
	if got := e.status(owner); got.State != backend.SMSStateWaiting || got.Setup == nil || *got.Setup != *en {
		t.Errorf("the owner's status while the code waits: %+v, want waiting with the code %+v", got, en)
	}
	if err := e.text(bobPhone, en.Code); err != nil {
		t.Fatal(err)
	}
	if got := e.status(other); got.State != backend.SMSStateNone || got.MaskedPhone != "" {
		t.Errorf("another session's status after the text: %+v, want none", got)
	}
	if err := e.svc.ConfirmPassword(ctx, other, goodPassword); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ConfirmSMSEnrollment(ctx, other)
	wantCode(t, "ConfirmSMSEnrollment by another session", err, backend.ECONFLICT)
	if got := e.user(u.ID); got.Method != backend.MethodNone || got.SMSPhone != "" {
		t.Fatalf("after another session's confirmation: method %q, phone %q; want none", got.Method, got.SMSPhone)
	}
	if got := e.status(owner); got.State != backend.SMSStateReceived || got.MaskedPhone != backend.MaskPhone(bobPhone) {
		t.Errorf("the owner's status: %+v, want received from %s", got, backend.MaskPhone(bobPhone))
	}
}

// TestSetupsSurviveRestart: a setup in progress is in the store, so a restarted Service (or a
// second one on the same database file) carries on where the person was: the same key and QR
// code for the app, the same Authorization Code for SMS, then the text and the confirmations.
func TestSetupsSurviveRestart(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	e.createUser(backend.NewUser{Username: "bob", RequireTwoFactor: true})
	session := e.login("alice", goodPassword, backend.StepDone).SessionToken
	if err := e.svc.ConfirmPassword(ctx, e.identity(session), goodPassword); err != nil {
		t.Fatal(err)
	}
	app, err := e.svc.BeginAppEnrollment(ctx, e.identity(session))
	if err != nil {
		t.Fatal(err)
	}
	attempt := e.login("bob", goodPassword, backend.StepEnroll).AttemptToken
	id, err := e.svc.EnrollmentIdentity(ctx, attempt)
	if err != nil {
		t.Fatal(err)
	}
	sms, err := e.svc.BeginSMSEnrollment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	svc := e.restarted()
	alice, err := svc.Authenticate(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.ResumeAppEnrollment(ctx, alice)
	if err != nil || again.Key != app.Key || !bytes.Equal(again.QRCodePNG, app.QRCodePNG) {
		t.Fatalf("ResumeAppEnrollment after a restart: %v; want key %s and the same QR code", err, app.Key)
	}
	if _, err := svc.ConfirmAppEnrollment(ctx, alice, totpCode(t, decodeKey(t, again.Key), e.clock.Now())); err != nil {
		t.Fatalf("ConfirmAppEnrollment after a restart: %v", err)
	}

	bob, err := svc.EnrollmentIdentity(ctx, attempt)
	if err != nil {
		t.Fatal(err)
	}
	st, err := svc.SMSEnrollmentStatus(ctx, bob)
	if err != nil || st.State != backend.SMSStateWaiting || st.Setup == nil || *st.Setup != *sms {
		t.Fatalf("SMSEnrollmentStatus after a restart: %+v, %v; want waiting with %+v", st, err, sms)
	}
	if _, err := svc.ReceiveSMS(ctx, backend.InboundSMS{MessageSID: smstest.NewSID("SM"), AccountSID: e.fake.AccountSID,
		From: alicePhone, To: smstest.PhoneNumber, Body: st.Setup.Code}); err != nil {
		t.Fatal(err)
	}
	res, err := e.restarted().ConfirmSMSEnrollment(ctx, bob)
	if err != nil || res.Login == nil || res.Login.Step != backend.StepDone {
		t.Fatalf("ConfirmSMSEnrollment after another restart: %+v, %v; want signed in", res, err)
	}
}

// TestSMSCodeState: the verify page's "A code was sent … Send again after …" comes from the
// codes sent for the login attempt, so a restarted Service, or another over the same file,
// says the same; another attempt of the same user has sent none; an expired code is no longer
// shown as sent.
func TestSMSCodeState(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t, func(c *backend.Config) { c.AttemptTTL = time.Hour }) // the code ends first
	e.smsUser("alice", alicePhone)
	st := e.login("alice", goodPassword, backend.StepVerify)
	if sent, err := e.svc.SMSCodeState(ctx, st.AttemptToken); err != nil || sent != nil {
		t.Fatalf("SMSCodeState before sending = %+v, %v; want nil", sent, err)
	}
	sent, err := e.svc.SendSMSCode(ctx, st.AttemptToken)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.restarted().SMSCodeState(ctx, st.AttemptToken)
	if err != nil || got == nil || *got != *sent {
		t.Errorf("SMSCodeState on a restarted Service = %+v, %v; want %+v", got, err, sent)
	}
	other := e.login("alice", goodPassword, backend.StepVerify)
	if got, err := e.svc.SMSCodeState(ctx, other.AttemptToken); err != nil || got != nil {
		t.Errorf("SMSCodeState of another attempt = %+v, %v; want nil", got, err)
	}
	e.clock.Advance(10 * time.Minute)
	if got, err := e.svc.SMSCodeState(ctx, st.AttemptToken); err != nil || got != nil {
		t.Errorf("SMSCodeState after the code expired = %+v, %v; want nil", got, err)
	}
	_, err = e.svc.SMSCodeState(ctx, "no such attempt")
	wantEnded(t, "SMSCodeState of no attempt", err)
}
