// Package smstest is a fake Twilio for tests and the SMS sandbox: a REST server on the loopback
// interface that speaks the part of Twilio's protocol Gatehouse uses (sending a message through
// the 2010-04-01 Messages API), and a client that delivers inbound texts to a webhook signed
// exactly as Twilio signs them.
//
// It implements the protocol from Twilio's documentation, independently of twilio-go, so that
// tests of the real client against it check something.
package smstest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults of a new Server: test credentials (twilio-go accepts only alphanumeric ones) and a
// System Phone Number that phone number libraries take as valid.
const (
	AccountSID  = "ACtest0123456789abcdef0123456789ab"
	AuthToken   = "testtoken0123456789abcdef01234567"
	PhoneNumber = "+15005550006"
)

// Message is a message sent through the fake, as Twilio records it.
type Message struct {
	SID                 string
	AccountSID          string
	From                string // "" when sent through a Messaging Service
	MessagingServiceSID string
	To                  string
	Body                string
	Created             time.Time
}

// Error is an error answer in Twilio's JSON shape.
type Error struct {
	Status   int    `json:"status"` // the HTTP status
	Code     int    `json:"code"`   // Twilio's error code, e.g. 21211
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
}

// newError returns Twilio's error answer for code.
func newError(status, code int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...),
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)}
}

// Server is a fake Twilio REST API. Create it with NewServer; Close it when done.
type Server struct {
	URL        string // base URL, e.g. http://127.0.0.1:41234 (use it as the API base URL)
	AccountSID string // the account whose credentials it accepts
	AuthToken  string

	srv *httptest.Server

	mu       sync.Mutex
	messages []Message
	fail     *Error
	hang     time.Duration
	requests int
}

// NewServer starts a fake Twilio on a loopback port with the default credentials.
func NewServer() *Server {
	s := &Server{AccountSID: AccountSID, AuthToken: AuthToken}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{sid}/Messages.json", s.createMessage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, newError(http.StatusNotFound, 20404, "The requested resource %s was not found", r.URL.Path))
	})
	s.srv = httptest.NewServer(mux) // binds 127.0.0.1 (or [::1]) only
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down, ending any request it holds.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Messages returns the messages sent so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Requests is how many requests reached the Messages API, answered or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// FailWith makes every following request fail with e (nil: succeed again).
func (s *Server) FailWith(e *Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = e
}

// Hang makes every following request wait d before it is answered (0: answer at once), or
// until the client gives up.
func (s *Server) Hang(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = d
}

// e164 is the shape Twilio requires of a To number sent by SMS.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// createMessage is POST /2010-04-01/Accounts/{AccountSid}/Messages.json.
func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	fail, hang := s.fail, s.hang
	s.mu.Unlock()

	// Read the body first: only then does the server watch the connection, so that a client
	// giving up (or Close) ends the wait below.
	formErr := r.ParseForm()
	if hang > 0 {
		select {
		case <-time.After(hang):
		case <-r.Context().Done():
			return
		}
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeJSON(w, http.StatusUnauthorized, newError(http.StatusUnauthorized, 20003, "Authenticate"))
		return
	}
	if sid := r.PathValue("sid"); sid != s.AccountSID {
		writeJSON(w, http.StatusNotFound, newError(http.StatusNotFound, 20404, "The requested resource %s was not found", r.URL.Path))
		return
	}
	if fail != nil {
		writeJSON(w, fail.Status, fail)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 20001, "Content-Type %q is not application/x-www-form-urlencoded", ct))
		return
	}
	if formErr != nil {
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 20001, "Bad form: %v", formErr))
		return
	}
	m := Message{AccountSID: s.AccountSID, To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
		MessagingServiceSID: r.PostForm.Get("MessagingServiceSid"), Body: r.PostForm.Get("Body"), Created: time.Now().UTC()}
	switch {
	case m.To == "":
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 21604, "A 'To' phone number is required."))
		return
	case !e164.MatchString(m.To):
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: %s", m.To))
		return
	case m.From == "" && m.MessagingServiceSID == "":
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 21603, "A 'From' phone number is required."))
		return
	case m.Body == "":
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 21602, "Message body is required."))
		return
	case len([]rune(m.Body)) > 1600:
		writeJSON(w, http.StatusBadRequest, newError(http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit."))
		return
	}
	m.SID = NewSID("SM")
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()

	status, direction := "queued", "outbound-api"
	if m.MessagingServiceSID != "" {
		status = "accepted"
	}
	date := m.Created.Format(time.RFC1123Z)
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s.json", m.AccountSID, m.SID)
	writeJSON(w, http.StatusCreated, map[string]any{
		"account_sid":           m.AccountSID,
		"api_version":           "2010-04-01",
		"body":                  m.Body,
		"date_created":          date,
		"date_sent":             nil,
		"date_updated":          date,
		"direction":             direction,
		"error_code":            nil,
		"error_message":         nil,
		"from":                  nullable(m.From),
		"messaging_service_sid": nullable(m.MessagingServiceSID),
		"num_media":             "0",
		"num_segments":          "1",
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                status,
		"subresource_uris":      map[string]string{"media": strings.TrimSuffix(uri, ".json") + "/Media.json"},
		"to":                    m.To,
		"uri":                   uri,
	})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// NewSID returns a random Twilio SID with the prefix: "SM" for a message, "AC" for an account.
func NewSID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Signature is Twilio's X-Twilio-Signature of a POST to url with form: HMAC-SHA1 under the auth
// token over the full URL followed by each parameter's name and value, sorted by name (values
// of a repeated name in their order), in base64.
func Signature(authToken, url string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(url)
	for _, k := range names {
		for _, v := range form[k] {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Inbound is a text message to deliver to a webhook.
type Inbound struct {
	From string // the sender, E.164
	To   string // PhoneNumber if empty
	Body string
	// MessageSID is a new random SID if empty; set it to deliver the same message twice.
	MessageSID string
	// AccountSID is the Server's account if empty.
	AccountSID string
}

// Form returns the parameters Twilio posts to a messaging webhook for the text.
func (s *Server) Form(in Inbound) url.Values {
	if in.To == "" {
		in.To = PhoneNumber
	}
	if in.MessageSID == "" {
		in.MessageSID = NewSID("SM")
	}
	if in.AccountSID == "" {
		in.AccountSID = s.AccountSID
	}
	return url.Values{
		"ToCountry":     {"US"},
		"ToState":       {""},
		"SmsMessageSid": {in.MessageSID},
		"NumMedia":      {"0"},
		"ToCity":        {""},
		"FromZip":       {""},
		"SmsSid":        {in.MessageSID},
		"FromState":     {""},
		"SmsStatus":     {"received"},
		"FromCity":      {""},
		"Body":          {in.Body},
		"FromCountry":   {""},
		"To":            {in.To},
		"ToZip":         {""},
		"NumSegments":   {"1"},
		"MessageSid":    {in.MessageSID},
		"AccountSid":    {in.AccountSID},
		"From":          {in.From},
		"ApiVersion":    {"2010-04-01"},
	}
}

// SendInbound delivers a text to the webhook at webhookURL as Twilio does: a form POST signed
// with authToken over webhookURL (the URL as configured in Twilio's console, which is what
// Twilio signs, whatever host the request reaches). It returns the status and the body of the
// answer.
func SendInbound(webhookURL, authToken string, form url.Values) (int, string, error) {
	return SendInboundTo(webhookURL, webhookURL, authToken, form)
}

// SendInboundTo is SendInbound for a webhook reached at target while configured (and signed) as
// webhookURL, as behind a proxy or in tests with an httptest server.
func SendInboundTo(target, webhookURL, authToken string, form url.Values) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("X-Twilio-Signature", Signature(authToken, webhookURL, form))
	c := &http.Client{Timeout: 15 * time.Second} // Twilio waits 15 s for a webhook
	res, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, string(body), err
}

// Reply returns the text of the reply message in a webhook's TwiML answer ("" for an empty
// Response), as Twilio would send it back to the sender. Gatehouse replies with one <Message>
// at most; several are joined by newlines.
func Reply(twiml string) (string, error) {
	var r struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(twiml), &r); err != nil {
		return "", fmt.Errorf("not TwiML: %w", err)
	}
	return strings.Join(r.Messages, "\n"), nil
}

// SendInbound delivers in to the webhook configured at webhookURL, signed with the Server's auth
// token, as Twilio would.
func (s *Server) SendInbound(webhookURL string, in Inbound) (int, string, error) {
	return SendInbound(webhookURL, s.AuthToken, s.Form(in))
}

// Text delivers a text message from the number from to the System Phone Number to, at the
// webhook configured at webhookURL, signed as Twilio signs it. It returns the webhook's HTTP
// status and the text of the reply the webhook asked Twilio to send back: "" unless the status
// is 200 and the answer is TwiML with a <Message>. An error means the webhook was not reached.
func (s *Server) Text(webhookURL, from, to, body string) (int, string, error) {
	status, answer, err := s.SendInbound(webhookURL, Inbound{From: from, To: to, Body: body})
	if err != nil || status != http.StatusOK {
		return status, "", err
	}
	reply, _ := Reply(answer) // an answer that is not TwiML has no reply to show
	return status, reply, nil
}

// Sandbox is the fake Twilio as the SMS sandbox page of `serve --sms-sandbox` needs it
// (web.SMSSandbox): main hands one to the web server, and the web package's tests do the same.
// M is that page's message type, web.SandboxMessage: the constraint (a struct of exactly these
// fields) lets this package fill it without importing the web package, so this is the one
// adapter between the two, and a field added to web.SandboxMessage stops it compiling.
type Sandbox[M ~struct {
	To      string
	Body    string
	Created time.Time
}] struct {
	*Server
}

// Sent returns the messages sent through the fake, oldest first.
func (s Sandbox[M]) Sent() []M {
	var sent []M
	for _, m := range s.Messages() {
		sent = append(sent, M{To: m.To, Body: m.Body, Created: m.Created})
	}
	return sent
}
