package sms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"gatehouse/backend"
)

var _ backend.SMSSender = (*Gateway)(nil)

// Gateway sends text messages through Twilio's Messages API. It is safe for concurrent use.
type Gateway struct {
	client     *twilio.RestClient
	from       string
	serviceSID string
	timeout    time.Duration
}

// NewGateway returns a Gateway for cfg, which must be valid (the error lists each problem).
func NewGateway(cfg Config) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	hc := &http.Client{
		Timeout: timeout,
		// As twilio-go's own client: a redirect is an answer, not something to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cfg.APIURL != "" {
		// twilio-go has no base-URL option: its services build https://api.twilio.com/… URLs
		// themselves. Rewriting scheme and host in the transport reaches a regional or
		// compatible endpoint, or a local fake, with the SDK otherwise unchanged.
		base, _ := url.Parse(cfg.APIURL) // checked by Validate
		hc.Transport = &rewrite{base: base, next: http.DefaultTransport}
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: hc}
	c.SetAccountSid(cfg.AccountSID)
	return &Gateway{
		client:     twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}),
		from:       cfg.From,
		serviceSID: cfg.MessagingServiceSID,
		timeout:    timeout,
	}, nil
}

// rewrite sends every request to base's scheme and host, with base's path (if any) in front of
// the request's path.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	if t.base.Path != "" && t.base.Path != "/" {
		r.URL.Path = path.Join(t.base.Path, r.URL.Path)
		r.URL.RawPath = ""
	}
	return t.next.RoundTrip(r)
}

// SendSMS sends body to the E.164 number to, from the Messaging Service if one is configured,
// else from the System Phone Number. It returns when Twilio has accepted the message (status
// "queued" or "accepted"), or with an error saying why not: Twilio's error code and message, a
// timeout, or ctx ending. twilio-go takes no context, so the call runs on its own and is
// abandoned (and ends by the client's timeout) if ctx ends first.
func (g *Gateway) SendSMS(ctx context.Context, to, body string) error {
	p := &api.CreateMessageParams{}
	p.SetTo(to)
	p.SetBody(body)
	if g.serviceSID != "" {
		p.SetMessagingServiceSid(g.serviceSID)
	} else {
		p.SetFrom(g.from)
	}
	done := make(chan error, 1)
	go func() {
		_, err := g.client.Api.CreateMessage(p)
		done <- err
	}()
	select {
	case err := <-done:
		return g.explain(err)
	case <-ctx.Done():
		return fmt.Errorf("twilio: sending the text message: %w", ctx.Err())
	}
}

// explain turns twilio-go's errors into one clear sentence for the log.
func (g *Gateway) explain(err error) error {
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*twclient.TwilioRestError](err); ok {
		// The code and status only: Twilio's message names the phone number ("Invalid 'To'
		// Phone Number: +1…"), which must not reach the log (L4). The code says the rest:
		// twilio.com/docs/errors/<code>.
		return fmt.Errorf("twilio refused the text message: error %d (HTTP %d)", te.Code, te.Status)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return fmt.Errorf("twilio did not answer within %v: %w", g.timeout, err)
	}
	return fmt.Errorf("twilio: sending the text message: %w", err)
}
