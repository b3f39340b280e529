package web

import (
	"testing"

	"gatehouse/backend"
)

// TestBrowserSMSRefusedSender pins issue 11 (web 8) in Chromium: the Authorization Code texted
// from a number the System cannot send codes to (typed as "555-12" on the sandbox page) gets a
// reply that says so, and the "Use SMS" page, waiting, stops on its own with a clear message
// and a button for a new code.
func TestBrowserSMSRefusedSender(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withSandbox)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	phone := e.tab(t, b)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.click("Setup Two-Factor")
	tb.waitHeading("Setup Two-Factor")
	tb.click("Use SMS")
	tb.waitFor(`document.querySelector("#sms-auth-code")`)
	code := tb.eval(`document.querySelector("#sms-auth-code").textContent`)

	phone.open("/sms-sandbox")
	phone.fill("From (your phone number)", "555-12")
	phone.fill("Message", code)
	phone.click("Send text")
	phone.waitFor(`document.querySelector(".status-bar")`)
	phone.wantText("Reply from the System", backend.SMSReplyRefusedSender)

	tb.waitFor(`document.querySelector("#sms-refused")`)
	tb.wantText(backend.SMSRefusedSenderText, "Get a new code")
	if spinner := tb.eval(`String(!!document.querySelector(".spinner"))`); spinner != "false" {
		t.Error("the page still shows it is waiting")
	}
	shoot(t, tb, "use-sms-refused")
	tb.click("Get a new code")
	tb.waitFor(`document.querySelector("#sms-auth-code")`)
	if again := tb.eval(`document.querySelector("#sms-auth-code").textContent`); again == code {
		t.Error("Get a new code showed the used code again")
	}
}
