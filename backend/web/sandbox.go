package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"gatehouse/backend"
)

// SMSSandbox is the fake Twilio of `serve --sms-sandbox`, as the /sms-sandbox page needs it:
// main hands in one built on backend/sms/smstest, so that no test fake is part of this
// package. The System's texts go to it instead of to phones.
type SMSSandbox interface {
	// Sent returns the text messages the System sent, oldest first.
	Sent() []SandboxMessage
	// Text delivers a text message from the number from to the System Phone Number to, at the
	// webhook at webhookURL, signed as Twilio signs it. It returns the webhook's HTTP status
	// and the text of the reply the webhook asked Twilio to send back ("" for none); an error
	// if the webhook was not reached.
	Text(webhookURL, from, to, body string) (status int, reply string, err error)
}

// SandboxMessage is a text message the System sent into the SMS sandbox.
type SandboxMessage struct {
	To      string // E.164
	Body    string
	Created time.Time
}

// sandbox is the SMS sandbox of `serve --sms-sandbox`: Twilio is a fake on this machine, so no
// text message leaves it. The /sms-sandbox page shows every message the System sent, and texts
// the System from a number of the user's choice: through the real webhook, signed as Twilio
// signs, so enrollment by text runs exactly as in production.
type sandbox struct {
	twilio     SMSSandbox
	webhookURL string // where Twilio would post: the public URL + the webhook's path

	mu      sync.Mutex
	inbound []sandboxText // newest first
}

// sandboxText is a text sent to the System from the sandbox page, with the webhook's answer.
type sandboxText struct {
	From, Body string
	Sent       time.Time
	Answer     string // "200 OK", or what went wrong
	OK         bool
	Reply      string // the System's reply to the sender, from the webhook's TwiML
}

// sandboxDefaultFrom is the number the sandbox page texts from unless the user types another:
// a fictional US number (555-01xx) that phone number libraries accept.
const sandboxDefaultFrom = "+1 202-555-0123"

// maxSandboxTexts bounds the list of texts sent from the page.
const maxSandboxTexts = 50

// sandboxView is what the sandbox page shows.
type sandboxView struct {
	SystemNumber string
	WebhookURL   string
	Outbox       []SandboxMessage // newest first
	Inbound      []sandboxText
	From, Body   string // the form, prefilled
}

// sandboxPage lists the messages the System sent and offers to text it. It needs no login: it
// is served only by a server on loopback in sandbox mode, and its messages go to fake phones.
func (s *Server) sandboxPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := sandboxView{
		SystemNumber: backend.FormatPhone(s.svc.SystemPhoneNumber()),
		WebhookURL:   s.sandbox.webhookURL,
		Outbox:       s.sandbox.twilio.Sent(),
		From:         q.Get("from"),
		Body:         q.Get("body"),
	}
	slices.Reverse(v.Outbox)
	if v.From == "" {
		v.From = sandboxDefaultFrom
	}
	s.sandbox.mu.Lock()
	v.Inbound = slices.Clone(s.sandbox.inbound)
	s.sandbox.mu.Unlock()

	p := page{Title: "SMS sandbox", Script: "sms.js"}
	id, _ := s.session(w, r)
	if id != nil {
		p = pageFor(id, "SMS sandbox", "")
		p.Script = "sms.js"
	}
	r = viewedBy(r, id)
	s.render(w, r, http.StatusOK, sandboxPageView(p, v))
}

// sandboxText sends a text from the chosen number to the System Phone Number, through the real
// webhook over HTTP, signed with the fake account's auth token over the public webhook URL.
func (s *Server) sandboxText(w http.ResponseWriter, r *http.Request) {
	from := strings.TrimSpace(r.PostFormValue("from"))
	body := r.PostFormValue("body")
	if n, err := backend.NormalizePhone(from, backend.DefaultPhoneRegion); err == nil {
		from = n // Twilio always gives the sender in E.164
	}
	t := sandboxText{From: from, Body: body, Sent: time.Now()}
	status, reply, err := s.sandbox.twilio.Text(s.sandbox.webhookURL, from, s.svc.SystemPhoneNumber(), body)
	switch {
	case err != nil:
		t.Answer = "not delivered: " + err.Error()
	default:
		t.Answer, t.OK = fmt.Sprintf("%d %s", status, http.StatusText(status)), status == http.StatusOK
		if t.OK {
			t.Reply = reply
		}
	}
	s.sandbox.mu.Lock()
	s.sandbox.inbound = append([]sandboxText{t}, s.sandbox.inbound...)
	if len(s.sandbox.inbound) > maxSandboxTexts {
		s.sandbox.inbound = s.sandbox.inbound[:maxSandboxTexts]
	}
	s.sandbox.mu.Unlock()
	s.log.Info("sms sandbox: text sent to the webhook", "status", status)
	if !t.OK {
		http.Redirect(w, r, "/sms-sandbox", http.StatusSeeOther)
		return
	}
	id, _ := s.session(w, r)
	s.flash(w, r, id, "Your text was delivered to the System's webhook.")
	http.Redirect(w, r, "/sms-sandbox", http.StatusSeeOther)
}
