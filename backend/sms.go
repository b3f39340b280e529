package backend

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// SMSSender sends a text message. backend/sms implements it over Twilio's Messages API; the
// Service knows no more about Twilio than this.
type SMSSender interface {
	// SendSMS sends body to the E.164 number to. An error means the message may not have been
	// sent; it should say why, for the log (it is never shown to users as is).
	SendSMS(ctx context.Context, to, body string) error
}

// SMSConfig is the SMS part of Config. The zero value turns SMS off: "Use SMS" then says why
// (Unavailable), and everything else works.
type SMSConfig struct {
	Sender SMSSender // nil: SMS is off
	// From is the System Phone Number in E.164 form: the number users text their Authorization
	// Code to, and the To of every inbound text we accept. Without it, enrollment by text is
	// not available (login codes can still be sent through Sender).
	From string
	// AccountSID is the Twilio account every inbound text must carry.
	AccountSID string
	// DefaultRegion reads numbers without a country code (ISO 3166, e.g. "US", the default).
	DefaultRegion string
	// Unavailable is why SMS is off when Sender is nil, as a sentence for the "Use SMS" page.
	Unavailable string
}

// SMS policy. The numbers are the issue's: codes live 10 minutes; a login code can be resent
// after 30 seconds (per login attempt), at most 5 times an hour per user.
const (
	smsCodeTTL        = 10 * time.Minute
	smsResendCooldown = 30 * time.Second
	smsCodesPerHour   = 5
	smsCodeDigits     = 6
	// smsInboundPerHour bounds the texts one sender may have matched against Authorization
	// Codes in an hour: together with the codes' 50 bits it makes guessing by text useless.
	smsInboundPerHour = 10
	// smsInboundKeep is how long an inbound MessageSid is remembered (Twilio retries within
	// minutes) and sent codes are kept for the hourly cap.
	smsInboundKeep = 24 * time.Hour
)

// The Authorization Code of an enrollment by text: Crockford's base32 (no I, L, O, U), 10
// characters, 50 bits. It is texted to us, so it must survive autocorrect and sloppy typing:
// case, spaces, hyphens and punctuation are ignored and O, I and L read as 0, 1 and 1.
const authCodeLength = 10

// smsSettings is the checked SMSConfig.
type smsSettings struct {
	sender      SMSSender
	from        string // E.164, or ""
	accountSID  string
	region      string
	unavailable string
}

func newSMSSettings(c SMSConfig) (smsSettings, error) {
	st := smsSettings{sender: c.Sender, accountSID: c.AccountSID, region: strings.ToUpper(c.DefaultRegion), unavailable: c.Unavailable}
	if st.region == "" {
		st.region = DefaultPhoneRegion
	}
	if !validRegion(st.region) {
		return st, fmt.Errorf("backend: SMS default region %q is not a known region code (e.g. US, GB)", c.DefaultRegion)
	}
	if c.From != "" {
		from, err := NormalizePhone(c.From, "")
		if err != nil || !strings.HasPrefix(strings.TrimSpace(c.From), "+") {
			return st, fmt.Errorf("backend: the System Phone Number %q is not an E.164 phone number (+ and country code)", c.From)
		}
		st.from = from
	}
	return st, nil
}

// SMSAvailable reports whether enrollment by text works, and if not, why: a sentence for the
// "Use SMS" page, which then offers nothing else.
func (s *Service) SMSAvailable() (bool, string) {
	switch {
	case s.sms.sender == nil && s.sms.unavailable != "":
		return false, s.sms.unavailable
	case s.sms.sender == nil:
		return false, "SMS is not available: text messaging is not set up on this server. " + s.smsInstead()
	case s.sms.from == "" || s.sms.accountSID == "":
		return false, "SMS is not available: this server has no System Phone Number to text the Authorization Code to. " + s.smsInstead()
	}
	return true, ""
}

// smsInstead is what SMSAvailable's sentence offers instead of SMS: the other ways this
// server has (keys only where they work).
func (s *Service) smsInstead() string {
	if s.KeysAvailable() {
		return "Use an authenticator app or a security key instead, or ask your administrator."
	}
	return "Use an authenticator app instead, or ask your administrator."
}

func (s *Service) requireSMS() error {
	if ok, why := s.SMSAvailable(); !ok {
		return Errorf(EUNAVAILABLE, "%s", why)
	}
	return nil
}

// SystemPhoneNumber is the number users text their Authorization Code to (E.164), or "".
func (s *Service) SystemPhoneNumber() string { return s.sms.from }

// newCodeKey derives the key that hashes SMS codes from the server key. SMS codes are short (a
// login code has 20 bits), so a plain hash in a stolen database would be reversed at once; a
// keyed hash is useless without the server key, which is not in the database.
func newCodeKey(secretKey []byte) []byte {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte("gatehouse sms code key"))
	return m.Sum(nil)
}

// hashSMSCode is the stored form of an SMS code: HMAC-SHA256 under the code key, over what the
// code is for (purpose), what it is bound to (bind) and the code itself.
func (s *Service) hashSMSCode(purpose, bind, code string) string {
	m := hmac.New(sha256.New, s.codeKey)
	fmt.Fprintf(m, "%s\x00%s\x00%s", purpose, bind, code)
	return hex.EncodeToString(m.Sum(nil))
}

// newAuthCode returns a fresh Authorization Code, grouped for reading (7KQ4X-W2PD9).
func newAuthCode() (shown, canonical string) {
	b := make([]byte, authCodeLength)
	rand.Read(b)
	for i := range b {
		b[i] = recoveryAlphabet[b[i]&31] // 256 is a multiple of 32: uniform
	}
	return string(b[:5]) + "-" + string(b[5:]), string(b)
}

// normalizeAuthCode reads an Authorization Code out of a text message body; "" if the body
// cannot be one.
func normalizeAuthCode(body string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(body) {
		switch {
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		case !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			continue // spaces, hyphens, punctuation
		case !strings.ContainsRune(recoveryAlphabet, r):
			return ""
		}
		b.WriteRune(r)
	}
	if b.Len() != authCodeLength {
		return ""
	}
	return b.String()
}

// SMSEnrollment is what the "Use SMS" page shows: text Code to PhoneNumber before ExpiresAt.
type SMSEnrollment struct {
	Code         string    // the Authorization Code, e.g. "7KQ4X-W2PD9"; stored hashed and sealed
	PhoneNumber  string    // the System Phone Number, E.164 (for sms: links)
	PhoneDisplay string    // the same, for reading: "+1 650-253-0000"
	ExpiresAt    time.Time // the code is refused after this
}

// authCodeAD binds a sealed Authorization Code to its user and the owner of its setup.
func authCodeAD(userID int64, owner string) []byte {
	return fmt.Appendf(nil, "gatehouse sms authorization code user %d owner %s", userID, owner)
}

// BeginSMSEnrollment starts "Use SMS": a new Authorization Code, single use, valid 10 minutes.
// The setup belongs to id's session, or login attempt at the enroll step, as an app setup does
// (BeginAppEnrollment): only that one sees its code and the number its text came from
// (SMSEnrollmentStatus) and can confirm it, and beginning again replaces only its own earlier
// SMS setup. Like BeginAppEnrollment it needs a recently confirmed password from the profile
// (EREAUTH); a login at the enroll step qualifies. EUNAVAILABLE, with SMSAvailable's sentence,
// if SMS is off.
//
// The code is stored as a keyed hash, by which the inbound text finds it, and sealed under the
// server key, so that its owner's page can show it again after a reload or a restart.
func (s *Service) BeginSMSEnrollment(ctx context.Context, id *Identity) (*SMSEnrollment, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	if err := s.requireSMS(); err != nil {
		return nil, err
	}
	shown, code := newAuthCode()
	owner := id.setupOwner()
	var p *PendingSMSEnrollment
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		p, err = s.store.BeginSMSEnrollment(ctx, owner, id.User.ID, s.hashSMSCode("enroll", "", code),
			s.sealer.seal(authCodeAD(id.User.ID, owner), []byte(shown)), smsCodeTTL)
		if err != nil {
			return err
		}
		return s.audit(ctx, AuditSMSEnrollmentStarted, id.User, id.User, "")
	})
	if err != nil {
		return nil, internal("begin sms enrollment", err)
	}
	return s.smsEnrollment(shown, p.ExpiresAt), nil
}

func (s *Service) smsEnrollment(code string, expires time.Time) *SMSEnrollment {
	return &SMSEnrollment{Code: code, PhoneNumber: s.sms.from, PhoneDisplay: FormatPhone(s.sms.from), ExpiresAt: expires}
}

// InboundSMS is a text message received by the System Phone Number, as Twilio's webhook
// delivers it (its MessageSid, AccountSid, From, To and Body parameters).
type InboundSMS struct {
	MessageSID string
	AccountSID string
	From       string
	To         string
	Body       string
}

// Replies to texts sent to the System Phone Number, so that the person at the phone learns
// whether the code they typed was taken; the page they came from shows it too.
const (
	SMSReplyReceived = "Gatehouse received your Authorization Code. Go back to the page where you started and confirm your phone number."
	SMSReplyWrong    = "Gatehouse did not recognise that Authorization Code, or it has expired. Text the code shown on your screen, exactly as shown."
	// SMSReplyRefusedSender answers a right code from a number Gatehouse cannot send codes to
	// (not a valid phone number: a short code, a name, a number missing digits).
	SMSReplyRefusedSender = "Gatehouse cannot send login codes to the number this text came from. On the page where you started, get a new code and text it from your mobile phone."
)

// SMSRefusedSenderText is what the "Use SMS" page says when the text with its code came from a
// number Gatehouse cannot send codes to (SMSStateRefused).
const SMSRefusedSenderText = "Your text with the Authorization Code arrived, but from a number Gatehouse cannot send login codes to, so that code cannot be used. Get a new code and text it from your mobile phone."

// ReceiveSMS takes a text sent to the System Phone Number. The webhook calls it after checking
// Twilio's signature. A text that carries the Authorization Code of a pending SMS enrollment
// records its sender's number, in E.164 form, on that enrollment; the user then confirms it
// (ConfirmSMSEnrollment). reply is the text to send back to the sender, "" for none:
// SMSReplyReceived when the code was taken, SMSReplyWrong when it is shaped like one but
// wrong, expired or used.
//
// A text with the code of a pending enrollment from a sender that is no valid phone number (a
// short code, a name, a number missing digits: nowhere a login code could go) uses the code up
// and marks the enrollment refused (SMSStateRefused), so that its page stops waiting and says
// why; the reply is SMSReplyRefusedSender.
//
// Errors: EFORBIDDEN, changing nothing, if the text is not for this system (another AccountSid,
// or To is not the System Phone Number); EINVALID without a MessageSid; EUNAVAILABLE when SMS
// is off. Every other text is ignored without an error or a reply (the webhook answers Twilio
// the same way): a MessageSid already seen (Twilio retrying a delivery), a sender over its
// hourly limit (no reply to a flood), a sender that is empty or longer than any number, and a
// text with nothing like a code in it (STOP, HELP and chatter are not ours to answer). A text
// that changes no enrollment changes nothing else.
func (s *Service) ReceiveSMS(ctx context.Context, m InboundSMS) (reply string, err error) {
	if err := s.requireSMS(); err != nil {
		return "", err
	}
	to, _ := NormalizePhone(m.To, "")
	if !constantTimeEqual(m.AccountSID, s.sms.accountSID) || to != s.sms.from {
		s.log.Warn("inbound text refused: not for this system", "account_sid", m.AccountSID, "to", m.To)
		return "", Errorf(EFORBIDDEN, "This text message is not for this system.")
	}
	if m.MessageSID == "" {
		return "", Errorf(EINVALID, "The text message has no MessageSid.")
	}
	// The sender is counted in E.164 form: "+1 555 123 4567", "+15551234567" and
	// "(555) 123-4567" are one phone, and one hourly cap. A sender that is no phone number is
	// counted as Twilio gives it (its hourly cap too), unless it is nothing or longer than
	// any number: that is answered nothing and recorded nowhere.
	sender, usable := strings.TrimSpace(m.From), true
	if phone, err := NormalizePhone(m.From, s.sms.region); err == nil {
		sender = phone
	} else if sender == "" || len(sender) > MaxPhoneLength {
		s.log.Info("inbound text ignored: no sender", "message_sid", m.MessageSID)
		return "", nil
	} else {
		usable = false
	}
	// The MessageSid, the phone attached and the audit event commit together or not at all:
	// if the record fails nothing is remembered, and the same delivery sent again is taken anew.
	err = s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		reply, err = s.receiveSMS(ctx, m.MessageSID, sender, usable, m.Body)
		return err
	})
	if err != nil {
		return "", err
	}
	return reply, nil
}

// receiveSMS is ReceiveSMS for a text from sender that is for this system, in its transaction:
// sender is a phone number in E.164 form if usable, else as Twilio gave it.
func (s *Service) receiveSMS(ctx context.Context, messageSID, sender string, usable bool, body string) (reply string, err error) {
	// Duplicates next, so that Twilio retrying a delivery neither counts against the sender
	// nor matches anything twice.
	// The sender is stored only as a keyed hash (L3): it is kept 24 hours only to count its
	// texts, and most senders are strangers, whose numbers the System has no reason to hold.
	fresh, recent, err := s.store.RecordInboundSMS(ctx, messageSID, s.hashSMSCode("inbound sender", "", sender), time.Hour)
	if err != nil {
		return "", internal("record inbound sms", err)
	} else if !fresh {
		s.log.Info("inbound text ignored: MessageSid already seen", "message_sid", messageSID)
		return "", nil
	}
	if recent > smsInboundPerHour {
		s.log.Warn("inbound text ignored: too many texts from this sender", "message_sid", messageSID, "texts_last_hour", recent)
		return "", nil
	}
	code := normalizeAuthCode(body)
	if code == "" {
		s.log.Info("inbound text ignored: no Authorization Code in it", "message_sid", messageSID)
		return "", nil
	}
	if !usable {
		return s.refuseSender(ctx, messageSID, code)
	}
	phone := sender
	// The store matches the code only while it is unused and unexpired, in one conditional
	// UPDATE, so a code is taken by one text at most.
	p, err := s.store.AttachSMSPhone(ctx, s.hashSMSCode("enroll", "", code), phone, smsCodeTTL)
	if ErrorCode(err) == ENOTFOUND {
		s.log.Info("inbound text ignored: the code is wrong, expired or used", "message_sid", messageSID)
		return SMSReplyWrong, nil
	} else if err != nil {
		return "", internal("attach sms phone", err)
	}
	u, err := s.store.FindUserByID(ctx, p.UserID)
	if err != nil {
		return "", internal("sms enrollment user", err)
	}
	if err := s.audit(ctx, AuditSMSReceived, nil, u, "from "+MaskPhone(phone)); err != nil {
		return "", err
	}
	return SMSReplyReceived, nil
}

// refuseSender answers a text with an Authorization Code from a sender no login code can be
// sent to: the enrollment whose code it is, if any, is used up and marked refused, so that its
// page says so rather than wait for a text that came already; the sender is told why.
func (s *Service) refuseSender(ctx context.Context, messageSID, code string) (string, error) {
	p, err := s.store.RefuseSMSSender(ctx, s.hashSMSCode("enroll", "", code))
	if ErrorCode(err) == ENOTFOUND {
		s.log.Info("inbound text ignored: the code is wrong, expired or used", "message_sid", messageSID)
		return SMSReplyWrong, nil
	} else if err != nil {
		return "", internal("refuse sms sender", err)
	}
	u, err := s.store.FindUserByID(ctx, p.UserID)
	if err != nil {
		return "", internal("sms enrollment user", err)
	}
	s.log.Info("inbound text refused: the sender is not a valid phone number", "message_sid", messageSID)
	if err := s.audit(ctx, AuditSMSSenderRefused, nil, u, "from a number that cannot receive codes"); err != nil {
		return "", err
	}
	return SMSReplyRefusedSender, nil
}

// SMSEnrollmentState is where an enrollment by text stands.
type SMSEnrollmentState string

// SMS enrollment states.
const (
	SMSStateNone     SMSEnrollmentState = "none"     // no SMS setup is in progress
	SMSStateWaiting  SMSEnrollmentState = "waiting"  // the code is shown, no text has arrived
	SMSStateReceived SMSEnrollmentState = "received" // the text arrived: confirm MaskedPhone
	SMSStateExpired  SMSEnrollmentState = "expired"  // too late: start again
	// SMSStateRefused: the text came, from a number no code can be sent to; the code is used
	// up. Start again from the mobile phone (SMSRefusedSenderText).
	SMSStateRefused SMSEnrollmentState = "refused"
)

// SMSEnrollmentStatus is what the "Use SMS" page polls.
type SMSEnrollmentStatus struct {
	State       SMSEnrollmentState
	Setup       *SMSEnrollment // StateWaiting: the code to text, and where, shown again
	MaskedPhone string         // StateReceived: the sender's number, masked: "+1 ••• ••• ••67"
	ExpiresAt   time.Time      // StateWaiting: the code's end; StateReceived: the confirmation's
}

// SMSEnrollmentStatus tells the "Use SMS" page where id's SMS setup stands: while the code
// waits for its text, the code again (Setup); once the text has arrived, the number to confirm.
// The state is kept server-side, so it survives a reload and a restart; the page polls it
// (every few seconds is plenty) until StateReceived, then asks the user to confirm the masked
// number. Only the session or login that began the setup sees it: for any other it is
// SMSStateNone. It needs an identity that may enroll: a session, or a login at the enroll step
// (EUNAUTHORIZED otherwise).
func (s *Service) SMSEnrollmentStatus(ctx context.Context, id *Identity) (*SMSEnrollmentStatus, error) {
	p, err := s.pendingSMS(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return &SMSEnrollmentStatus{State: SMSStateNone}, nil
	} else if err != nil {
		return nil, err
	}
	switch {
	case p.Phone == "" && !p.ReceivedAt.IsZero():
		return &SMSEnrollmentStatus{State: SMSStateRefused}, nil
	case !s.now().Before(p.ExpiresAt):
		return &SMSEnrollmentStatus{State: SMSStateExpired}, nil
	case p.Phone == "":
		code, err := s.sealer.open(authCodeAD(p.UserID, p.Owner), p.SealedCode)
		if err != nil {
			return nil, err
		}
		return &SMSEnrollmentStatus{State: SMSStateWaiting, Setup: s.smsEnrollment(string(code), p.ExpiresAt), ExpiresAt: p.ExpiresAt}, nil
	}
	return &SMSEnrollmentStatus{State: SMSStateReceived, MaskedPhone: MaskPhone(p.Phone), ExpiresAt: p.ExpiresAt}, nil
}

// pendingSMS is id's SMS setup, expired or not; ENOTFOUND if id has none.
func (s *Service) pendingSMS(ctx context.Context, id *Identity) (*PendingSMSEnrollment, error) {
	if err := id.requireEnroller(); err != nil {
		return nil, err
	}
	p, err := s.store.FindSMSEnrollment(ctx, id.setupOwner())
	if err != nil {
		return nil, internal("sms enrollment", err)
	}
	if p.UserID != id.User.ID {
		return nil, Errorf(ENOTFOUND, "No SMS setup is in progress here.")
	}
	return p, nil
}

// ConfirmSMSEnrollment finishes "Use SMS" once the text has arrived and the user has confirmed
// the masked number: two-factor is enabled with the sender's number as the SMS phone (the
// article's "SMS Settings … automatically set up"), and a new set of recovery codes replaces
// any old one, as for the app (EnrollmentResult; at the enroll step of a login it signs in).
// EREAUTH as BeginSMSEnrollment; ECONFLICT if no text has arrived, the setup expired or was
// replaced, it is not id's (another session or login began it), or another confirmation won
// the race (the store enables over the owner's pending enrollment and removes it in one
// transaction, so only one confirmation hands out codes).
func (s *Service) ConfirmSMSEnrollment(ctx context.Context, id *Identity) (*EnrollmentResult, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	p, err := s.pendingSMS(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errSMSSetupGone
	} else if err != nil {
		return nil, err
	}
	if p.Phone == "" && !p.ReceivedAt.IsZero() {
		return nil, Errorf(ECONFLICT, "%s", SMSRefusedSenderText)
	} else if p.Phone == "" {
		return nil, Errorf(ECONFLICT, "No text message with your Authorization Code has arrived yet.")
	}
	if !s.now().Before(p.ExpiresAt) {
		return nil, errSMSSetupGone
	}
	res, err := s.enable(ctx, id, Enrollment{Method: MethodSMS, SMSPhone: p.Phone, Owner: p.Owner})
	if ErrorCode(err) == ECONFLICT {
		return nil, errSMSSetupGone
	}
	return res, err
}

var errSMSSetupGone = Errorf(ECONFLICT, "The SMS setup has expired or was replaced. Start it again.")

// SMSCodeSent is what the verify page shows after a login code was sent.
type SMSCodeSent struct {
	MaskedPhone string    // where it went: "+1 ••• ••• ••67"
	ExpiresAt   time.Time // the code is refused after this
	ResendAt    time.Time // "Send again" works from this time on
}

// SendSMSCode texts a login code to the SMS phone of the user of a login attempt at the verify
// step ("Send code" / "Send again"). The code is 6 digits from crypto/rand, valid 10 minutes,
// single use and bound to this login attempt; only its keyed hash is stored. Every code sent
// for the attempt stays valid for its 10 minutes, so a late first text still works.
//
// Errors: ErrLoginEnded (start over); EINVALID if the user has no SMS phone; ETOOMANY, saying
// when to try again, within 30 seconds of the last code sent for this login attempt (a new
// login is not held up by the previous one's cooldown), or after 5 to the user in an hour,
// whatever the login; EUNAVAILABLE if SMS is off or the message could not be sent — then nothing is used
// up (the cooldown and hourly count are as before) and nobody is signed in. Sending never
// touches the account's failure counter.
func (s *Service) SendSMSCode(ctx context.Context, attemptToken string) (*SMSCodeSent, error) {
	a, u, err := s.attempt(ctx, attemptToken, StepVerify)
	if err != nil {
		return nil, err
	}
	if u.Method != MethodSMS || u.SMSPhone == "" {
		return nil, Errorf(EINVALID, "Text message codes are not set up for this account.")
	}
	if s.sms.sender == nil {
		return nil, Errorf(EUNAVAILABLE, "Text messages cannot be sent: SMS is not set up on this server. Use one of your recovery codes.")
	}
	code := newSMSCode()
	c := &SMSCode{UserID: u.ID, AttemptHash: a.TokenHash, CodeHash: s.hashSMSCode("login", a.TokenHash, code)}
	retryAt, err := s.store.ReserveSMSCode(ctx, c, smsCodeTTL, smsResendCooldown, smsCodesPerHour)
	if err != nil {
		return nil, internal("reserve sms code", err)
	} else if !retryAt.IsZero() {
		s.auditBestEffort(ctx, AuditSMSCodeLimited, nil, u, "")
		return nil, smsTooMany(retryAt.Sub(s.now()))
	}
	body := fmt.Sprintf("Your %s login code is %s. It expires in %d minutes. Do not share it with anyone.", s.issuer, code, int(smsCodeTTL.Minutes()))
	if err := s.sms.sender.SendSMS(ctx, u.SMSPhone, body); err != nil {
		// Nothing was sent, so nothing is used up: the reservation goes, and with it the
		// cooldown and the place in the hourly count.
		if derr := s.store.DeleteSMSCode(context.WithoutCancel(ctx), c.ID); derr != nil {
			s.log.Error("sms code reservation not released", "err", derr)
		}
		s.log.Error("login code text not sent", "user", u.Username, "err", err)
		s.auditBestEffort(ctx, AuditSMSCodeFailed, nil, u, "to "+MaskPhone(u.SMSPhone))
		return nil, Errorf(EUNAVAILABLE, "The text message could not be sent just now. Try again in a minute, or use one of your recovery codes.")
	}
	// The text is out: its record cannot unsend it (auditBestEffort).
	s.auditBestEffort(ctx, AuditSMSCodeSent, nil, u, "to "+MaskPhone(u.SMSPhone))
	return smsCodeSent(u, c), nil
}

// SMSCodeState is what the verify page of a login by text shows again after a reload, on
// another server, or after a restart: the last code sent for this login attempt while it is
// valid (where it went, until when, and when "Send again" works), or nil when none was sent
// or it has expired. It reads the codes sent (the store's record of each text), so there is
// no state of its own to lose. ErrLoginEnded as SendSMSCode; ECONFLICT if the login is not at
// the verify step.
func (s *Service) SMSCodeState(ctx context.Context, attemptToken string) (*SMSCodeSent, error) {
	a, u, err := s.attempt(ctx, attemptToken, StepVerify)
	if err != nil {
		return nil, err
	}
	if u.Method != MethodSMS || u.SMSPhone == "" {
		return nil, nil
	}
	c, err := s.store.LatestSMSCode(ctx, a.TokenHash)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, internal("latest sms code", err)
	}
	if !s.now().Before(c.ExpiresAt) {
		return nil, nil
	}
	return smsCodeSent(u, c), nil
}

func smsCodeSent(u *User, c *SMSCode) *SMSCodeSent {
	return &SMSCodeSent{MaskedPhone: MaskPhone(u.SMSPhone), ExpiresAt: c.ExpiresAt, ResendAt: c.CreatedAt.Add(smsResendCooldown)}
}

func smsTooMany(wait time.Duration) error {
	if wait <= time.Minute {
		secs := max(1, int((wait+time.Second-1)/time.Second))
		unit := "seconds"
		if secs == 1 {
			unit = "second"
		}
		return Errorf(ETOOMANY, "A code was sent moments ago. You can ask for another in %d %s.", secs, unit)
	}
	return Errorf(ETOOMANY, "Too many codes were sent this hour. Try again in %d minutes, or use one of your recovery codes.", int((wait+time.Minute-1)/time.Minute))
}

// newSMSCode returns 6 uniformly random digits.
func newSMSCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // crypto/rand does not fail
	return fmt.Sprintf("%0*d", smsCodeDigits, n.Int64())
}

// errNoSMSCode answers a text message code typed when no code is waiting: none was sent, or
// the last one expired or was used.
var errNoSMSCode = Errorf(EINVALID, `No code is waiting for you: press "Send code" to get one by text message.`)

// VerifySMSCode is the second step with a code sent by SendSMSCode for this login attempt. Like
// every second factor it is charged to the account's failure counter first (ETOOMANY when
// locked or waiting); a wrong, expired, used, or other attempt's code is EUNAUTHORIZED. With
// no code waiting for the attempt it is errNoSMSCode (EINVALID), and nothing is charged.
func (s *Service) VerifySMSCode(ctx context.Context, attemptToken, code string) (*LoginState, error) {
	return s.verify(ctx, attemptToken, code, MethodSMS, s.checkSMSCode)
}

// checkSMSCode reports whether code was sent for this login attempt and is unexpired and
// unused, and uses it up, in one conditional UPDATE: of two requests racing with the same code
// exactly one succeeds. The hash binds the code to the attempt, so another attempt's code
// cannot match.
func (s *Service) checkSMSCode(ctx context.Context, a *LoginAttempt, u *User, code string) (bool, error) {
	code = normalizeDigits(code)
	if len(code) != smsCodeDigits || strings.Trim(code, "0123456789") != "" {
		return false, nil
	}
	return s.store.ConsumeSMSCode(ctx, a.TokenHash, s.hashSMSCode("login", a.TokenHash, code))
}
