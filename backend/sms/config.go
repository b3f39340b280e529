// Package sms connects Gatehouse to Twilio: a Gateway that sends text messages through
// Twilio's Messages API (github.com/twilio/twilio-go), and the Webhook that receives texts sent
// to the System Phone Number. The rules (codes, limits, who may enroll) are backend's; this
// package only speaks Twilio.
//
// Wiring, in main:
//
//	cfg := sms.ConfigFromEnv(os.Getenv)        // flags may then override fields
//	smsCfg := backend.SMSConfig{Unavailable: "…"}
//	var gw *sms.Gateway
//	if cfg.Configured() {
//		gw, err = sms.NewGateway(cfg)          // err: one line per problem
//		smsCfg = cfg.Backend(gw)
//	}
//	svc, err := backend.New(backend.Config{…, SMS: smsCfg})
//	wh, err := sms.NewWebhook(cfg, svc, logger)
//	mux.Handle("POST "+sms.WebhookPath, wh)    // paste cfg.WebhookURL() into Twilio's console
package sms

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"gatehouse/backend"
)

// WebhookPath is where the Webhook is served; Twilio's console gets PublicURL + WebhookPath as
// the phone number's "A message comes in" webhook (HTTP POST).
const WebhookPath = "/sms/inbound"

// DefaultTimeout bounds one call to Twilio's API when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config is the SMS configuration. ConfigFromEnv reads it from the environment; the comments
// name each field's variable.
type Config struct {
	AccountSID          string        // TWILIO_ACCOUNT_SID: "AC…"
	AuthToken           string        // TWILIO_AUTH_TOKEN: signs webhooks, authenticates API calls
	From                string        // GATEHOUSE_SMS_FROM: the System Phone Number, E.164
	MessagingServiceSID string        // TWILIO_MESSAGING_SERVICE_SID: "MG…", sends instead of From
	PublicURL           string        // GATEHOUSE_PUBLIC_URL: the base URL Twilio calls, and signs
	APIURL              string        // GATEHOUSE_TWILIO_API_URL: Twilio's REST API base URL, if not the default
	Region              string        // GATEHOUSE_SMS_REGION: reads numbers without a country code; "US" if empty
	Timeout             time.Duration // one API call; DefaultTimeout if zero
}

// ConfigFromEnv reads the configuration from the environment through getenv (os.Getenv).
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	return Config{
		AccountSID:          get("TWILIO_ACCOUNT_SID"),
		AuthToken:           get("TWILIO_AUTH_TOKEN"),
		From:                get("GATEHOUSE_SMS_FROM"),
		MessagingServiceSID: get("TWILIO_MESSAGING_SERVICE_SID"),
		PublicURL:           get("GATEHOUSE_PUBLIC_URL"),
		APIURL:              get("GATEHOUSE_TWILIO_API_URL"),
		Region:              get("GATEHOUSE_SMS_REGION"),
	}
}

// Configured reports whether any Twilio setting is given: if none is, SMS is simply off; if
// some are, the rest must be right (Validate).
func (c Config) Configured() bool {
	return c.AccountSID != "" || c.AuthToken != "" || c.From != "" || c.MessagingServiceSID != ""
}

// twilio-go refuses credentials that are not alphanumeric before sending anything.
var (
	accountSIDPattern = regexp.MustCompile(`^AC[A-Za-z0-9]+$`)
	servicePattern    = regexp.MustCompile(`^MG[A-Za-z0-9]+$`)
	alphanumeric      = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// Validate returns nil if c can send and receive texts, or an error with one line per problem,
// each naming the variable to fix.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sms: "+format, args...)) }
	switch {
	case c.AccountSID == "":
		bad("TWILIO_ACCOUNT_SID is not set")
	case !accountSIDPattern.MatchString(c.AccountSID):
		bad("TWILIO_ACCOUNT_SID must be an account SID: AC followed by letters and digits")
	}
	switch {
	case c.AuthToken == "":
		bad("TWILIO_AUTH_TOKEN is not set")
	case !alphanumeric.MatchString(c.AuthToken):
		bad("TWILIO_AUTH_TOKEN must be letters and digits only")
	}
	if c.From == "" && c.MessagingServiceSID == "" {
		bad("set GATEHOUSE_SMS_FROM (the System Phone Number, e.g. +15551234567) or TWILIO_MESSAGING_SERVICE_SID")
	}
	if c.From != "" {
		if n, err := backend.NormalizePhone(c.From, ""); err != nil || !strings.HasPrefix(c.From, "+") {
			bad("GATEHOUSE_SMS_FROM %q is not a phone number in E.164 form (+, country code, number)", c.From)
		} else if n != c.From {
			bad("GATEHOUSE_SMS_FROM %q must be written in E.164 form: %s", c.From, n)
		}
	}
	if c.MessagingServiceSID != "" && !servicePattern.MatchString(c.MessagingServiceSID) {
		bad("TWILIO_MESSAGING_SERVICE_SID must be a Messaging Service SID: MG followed by letters and digits")
	}
	if err := checkBaseURL(c.PublicURL); c.PublicURL == "" {
		bad("GATEHOUSE_PUBLIC_URL is not set (the public base URL Twilio calls for incoming texts)")
	} else if err != nil {
		bad("GATEHOUSE_PUBLIC_URL %q: %v", c.PublicURL, err)
	}
	if c.APIURL != "" {
		if err := checkBaseURL(c.APIURL); err != nil {
			bad("GATEHOUSE_TWILIO_API_URL %q: %v", c.APIURL, err)
		}
	}
	if phonenumbers.GetCountryCodeForRegion(c.region()) == 0 {
		bad("GATEHOUSE_SMS_REGION %q is not a region code such as US or GB", c.Region)
	}
	if c.Timeout < 0 {
		bad("the Twilio API timeout must not be negative")
	}
	return errors.Join(errs...)
}

func (c Config) region() string {
	if c.Region == "" {
		return backend.DefaultPhoneRegion
	}
	return strings.ToUpper(c.Region)
}

// checkBaseURL accepts an absolute http or https URL without query or fragment.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must start with https:// (or http://)")
	case u.Host == "":
		return errors.New("has no host")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("must have no query, fragment or user")
	}
	return nil
}

// WebhookURL is the URL to paste into Twilio's console for incoming messages, and the URL
// whose signature the Webhook checks.
func (c Config) WebhookURL() string {
	return strings.TrimRight(c.PublicURL, "/") + WebhookPath
}

// Backend returns the backend's SMS settings for sending through sender (a Gateway built from
// c). Without a System Phone Number (only a Messaging Service), login codes can be sent, but
// enrollment by text is not available.
func (c Config) Backend(sender backend.SMSSender) backend.SMSConfig {
	return backend.SMSConfig{Sender: sender, From: c.From, AccountSID: c.AccountSID, DefaultRegion: c.region()}
}
