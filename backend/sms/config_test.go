package sms_test

import (
	"strings"
	"testing"

	"gatehouse/backend/sms"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"TWILIO_ACCOUNT_SID":           "ACtest",
		"TWILIO_AUTH_TOKEN":            " token ",
		"GATEHOUSE_SMS_FROM":           "+15005550006",
		"TWILIO_MESSAGING_SERVICE_SID": "MGtest",
		"GATEHOUSE_PUBLIC_URL":         "https://gatehouse.example/",
		"GATEHOUSE_TWILIO_API_URL":     "http://127.0.0.1:9999",
		"GATEHOUSE_SMS_REGION":         "GB",
	}
	c := sms.ConfigFromEnv(func(k string) string { return env[k] })
	want := sms.Config{AccountSID: "ACtest", AuthToken: "token", From: "+15005550006", MessagingServiceSID: "MGtest",
		PublicURL: "https://gatehouse.example/", APIURL: "http://127.0.0.1:9999", Region: "GB"}
	if c != want {
		t.Errorf("ConfigFromEnv: got %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := c.WebhookURL(); got != "https://gatehouse.example/sms/inbound" {
		t.Errorf("WebhookURL: %q", got)
	}
	if b := c.Backend(nil); b.From != c.From || b.AccountSID != c.AccountSID || b.DefaultRegion != "GB" {
		t.Errorf("Backend: %+v", b)
	}
	if (sms.Config{PublicURL: "https://x.example"}).Configured() || !c.Configured() {
		t.Error("Configured: want false for no Twilio setting, true for some")
	}
}

// TestConfigValidate: each problem is one line that names the variable to fix.
func TestConfigValidate(t *testing.T) {
	good := sms.Config{AccountSID: "ACtest", AuthToken: "token", From: "+15005550006", PublicURL: "https://gatehouse.example"}
	for _, tc := range []struct {
		name  string
		edit  func(*sms.Config)
		lines []string
	}{
		{"valid", func(*sms.Config) {}, nil},
		{"messaging service only", func(c *sms.Config) { c.From, c.MessagingServiceSID = "", "MG123" }, nil},
		{"nothing", func(c *sms.Config) { *c = sms.Config{} }, []string{
			"TWILIO_ACCOUNT_SID is not set", "TWILIO_AUTH_TOKEN is not set",
			"set GATEHOUSE_SMS_FROM", "GATEHOUSE_PUBLIC_URL is not set"}},
		{"bad account", func(c *sms.Config) { c.AccountSID = "SK123" }, []string{"TWILIO_ACCOUNT_SID must be an account SID"}},
		{"token with symbols", func(c *sms.Config) { c.AuthToken = "to-ken" }, []string{"TWILIO_AUTH_TOKEN must be letters and digits"}},
		{"From not a number", func(c *sms.Config) { c.From = "gatehouse" }, []string{`GATEHOUSE_SMS_FROM "gatehouse" is not a phone number in E.164 form`}},
		{"From national", func(c *sms.Config) { c.From = "(650) 253-0000" }, []string{"GATEHOUSE_SMS_FROM"}},
		{"From spaced", func(c *sms.Config) { c.From = "+1 650 253 0000" }, []string{"must be written in E.164 form: +16502530000"}},
		{"bad service", func(c *sms.Config) { c.MessagingServiceSID = "PN123" }, []string{"TWILIO_MESSAGING_SERVICE_SID must be"}},
		{"public URL without scheme", func(c *sms.Config) { c.PublicURL = "gatehouse.example" }, []string{"GATEHOUSE_PUBLIC_URL"}},
		{"public URL with a query", func(c *sms.Config) { c.PublicURL = "https://gatehouse.example/?a=b" }, []string{"must have no query"}},
		{"API URL ftp", func(c *sms.Config) { c.APIURL = "ftp://twilio.example" }, []string{"GATEHOUSE_TWILIO_API_URL"}},
		{"region", func(c *sms.Config) { c.Region = "XX" }, []string{`GATEHOUSE_SMS_REGION "XX"`}},
		{"two problems", func(c *sms.Config) { c.AuthToken, c.PublicURL = "", "" }, []string{"TWILIO_AUTH_TOKEN", "GATEHOUSE_PUBLIC_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.Validate()
			if len(tc.lines) == 0 {
				if err != nil {
					t.Errorf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %d problems", len(tc.lines))
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tc.lines) {
				t.Fatalf("Validate: got %d lines %q, want %d", len(got), got, len(tc.lines))
			}
			for i, want := range tc.lines {
				if !strings.HasPrefix(got[i], "sms: ") || !strings.Contains(got[i], want) {
					t.Errorf("line %d: got %q, want it to say %q", i, got[i], want)
				}
			}
			if _, err := sms.NewGateway(c); err == nil {
				t.Error("NewGateway with an invalid configuration: got no error")
			}
		})
	}
}
