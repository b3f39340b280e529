package backendtest

import (
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// SMSConfig is a valid SMS configuration for the fake Twilio fake: its credentials and System
// Phone Number, its URL as Twilio's API, and publicURL as where Twilio reaches the webhook.
func SMSConfig(fake *smstest.Server, publicURL string) sms.Config {
	return sms.Config{AccountSID: fake.AccountSID, AuthToken: fake.AuthToken, From: smstest.PhoneNumber,
		PublicURL: publicURL, APIURL: fake.URL}
}
