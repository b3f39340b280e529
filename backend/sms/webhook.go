package sms

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	twclient "github.com/twilio/twilio-go/client"

	"gatehouse/backend"
)

// Receiver takes inbound texts; *backend.Service is one.
type Receiver interface {
	ReceiveSMS(ctx context.Context, m backend.InboundSMS) (reply string, err error)
}

// twiML is Twilio's answer format: a reply to the sender in <Message>, or nothing.
type twiML struct {
	XMLName xml.Name `xml:"Response"`
	Message string   `xml:"Message,omitempty"`
}

// maxWebhookBody bounds what the webhook reads; Twilio's messaging parameters are far smaller.
const maxWebhookBody = 64 << 10

// receiveTimeout bounds the work on one text: Twilio waits 15 seconds for an answer.
const receiveTimeout = 5 * time.Second

// Webhook is the http.Handler for Twilio's "A message comes in" webhook (HTTP POST). It
// accepts a request only if its X-Twilio-Signature is valid for the configured public
// WebhookURL — never the Host header, which the client chooses — and hands the text to the
// Receiver. It answers 403, having changed nothing, to a bad signature and to a text the
// Receiver refuses as not for this system (another AccountSid, or To not the System Phone
// Number); otherwise TwiML, at once: the Receiver's reply to the sender, or an empty Response.
type Webhook struct {
	url       string
	validator twclient.RequestValidator
	receiver  Receiver
	log       *slog.Logger
}

// NewWebhook returns the webhook for cfg, which must be valid, handing texts to r. log may be nil.
func NewWebhook(cfg Config, r Receiver, log *slog.Logger) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &Webhook{url: cfg.WebhookURL(), validator: twclient.NewRequestValidator(cfg.AuthToken), receiver: r, log: log}, nil
}

func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	// Twilio signs the URL it was configured with, query included.
	signed := wh.url
	if r.URL.RawQuery != "" {
		signed += "?" + r.URL.RawQuery
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !wh.validator.ValidateBody(signed, body, sig) {
		wh.log.Warn("sms webhook: refused a request without a valid X-Twilio-Signature", "remote", r.RemoteAddr)
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), receiveTimeout)
	defer cancel()
	reply, err := wh.receiver.ReceiveSMS(ctx, backend.InboundSMS{
		MessageSID: form.Get("MessageSid"),
		AccountSID: form.Get("AccountSid"),
		From:       form.Get("From"),
		To:         form.Get("To"),
		Body:       form.Get("Body"),
	})
	switch backend.ErrorCode(err) {
	case "":
	case backend.EFORBIDDEN:
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	case backend.EINVALID:
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	case backend.EUNAVAILABLE:
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	default:
		wh.log.Error("sms webhook: text not processed", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(twiML{Message: reply})
}
