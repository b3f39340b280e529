package backend_test

import (
	"testing"

	"gatehouse/backend"
)

// TestRefusedSenderStopsTheWait pins issue 11 (web 8): a text with the right Authorization
// Code from a number Gatehouse cannot send codes to (no valid phone number) gets a reply that
// says so, and the setup stops waiting: its status is refused, with backend's sentence on
// confirming, and the code is used up (a later text with it is a wrong code). A new code then
// works from the phone.
func TestRefusedSenderStopsTheWait(t *testing.T) {
	t.Parallel()
	e := newSMSEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	id := e.signIn("alice", goodPassword)
	en := e.beginSMS(id, goodPassword)

	for _, sender := range []string{"12", "GATEHOUSE", "+1 650"} {
		reply, err := e.textReply(sender, "hello") // no code in it: nothing to answer
		if err != nil || reply != "" {
			t.Errorf("chatter from %q: reply %q, %v; want none", sender, reply, err)
		}
	}
	if got := e.status(id).State; got != backend.SMSStateWaiting {
		t.Fatalf("after chatter: %s, want waiting", got)
	}
	reply, err := e.textReply("555-12", en.Code)
	if err != nil || reply != backend.SMSReplyRefusedSender {
		t.Errorf("the code from a number no code can go to: reply %q, %v; want %q", reply, err, backend.SMSReplyRefusedSender)
	}
	if got := e.status(id).State; got != backend.SMSStateRefused {
		t.Errorf("status: %s, want %s", got, backend.SMSStateRefused)
	}
	_, err = e.svc.ConfirmSMSEnrollment(ctx, id)
	if backend.ErrorCode(err) != backend.ECONFLICT || backend.ErrorMessage(err) != backend.SMSRefusedSenderText {
		t.Errorf("confirming: %v, want %s %q", err, backend.ECONFLICT, backend.SMSRefusedSenderText)
	}
	if reply, _ := e.textReply(alicePhone, en.Code); reply != backend.SMSReplyWrong {
		t.Errorf("the used code from the phone: reply %q, want %q", reply, backend.SMSReplyWrong)
	}
	if n := len(e.auditEvents(backend.AuditSMSSenderRefused)); n != 1 {
		t.Errorf("audit %s: %d events, want 1", backend.AuditSMSSenderRefused, n)
	}

	again := e.beginSMS(id, goodPassword)
	if reply, _ := e.textReply(alicePhone, again.Code); reply != backend.SMSReplyReceived {
		t.Errorf("a new code from the phone: reply %q, want %q", reply, backend.SMSReplyReceived)
	}
	if got := e.status(id).State; got != backend.SMSStateReceived {
		t.Errorf("status after the new code: %s, want received", got)
	}
}
