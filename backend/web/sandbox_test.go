package web

import (
	"net/http"

	"gatehouse/backend/sms/smstest"
)

// sandboxOf is the fake Twilio as the sandbox page sees it (SMSSandbox), as main hands it in.
func sandboxOf(fake *smstest.Server) SMSSandbox { return fakeSandbox{fake} }

type fakeSandbox struct{ fake *smstest.Server }

func (s fakeSandbox) Sent() []SandboxMessage {
	var sent []SandboxMessage
	for _, m := range s.fake.Messages() {
		sent = append(sent, SandboxMessage{To: m.To, Body: m.Body, Created: m.Created})
	}
	return sent
}

func (s fakeSandbox) Text(webhookURL, from, to, body string) (int, string, error) {
	status, answer, err := s.fake.SendInbound(webhookURL, smstest.Inbound{From: from, To: to, Body: body})
	if err != nil || status != http.StatusOK {
		return status, "", err
	}
	reply, _ := smstest.Reply(answer)
	return status, reply, nil
}
