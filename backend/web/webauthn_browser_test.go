package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"gatehouse/backend"
)

// Security keys and passkeys with real Chromium and its virtual authenticator (the DevTools
// protocol's WebAuthn domain): the page's script, the browser's ceremony and the Service's
// checks, end to end. The server is at localhost (withKeys): an IP is no relying party ID.

func withKeys(s *envSetup) { s.keys = true }

// authenticator is the tab's virtual security key (USB: Chromium allows one internal one per
// browser), present and verifying the user without anyone touching it.
type authenticator struct {
	tb *tab
	id webauthn.AuthenticatorID
}

func (tb *tab) authenticator() *authenticator {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		tb.t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(tb.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportUsb,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		tb.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return &authenticator{tb: tb, id: res.AuthenticatorID}
}

// credentials are what the key holds now.
func (a *authenticator) credentials() []*webauthn.Credential {
	a.tb.t.Helper()
	res, err := chromedp.Call(a.tb.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.id})
	if err != nil {
		a.tb.t.Fatal(err)
	}
	return res.Credentials
}

// hold makes the key hold exactly creds (another key, or a copy of one with another counter).
func (a *authenticator) hold(creds ...*webauthn.Credential) {
	a.tb.t.Helper()
	if _, err := chromedp.Call(a.tb.ctx, webauthn.ClearCredentials, webauthn.ClearCredentialsParams{AuthenticatorID: a.id}); err != nil {
		a.tb.t.Fatal(err)
	}
	for _, c := range creds {
		// What the key holds, without what the virtual authenticator reports but refuses back.
		// (cdproto's Credential always sends generateCmtgKeyOnNextOperation, which Chromium
		// refuses for an authenticator without that extension.)
		c := &keyCredential{CredentialID: c.CredentialID, IsResidentCredential: c.IsResidentCredential, RpID: c.RpID,
			PrivateKey: c.PrivateKey, UserHandle: c.UserHandle, SignCount: c.SignCount,
			BackupEligibility: c.BackupEligibility, BackupState: c.BackupState}
		if _, err := chromedp.Call(a.tb.ctx, addCredential, addCredentialParams{AuthenticatorID: a.id, Credential: c}); err != nil {
			a.tb.t.Fatalf("WebAuthn.addCredential: %v", err)
		}
	}
}

// keyCredential is webauthn.Credential without the CMTG extension's fields.
type keyCredential struct {
	CredentialID         []byte  `json:"credentialId"`
	IsResidentCredential bool    `json:"isResidentCredential"`
	RpID                 string  `json:"rpId,omitempty"`
	PrivateKey           []byte  `json:"privateKey"`
	UserHandle           []byte  `json:"userHandle,omitempty"`
	SignCount            float64 `json:"signCount"`
	BackupEligibility    bool    `json:"backupEligibility"`
	BackupState          bool    `json:"backupState"`
}

type addCredentialParams struct {
	AuthenticatorID webauthn.AuthenticatorID `json:"authenticatorId"`
	Credential      *keyCredential           `json:"credential"`
}

var addCredential = cdp.Command[addCredentialParams, cdp.Empty]{Method: webauthn.CommandAddCredential}

// registerKey names and registers a key on the key setup page.
func (tb *tab) registerKey(name string) {
	tb.t.Helper()
	tb.waitHeading("Use a security key or passkey")
	tb.fill("Name of the key", name)
	tb.click("Register security key or passkey")
}

// keyLogin logs in up to the key step and uses the key.
func (tb *tab) keyLogin(username string) {
	tb.t.Helper()
	tb.logIn(username, testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.click("Use your security key")
}

// wantKeyRefused waits for the key step to say the key was not accepted.
func (tb *tab) wantKeyRefused() {
	tb.t.Helper()
	tb.waitFor(`document.readyState === "complete" && document.querySelector("#form-error") && document.querySelector("#form-error").textContent.includes("Your security key was not accepted")`)
	tb.e.clock.Advance(time.Minute) // past the wait the failure costs (one failure counter)
}

// captureAnswers makes the page keep each answer its script submits (window.__answers,
// sessionStorage "answers" across pages); with hold, it submits none of them.
const captureAnswers = `(() => {
	const submit = HTMLFormElement.prototype.submit;
	HTMLFormElement.prototype.submit = function () {
		const all = JSON.parse(sessionStorage.getItem("answers") || "[]");
		all.push(this.elements.response.value);
		sessionStorage.setItem("answers", JSON.stringify(all));
		if (!window.__hold) submit.call(this);
	};
	return "";
})()`

// swapAnswer makes the page's script submit answer instead of the browser's own.
func swapAnswer(answer string) string {
	return fmt.Sprintf(`(() => {
	const submit = HTMLFormElement.prototype.submit;
	HTMLFormElement.prototype.submit = function () { this.elements.response.value = %q; submit.call(this); };
	return "";
})()`, answer)
}

func TestBrowserSecurityKeys(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withKeys)
	alice := e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	key := tb.authenticator()

	// From the Profile: Setup Two-Factor, the third option after the article's two.
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.click("Setup Two-Factor")
	tb.waitHeading("Setup Two-Factor")
	if order := tb.eval(`[...document.querySelectorAll(".choice-form button")].map(b => b.textContent.trim()).join("|")`); order != "Use an App|Use SMS|Use a security key or passkey" {
		t.Errorf("the choice's buttons: %q, want the app, SMS, then the key", order)
	}
	tb.screenshots("key-choice")
	tb.click("Use a security key or passkey")
	tb.waitHeading("Use a security key or passkey")
	tb.screenshots("key-setup")
	tb.registerKey("YubiKey on my keyring")
	tb.waitHeading("Save your recovery codes")
	codes := tb.codes()
	tb.click("I have saved these codes")
	tb.waitHeading("Profile")
	tb.wantText("Enabled", "Security key or passkey", "YubiKey on my keyring", "Never", "5 of 5 unused")
	if got := e.userNamed("alice"); got.Method != backend.MethodWebAuthn {
		t.Errorf("alice's method %q, want %q", got.Method, backend.MethodWebAuthn)
	}
	yubikey := key.credentials()
	if len(yubikey) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(yubikey))
	}
	tb.logOut()

	// Log in with it: the key is offered first, recovery codes as the alternative; the page's
	// answer is kept for the replay below.
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.wantText("Use your security key", "Use a recovery code")
	tb.screenshots("key-login")
	tb.eval(captureAnswers)
	tb.click("Use your security key")
	tb.waitHeading("Profile")
	if strings.Contains(tb.eval(`document.querySelector("#security-keys tbody").innerText`), "Never") {
		t.Error("the key's Last used still says Never after a login with it")
	}
	firstAnswer := tb.eval(`JSON.parse(sessionStorage.getItem("answers"))[0]`)
	tb.logOut()

	// The same answer again, at a new login (its own challenge): refused, and counted.
	failures := e.auditCount(backend.AuditKeyRefused)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.eval(swapAnswer(firstAnswer))
	tb.click("Use your security key")
	tb.wantKeyRefused()
	if n := e.auditCount(backend.AuditKeyRefused); n != failures+1 {
		t.Errorf("second-factor failures %d after a replayed answer, want %d", n, failures+1)
	}
	tb.screenshots("key-refused")
	tb.click("Log out") // the login in progress
	tb.waitHeading("Log in")

	// A second login cannot use the first one's challenge: the first login's answer, made
	// and held back, is refused at the second; the second's own answer works.
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.eval(`sessionStorage.removeItem("answers"); window.__hold = true; ""`)
	tb.eval(captureAnswers)
	tb.click("Use your security key")
	tb.waitFor(`sessionStorage.getItem("answers")`)
	heldBack := tb.eval(`JSON.parse(sessionStorage.getItem("answers"))[0]`)
	// A new login attempt, from a browser without the first one's cookie: the first stays.
	if _, err := chromedp.Call(tb.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.eval(swapAnswer(heldBack))
	tb.click("Use your security key")
	tb.wantKeyRefused()
	tb.eval(`location.reload(); ""`)
	tb.waitHeading("Two-Factor Authentication")
	tb.click("Use your security key")
	tb.waitHeading("Profile")

	// A second key ("this laptop", another authenticator), then remove the first: it is
	// refused from then on, the second still works.
	key.hold() // the YubiKey is put away: the laptop is another authenticator
	tb.eval(`location.href = "/profile"; ""`)
	tb.waitHeading("Profile")
	tb.click("Add a security key or passkey")
	// She has Two-Factor: the choice page would replace her method, so the way out is back
	// to the Profile.
	tb.waitHeading("Use a security key or passkey")
	if got := tb.eval(`[...document.querySelectorAll(".aside a")].map(a => a.textContent + " " + a.getAttribute("href")).join("|")`); got != "Back to your Profile /profile" {
		t.Errorf("the way out of adding a key: %q, want Back to your Profile /profile", got)
	}
	tb.registerKey("this laptop")
	tb.waitHeading("Profile")
	tb.wantText(backend.KeyAddedNotice, "YubiKey on my keyring", "this laptop")
	laptop := key.credentials()
	tb.screenshots("profile-keys")
	// Renamed from the list, and the new name kept.
	tb.eval(`document.querySelector('#security-keys a[aria-label="Rename this laptop"]').setAttribute("data-rename", "1"); ""`)
	tb.do(chromedp.Click(chromedp.CSS(`[data-rename="1"]`)))
	tb.waitHeading("Rename security key or passkey")
	tb.fill("Name of the key", "work laptop")
	tb.click("Rename security key or passkey")
	tb.waitHeading("Profile")
	tb.wantText(backend.KeyRenamedNotice, "YubiKey on my keyring", "work laptop")
	tb.eval(`[...document.querySelectorAll("#security-keys tr")].find(r => r.textContent.includes("YubiKey")).querySelector('a[aria-label^="Remove"]').setAttribute("data-remove", "1"); ""`)
	tb.do(chromedp.Click(chromedp.CSS(`[data-remove="1"]`)))
	tb.waitHeading("Remove security key or passkey")
	tb.wantText("Remove the security key or passkey “YubiKey on my keyring”?")
	tb.screenshots("key-remove")
	tb.click("Remove security key or passkey")
	tb.waitHeading("Profile")
	tb.wantText(backend.KeyRemovedNotice, "work laptop")
	if strings.Contains(tb.text(), "YubiKey on my keyring") {
		t.Error("the removed key is still listed")
	}
	tb.logOut()
	key.hold(yubikey...)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	// The browser would not even offer a key the server does not list: ask it for any of the
	// key's credentials, so that the server is the one to refuse.
	tb.eval(`(() => { const get = navigator.credentials.get.bind(navigator.credentials);
		navigator.credentials.get = o => { delete o.publicKey.allowCredentials; return get(o); }; return ""; })()`)
	tb.click("Use your security key")
	tb.wantKeyRefused()
	key.hold(laptop...)
	tb.eval(`location.reload(); ""`)
	tb.waitHeading("Two-Factor Authentication")
	tb.click("Use your security key")
	tb.waitHeading("Profile")
	tb.logOut()

	// A counter that goes backwards (a copy of the key): refused, audited, and the
	// administrator sees the warning.
	copied := *key.credentials()[0]
	if copied.SignCount < 1 {
		t.Fatalf("the laptop's counter is %v after logins, want it above 0", copied.SignCount)
	}
	copied.SignCount = 0
	key.hold(&copied)
	tb.keyLogin("alice")
	tb.wantKeyRefused()
	if n := e.auditCount(backend.AuditKeyCloned); n != 1 {
		t.Errorf("%d audit events for a copied key, want 1", n)
	}

	// A key saved as not backup-eligible that now says it is: refused.
	synced := *laptop[0]
	synced.SignCount, synced.BackupEligibility, synced.BackupState = 1000, true, true
	key.hold(&synced)
	tb.eval(`location.reload(); ""`)
	tb.waitHeading("Two-Factor Authentication")
	tb.click("Use your security key")
	tb.wantKeyRefused()

	// The recovery codes still work.
	tb.click("Use a recovery code")
	tb.waitHeading("Use a recovery code")
	tb.fill("Recovery code", codes[0])
	tb.click("Verify")
	tb.waitHeading("Profile")
	tb.logOut()

	// The administrator's page of alice: her keys, the warning, Remove.
	e.user("root", backend.RoleAdmin, false)
	admin := e.tab(t, b)
	admin.logIn("root", testPassword)
	admin.waitHeading("Profile")
	admin.open(fmt.Sprintf("/admin/users/%d", alice.ID))
	admin.waitHeading("Alice Example")
	admin.wantText("Security keys and passkeys", "work laptop", "may have been copied")
	admin.screenshots("admin-user-keys")
	admin.click("Remove")
	admin.waitHeading("Remove security key or passkey")
	admin.wantText("“work laptop” of Alice Example? It is their last one: Two-Factor Authentication will be off for them")
	admin.click("Remove security key or passkey")
	admin.waitHeading("Alice Example")
	admin.wantText("It was the user's last one: their status is now No.")
	if got := e.userNamed("alice"); got.TwoFactorStatus() != backend.StatusNo {
		t.Errorf("alice's status after her last key went: %q, want No", got.TwoFactorStatus().Label())
	}
}

// TestBrowserRequiredUserEnrollsWithKey: a user an administrator requires Two-Factor of sets it
// up at login with a key, and is Enabled.
func TestBrowserRequiredUserEnrollsWithKey(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withKeys)
	e.user("bob", backend.RoleUser, true)
	tb := e.tab(t, b)
	tb.authenticator()
	tb.logIn("bob", testPassword)
	tb.waitHeading("Two-Factor Authentication is required")
	tb.click("Use a security key or passkey")
	tb.registerKey("bob's key")
	tb.waitHeading("Save your recovery codes")
	tb.codes()
	tb.click("I have saved these codes")
	tb.waitFor(`document.readyState === "complete" && location.pathname !== "/recovery-codes"`)
	got := e.userNamed("bob")
	if got.TwoFactorStatus() != backend.StatusEnabled || got.Method != backend.MethodWebAuthn {
		t.Errorf("bob: status %q, method %q; want Enabled with a security key", got.TwoFactorStatus().Label(), got.Method)
	}
	tb.logOut()
	tb.keyLogin("bob")
	tb.waitFor(`document.readyState === "complete" && !location.pathname.startsWith("/login")`)
}

// TestBrowserKeyPagesWithoutJavaScript: without JavaScript the key step says a key needs it and
// offers the other ways.
func TestBrowserKeyPagesWithoutJavaScript(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withKeys)
	u := e.user("carol", backend.RoleUser, false)
	k := &backend.WebAuthnCredential{UserID: u.ID, CredentialID: []byte("carol-key"), Name: "carol's key", Record: []byte(`{}`)}
	if err := e.h.Store.EnableWebAuthn(t.Context(), k, nil); err != nil {
		t.Fatal(err)
	}
	tb := e.tab(t, b)
	tb.noScript = true
	tb.scriptsDisabled(true)
	tb.logIn("carol", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.wantText(backend.KeysNeedJavaScriptText, "Use a recovery code")
	// The button could only post an empty answer: it waits for the script, which never runs.
	if shown := tb.eval(`String(document.querySelector("[data-webauthn-start]").getClientRects().length)`); shown != "0" {
		t.Error("without JavaScript the page shows the key's button")
	}
	// Only the notice and the real other ways: no words about a prompt that cannot come.
	for _, gone := range []string{"your browser will ask", "The other ways are below"} {
		if strings.Contains(tb.text(), gone) {
			t.Errorf("without JavaScript the key step says %q", gone)
		}
	}
	tb.screenshots("key-login-no-js")

	// The key setup has no form at all without JavaScript: Enter could only post an empty
	// answer, and lose the name.
	e.user("dave", backend.RoleUser, false)
	nojs := e.tab(t, b)
	nojs.noScript = true
	nojs.scriptsDisabled(true)
	nojs.logIn("dave", testPassword)
	nojs.waitHeading("Profile")
	nojs.open("/profile/two-factor/key")
	nojs.waitHeading("Use a security key or passkey")
	nojs.wantText(backend.KeysNeedJavaScriptText, "Choose another way")
	if shown := nojs.eval(`String([...document.querySelectorAll("form[data-webauthn] input, form[data-webauthn] button")].filter(e => e.getClientRects().length > 0).length)`); shown != "0" {
		t.Errorf("without JavaScript the key setup shows %s of its form's fields and buttons, want none", shown)
	}
	if strings.Contains(nojs.text(), "your browser will ask") {
		t.Error("without JavaScript the key setup says the browser will ask for the key")
	}
	nojs.screenshots("key-setup-no-js")
}

// TestBrowserKeyLoginFocus: the key step's button has the focus on first load (Enter or
// Space starts the key), though it is shown only by the script.
func TestBrowserKeyLoginFocus(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withKeys)
	u := e.user("carol", backend.RoleUser, false)
	k := &backend.WebAuthnCredential{UserID: u.ID, CredentialID: []byte("carol-key"), Name: "carol's key", Record: []byte(`{}`)}
	if err := e.h.Store.EnableWebAuthn(t.Context(), k, nil); err != nil {
		t.Fatal(err)
	}
	tb := e.tab(t, b)
	tb.logIn("carol", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.waitFor(`document.readyState === "complete"`)
	if got := tb.eval(`document.activeElement ? document.activeElement.textContent.trim() : ""`); got != "Use your security key" {
		t.Errorf("focused on the key step: %q, want the button Use your security key", got)
	}
	tb.wantText("your browser will ask")
}

// TestBrowserKeyDeadEnds: when the key's options cannot be had where the page is (the session
// or login ended, the password is to be confirmed again), the page says so with a link to
// where to go on, instead of a sentence that leads nowhere. The script's buttons take the
// focus the hidden page could not give.
func TestBrowserKeyDeadEnds(t *testing.T) {
	b := browser(t)
	e := newEnv(t, withKeys)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	tb.authenticator()
	// wantMove waits for the status's sentence and its link, and follows the link.
	wantMove := func(sentence, link, heading string) {
		t.Helper()
		tb.waitFor(fmt.Sprintf(`(() => { const s = document.querySelector("#webauthn-status"); return s && !s.hidden && s.textContent.includes(%q) && [...s.querySelectorAll("a")].some(a => a.textContent === %q); })()`, sentence, link))
		tb.screenshots("key-dead-end")
		tb.click(link)
		tb.waitHeading(heading)
	}
	focused := func() string {
		return tb.eval(`document.activeElement ? (document.activeElement.name || document.activeElement.textContent.trim()) : ""`)
	}

	// The recent password's window lapses while the setup page is open.
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.open("/profile/two-factor/key")
	tb.waitHeading("Use a security key or passkey")
	if got := focused(); got != backend.FieldKeyName {
		t.Errorf("focused on the key setup page: %q, want the name field", got)
	}
	e.clock.Advance(11 * time.Minute)
	tb.fill("Name of the key", "late key")
	tb.click("Register security key or passkey")
	wantMove("Confirm your password", "Confirm your password", "Confirm your password")
	tb.fill("Password", testPassword)
	tb.click("Continue")
	tb.waitHeading("Use a security key or passkey")

	// The session ends under the page.
	if _, err := chromedp.Call(tb.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	tb.fill("Name of the key", "orphan key")
	tb.click("Register security key or passkey")
	wantMove(backend.SessionEndedNotice, "Log in", "Log in")

	// The login ends under the key setup of a login (required Two-Factor).
	e.user("bob", backend.RoleUser, true)
	tb.logIn("bob", testPassword)
	tb.waitHeading("Two-Factor Authentication is required")
	tb.click("Use a security key or passkey")
	tb.waitHeading("Use a security key or passkey")
	if strings.Contains(tb.text(), "Back to your Profile") {
		t.Error("the login's key setup offers the Profile")
	}
	tb.wantText("Choose another way")
	if _, err := chromedp.Call(tb.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	tb.fill("Name of the key", "bob's key")
	tb.click("Register security key or passkey")
	wantMove("Your login has expired", "Log in", "Log in")
}
