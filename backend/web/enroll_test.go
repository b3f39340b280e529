package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// beginAppFromProfile confirms the password with the choice and begins "Use an App" for a
// signed-in client, and returns the key the page shows.
func (c *client) beginAppFromProfile() string {
	t := c.e.t
	t.Helper()
	c.post("/profile/two-factor/app", url.Values{"current_password": {testPassword}}).wantRedirect(t, "/profile/two-factor/app")
	return appKey(t, c.get("/profile/two-factor/app").body)
}

// wantMethod checks the user's enrolled method.
func (e *env) wantMethod(username string, want backend.Method) {
	e.t.Helper()
	u, err := e.svc.UserByUsername(context.Background(), e.svc.Operator(), username)
	if err != nil {
		e.t.Fatal(err)
	}
	if u.Method != want {
		e.t.Fatalf("%s has method %q, want %q", username, u.Method, want)
	}
}

// TestAppSetupBelongsToItsSession pins issue 9 F4 (the app half): the key of a "Use an App"
// setup in progress is shown only to the session that began it. Another session of the same
// user — one that never confirmed the password, then one that did — finds no setup on the
// page, and cannot enable the key with a code from it; the session that began it still can.
func TestAppSetupBelongsToItsSession(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	owner := e.client()
	owner.signIn("alice")
	key := owner.beginAppFromProfile()

	other := e.client()
	other.signIn("alice")
	r := other.get("/profile/two-factor/app")
	if strings.Contains(r.body, key) || strings.Contains(r.body, `id="totp-key"`) || strings.Contains(r.body, "data:image/png") {
		t.Fatalf("another session of alice reads the pending key:\n%s", excerpt(r.body))
	}
	r.wantRedirect(t, "/profile/two-factor")

	// Its login's password still fresh: refused all the same, and nothing is enabled.
	other.post("/profile/two-factor/app/confirm", url.Values{"code": {e.code(key)}}).wantStatus(t, http.StatusConflict)
	e.wantMethod("alice", backend.MethodNone)
	// With it confirmed there, the other session's setup is still not this one.
	other.post("/profile/confirm-password", url.Values{"password": {testPassword}}).wantRedirect(t, "/profile")
	r = other.post("/profile/two-factor/app/confirm", url.Values{"code": {e.code(key)}})
	r.wantStatus(t, http.StatusConflict)
	if strings.Contains(r.body, key) {
		t.Fatalf("the refusal shows the pending key:\n%s", excerpt(r.body))
	}
	e.wantMethod("alice", backend.MethodNone)
	// A setup the other session begins is its own, and replaces nothing of the first one.
	if otherKey := other.beginAppFromProfile(); otherKey == key {
		t.Fatal("the other session's own setup shows the first session's key")
	}

	// The owner's page and confirmation are untouched.
	if got := appKey(t, owner.get("/profile/two-factor/app").body); got != key {
		t.Fatalf("the owner's page shows key %s, want %s", got, key)
	}
	owner.post("/profile/two-factor/app/confirm", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	e.wantMethod("alice", backend.MethodApp)
}

// TestAppSetupBelongsToItsLogin pins issue 9 F4 at the enroll step of a login: a second login
// of the same required user does not see the key the first one is setting up.
func TestAppSetupBelongsToItsLogin(t *testing.T) {
	e := newEnv(t)
	e.user("bob", backend.RoleUser, true)
	first, second := e.client(), e.client()
	first.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	second.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	first.post("/login/enroll/app", nil).wantRedirect(t, "/login/enroll/app")
	key := appKey(t, first.get("/login/enroll/app").body)

	r := second.get("/login/enroll/app")
	if strings.Contains(r.body, key) {
		t.Fatalf("a second login of bob reads the pending key:\n%s", excerpt(r.body))
	}
	r.wantRedirect(t, "/login/enroll")
	second.post("/login/enroll/app/confirm", url.Values{"code": {e.code(key)}}).wantStatus(t, http.StatusConflict)
	e.wantMethod("bob", backend.MethodNone)
	first.post("/login/enroll/app/confirm", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	e.wantMethod("bob", backend.MethodApp)
}

// TestSMSSetupBelongsToItsSession pins issue 9 F4 (the SMS half): the Authorization Code of a
// "Use SMS" setup in progress, and the number its text came from, are shown only to the
// session that began it. Another session of the same user sees no setup, cannot confirm the
// number, and its status endpoint says "none"; a text from another phone with the code still
// reaches the owner's setup, whose page shows that phone's masked number to confirm or refuse.
func TestSMSSetupBelongsToItsSession(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("alice", backend.RoleUser, false)
	base := "/profile/two-factor"
	owner := e.client()
	owner.signIn("alice")
	owner.post(base+"/sms", url.Values{"current_password": {testPassword}}).wantRedirect(t, base+"/sms")
	code := authCode(t, owner.get(base+"/sms").body)

	other := e.client()
	other.signIn("alice")
	page := other.get(base + "/sms")
	if strings.Contains(page.body, code) || strings.Contains(page.body, `id="sms-auth-code"`) {
		t.Fatalf("another session of alice reads the Authorization Code:\n%s", excerpt(page.body))
	}
	page.wantBody(t, "Get an Authorization Code")
	if got := other.smsState(base); got != "none" {
		t.Errorf("another session's status: %q, want none", got)
	}

	// Someone texts the code from their own phone: it reaches the setup it belongs to.
	const attacker = "+12025550123"
	if reply := e.text(attacker, code); reply != backend.SMSReplyReceived {
		t.Fatalf("reply: %q, want %q", reply, backend.SMSReplyReceived)
	}
	page = other.get(base + "/sms")
	if strings.Contains(page.body, "Your text message arrived") || strings.Contains(page.body, "••23") {
		t.Fatalf("another session of alice sees the number that arrived:\n%s", excerpt(page.body))
	}
	if got := other.smsState(base); got != "none" {
		t.Errorf("another session's status after the text: %q, want none", got)
	}
	other.post("/profile/confirm-password", url.Values{"password": {testPassword}}).wantRedirect(t, "/profile")
	other.post(base+"/sms/confirm", nil).wantStatus(t, http.StatusConflict)
	e.wantMethod("alice", backend.MethodNone)

	// The owner sees it, and refuses it: a new code, nothing enabled.
	owner.get(base+"/sms").wantBody(t, "Your text message arrived", "+1 ••• ••• ••23", "Use another phone")
	owner.post(base+"/sms/restart", nil).wantRedirect(t, base+"/sms")
	if again := authCode(t, owner.get(base+"/sms").body); again == code {
		t.Error("the refused setup's code is shown again")
	}
	e.wantMethod("alice", backend.MethodNone)
}

// TestSetupsSurviveRestart: a server restarted (a new Service and Server over the same
// database file) in the middle of an app setup and an SMS setup carries on where the person
// was: the same key, the same Authorization Code, then the text and the confirmation.
func TestSetupsSurviveRestart(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("alice", backend.RoleUser, false)
	e.user("bob", backend.RoleUser, true)
	a := e.client()
	a.signIn("alice")
	key := a.beginAppFromProfile()
	b := e.client()
	b.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	b.post("/login/enroll/sms", nil).wantRedirect(t, "/login/enroll/sms")
	code := authCode(t, b.get("/login/enroll/sms").body)

	e.restart()

	if got := appKey(t, a.get("/profile/two-factor/app").body); got != key {
		t.Fatalf("after a restart the app page shows key %s, want %s", got, key)
	}
	a.post("/profile/two-factor/app/confirm", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	e.wantMethod("alice", backend.MethodApp)

	if got := authCode(t, b.get("/login/enroll/sms").body); got != code {
		t.Fatalf("after a restart the SMS page shows code %s, want %s", got, code)
	}
	e.text(testPhone, code)
	e.restart()
	b.get("/login/enroll/sms").wantBody(t, "Your text message arrived", testPhoneMasked)
	b.post("/login/enroll/sms/confirm", nil).wantRedirect(t, "/recovery-codes")
	e.wantMethod("bob", backend.MethodSMS)
}

// TestShownSurvivesRestart pins issue 10 (recovery codes and codes sent lived in the server's
// memory): a server restarted after an enrollment at login shows the same recovery codes, to
// download and acknowledge, and one restarted after "Send code" still says the code was sent
// and when "Send again" works. Regenerated codes are shown again the same way.
func TestShownSurvivesRestart(t *testing.T) {
	e := newEnv(t, withSMS)
	e.user("bob", backend.RoleUser, true)
	b := e.client()
	b.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	b.post("/login/enroll/app", nil).wantRedirect(t, "/login/enroll/app")
	key := appKey(t, b.get("/login/enroll/app").body)
	b.post("/login/enroll/app/confirm", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	codes := recoveryCodes(t, b.get("/recovery-codes").body)

	e.restart()
	if got := recoveryCodes(t, b.get("/recovery-codes").body); !slices.Equal(got, codes) {
		t.Fatalf("after a restart the recovery codes page shows %v, want %v", got, codes)
	}
	e.restart()
	file := b.post("/recovery-codes/download", nil)
	file.wantStatus(t, http.StatusOK)
	file.wantBody(t, append([]string{"Gatehouse recovery codes", "Account: bob"}, codes...)...)
	b.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	e.restart()
	b.get("/recovery-codes").wantRedirect(t, "/")

	// Regenerate, restart: the new set is shown.
	e.clock.Advance(30 * time.Second)
	b.post("/profile/recovery-codes", url.Values{"current_password": {testPassword}}).wantRedirect(t, "/recovery-codes")
	fresh := recoveryCodes(t, b.get("/recovery-codes").body)
	e.restart()
	if got := recoveryCodes(t, b.get("/recovery-codes").body); !slices.Equal(got, fresh) || slices.Equal(got, codes) {
		t.Fatalf("after Regenerate and a restart: %v, want the new set %v", got, fresh)
	}

	e.user("carol", backend.RoleUser, true)
	c := e.client()
	c.login("carol", testPassword).wantRedirect(t, "/login/enroll")
	c.enrollBySMS("/login/enroll", testPhone)
	c.post("/recovery-codes/done", nil)
	c.post("/logout", nil)
	c.login("carol", testPassword).wantRedirect(t, "/login/verify")
	c.post("/login/verify/sms/send", nil).wantRedirect(t, "/login/verify")
	e.clock.Advance(10 * time.Second)
	e.restart()
	c.get("/login/verify").wantBody(t, "A code was sent to "+testPhoneMasked, "Send again", "You can ask for another code in 20 seconds", `data-wait="20"`)
}
