package web

import (
	"regexp"
	"strings"
	"testing"

	"gatehouse/backend"
)

// shoot saves screenshots of the page at desktop and phone widths into shotsDir (sms-*.png),
// and checks what TestBrowserScreenshots checks: labels, the CSP, nothing wider than a phone.
func shoot(t *testing.T, tb *tab, name string) {
	t.Helper()
	tb.screenshots("sms-" + name)
}

// TestBrowserSMSThroughTheSandbox is the "done": with the sandbox, a new user required to
// enroll texts the Authorization Code (from the sandbox page, in another tab), the setup page
// notices without a reload, the user confirms the number and saves the codes; then logs in with
// a code read from the sandbox page.
func TestBrowserSMSThroughTheSandbox(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withSandbox)
	e.user("bob", backend.RoleUser, true)
	bob := e.tab(t, b)
	phone := e.tab(t, b) // the sandbox: bob's "phone"

	bob.logIn("bob", testPassword)
	bob.waitHeading("Two-Factor Authentication is required")
	if cls := bob.eval(`[...document.querySelectorAll("button")].find(b => b.textContent === "Use SMS").className`); !strings.Contains(cls, "primary") {
		t.Errorf("Use SMS is %q, want the blue button", cls)
	}
	bob.click("Use SMS")
	bob.waitHeading("Use SMS")
	bob.waitFor(`document.querySelector("#sms-auth-code")`)
	bob.wantText("Your Authorization Code", "Text it to the System Phone Number", "+1 500-555-0006", "Waiting for your text message", "I have sent the text")
	code := bob.eval(`document.querySelector("#sms-auth-code").textContent`)
	shoot(t, bob, "use-sms-waiting")
	// Mark the document: if the page is still this one later, it did not reload.
	bob.eval(`window.__sameDocument = true; ""`)

	// "I have sent the text" without a text: the same code, still waiting (a plain reload).
	bob.click("I have sent the text")
	bob.waitFor(`!window.__sameDocument && document.querySelector("#sms-auth-code")`)
	if again := bob.eval(`document.querySelector("#sms-auth-code").textContent`); again != code {
		t.Errorf("after a reload the code is %s, want %s", again, code)
	}

	phone.open("/sms-sandbox")
	phone.waitHeading("SMS sandbox")
	phone.wantText("No text messages yet", "Text the System")
	// The webhook line under the form clears the "Send text" button (it once overlapped it).
	if gap := phone.eval(`String(document.querySelector(".sandbox-webhook").getBoundingClientRect().top - document.querySelector(".sandbox form button[type=submit]").getBoundingClientRect().bottom)`); strings.HasPrefix(gap, "-") {
		t.Errorf("sandbox: the Webhook line overlaps the Send text button by %spx", strings.TrimPrefix(gap, "-"))
	}
	shoot(t, phone, "sandbox-empty")
	phone.fill("From (your phone number)", "(650) 253-0067")
	phone.fill("Message", strings.ToLower(code))
	phone.click("Send text")
	phone.waitFor(`document.querySelector(".status-bar")`)
	phone.wantText("delivered to the System", "200 OK", "Reply from the System", backend.SMSReplyReceived)
	shoot(t, phone, "sandbox-texted")

	// The setup page notices on its own, within a few seconds, and asks to confirm the number.
	bob.waitFor(`document.querySelector("#sms-masked-phone")`)
	bob.wantText("Your text message arrived", testPhoneMasked, "Confirm", "Use another phone")
	shoot(t, bob, "use-sms-received")
	bob.click("Confirm")
	bob.waitHeading("Save your recovery codes")
	codes := bob.codes()
	bob.click("I have saved these codes")
	bob.waitHeading("Profile")
	bob.wantText("Enabled", "SMS settings", testPhoneShown, "Change phone number")
	shoot(t, bob, "profile-sms")
	bob.logOut()

	// Log in with a code texted to the phone, read on the sandbox page.
	bob.logIn("bob", testPassword)
	bob.waitHeading("Two-Factor Authentication")
	bob.wantText("Send code", testPhoneMasked, "Authentication code", "Use a recovery code")
	shoot(t, bob, "verify-send-code")
	bob.click("Send code")
	bob.waitFor(`document.querySelector("#sms-sent")`)
	// "Send again" waits out the cooldown, and says how long.
	if bob.eval(`String(document.querySelector("button[data-wait]").disabled)`) != "true" {
		t.Error("Send again is enabled during the cooldown")
	}
	bob.wantText("A code was sent to "+testPhoneMasked, "You can ask for another code in")
	shoot(t, bob, "verify-code-sent")
	phone.open("/sms-sandbox")
	phone.waitHeading("SMS sandbox")
	msg := phone.eval(`document.querySelector("#sandbox-outbox .sms-body").textContent`)
	loginCode := regexp.MustCompile(`\b\d{6}\b`).FindString(msg)
	if loginCode == "" {
		t.Fatalf("no code in the newest message %q", msg)
	}
	phone.wantText("To "+testPhoneShown, "Your Gatehouse login code is")
	shoot(t, phone, "sandbox-outbox")
	bob.fill("Authentication code", "000000")
	bob.click("Verify")
	bob.waitFor(`document.querySelector("#form-error")`)
	bob.wantText("That code is not valid")
	shoot(t, bob, "verify-wrong-code")
	bob.fill("Authentication code", loginCode)
	bob.click("Verify")
	bob.waitHeading("Profile")
	bob.wantText("5 of 5 unused")
	_ = codes
}

// TestBrowserSMSFromProfile enrolls from the profile, with the password again, texting from the
// sandbox's form in the same browser, and checks the page's own poller notices.
func TestBrowserSMSFromProfile(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withSandbox)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.click("Setup Two-Factor")
	tb.waitHeading("Setup Two-Factor")
	tb.click("Use SMS") // no password: the login a moment ago confirmed it
	tb.waitHeading("Use SMS")
	tb.waitFor(`document.querySelector("#sms-auth-code")`)
	code := tb.eval(`document.querySelector("#sms-auth-code").textContent`)
	// The text arrives while the page is open (as from the sandbox in another tab).
	e.text(testPhone, code)
	tb.waitFor(`document.querySelector("#sms-masked-phone")`)
	tb.click("Confirm")
	tb.waitHeading("Save your recovery codes")
	tb.click("I have saved these codes")
	tb.waitHeading("Profile")
	tb.wantText(testPhoneShown)
	// Changing the phone: Setup Two-Factor again, Use SMS.
	tb.click("Change phone number")
	tb.waitHeading("Setup Two-Factor")
	tb.wantText("Setting it up again replaces your app or phone")
	shoot(t, tb, "setup-again")

	// Without SMS, "Use SMS" says why.
	e2 := newEnv(t)
	e2.user("carol", backend.RoleUser, true)
	c := e2.tab(t, b)
	c.logIn("carol", testPassword)
	c.waitHeading("Two-Factor Authentication is required")
	c.wantText("SMS is not available") // on the choice itself, which offers no working Use SMS
	shoot(t, c, "unavailable")
}
