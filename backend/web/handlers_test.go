package web

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	r := e.client().get("/healthz")
	r.wantStatus(t, http.StatusOK)
	if r.body != "ok" {
		t.Errorf("body %q, want ok", r.body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	for _, path := range []string{"/login", "/profile", "/nowhere"} {
		r := c.get(path)
		for h, want := range map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
			"Cache-Control":           "no-store",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, h, got, want)
			}
		}
	}
	csp := c.get("/login").Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	// Pages carry no inline script or style for the CSP to block.
	for _, path := range []string{"/login", "/profile", "/profile/two-factor"} {
		body := c.get(path).body
		for _, bad := range []string{"<script>", "style=", "onclick=", "<style"} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: page contains %q", path, bad)
			}
		}
	}
	if r := c.get(staticPath("app.css")); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Errorf("app.css: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

// cookieAttrs returns the Set-Cookie line for name.
func setCookie(r *response, name string) string {
	for _, line := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, name+"=") {
			return line
		}
	}
	return ""
}

func TestLoginCookiesRotateAtEachStep(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	key, _ := c.enrollFromProfile()
	c.post("/logout", nil).wantRedirect(t, "/login")

	r := c.login("alice", testPassword)
	r.wantRedirect(t, "/login/verify")
	attempt := setCookie(r, "gatehouse_login")
	if attempt == "" {
		t.Fatal("no login attempt cookie after the password")
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(attempt, attr) {
			t.Errorf("attempt cookie %q lacks %s", attempt, attr)
		}
	}
	if strings.Contains(attempt, "Secure") {
		t.Errorf("attempt cookie %q is Secure over plain HTTP", attempt)
	}
	if setCookie(r, "gatehouse_session") != "" {
		t.Fatal("a session cookie after the password alone")
	}
	// The attempt does not sign in: the profile is out of reach.
	c.get("/profile").wantRedirect(t, "/login")

	r = c.post("/login/verify", url.Values{"code": {e.code(key)}})
	r.wantRedirect(t, "/")
	session := setCookie(r, "gatehouse_session")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(session, attr) {
			t.Errorf("session cookie %q lacks %s", session, attr)
		}
	}
	if cleared := setCookie(r, "gatehouse_login"); !strings.Contains(cleared, "Max-Age=0") {
		t.Errorf("attempt cookie not cleared at sign-in: %q", cleared)
	}
	if strings.TrimPrefix(strings.Split(session, ";")[0], "gatehouse_session=") == strings.TrimPrefix(strings.Split(attempt, ";")[0], "gatehouse_login=") {
		t.Error("the session token is the attempt token")
	}
	c.get("/profile").wantStatus(t, http.StatusOK)
}

func TestCookiesUnderTLS(t *testing.T) {
	e := newEnv(t, withTLS)
	e.user("alice", backend.RoleUser, true)
	c := e.client()
	r := c.login("alice", testPassword)
	r.wantRedirect(t, "/login/enroll")
	ck := setCookie(r, "__Host-gatehouse_login")
	for _, attr := range []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(ck, attr) {
			t.Errorf("cookie %q lacks %s", ck, attr)
		}
	}
	if strings.Contains(strings.ToLower(ck), "domain=") {
		t.Errorf("__Host- cookie with a Domain: %q", ck)
	}
	if hsts := r.Header.Get("Strict-Transport-Security"); hsts == "" {
		t.Error("no Strict-Transport-Security under TLS")
	}
	// The enrollment page works over TLS with the prefixed cookie.
	c.get("/login/enroll").wantBody(t, "Your administrator requires Two-Factor Authentication")
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	c := e.client()
	c.signIn("admin")

	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost"}},
		{"Origin only", map[string]string{"Origin": "https://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			post := func(path string, form url.Values) *response {
				req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for k, v := range tc.headers {
					req.Header.Set(k, v)
				}
				return c.do(req)
			}
			r := post("/admin/users/new", url.Values{"username": {"mallory"}, "password": {"a long password 1"}, "role": {"admin"}})
			r.wantStatus(t, http.StatusForbidden)
			r.wantBody(t, "Request refused")
			post(fmt.Sprintf("/admin/users/%d/require-two-factor", bob.ID), nil).wantStatus(t, http.StatusForbidden)
			post("/logout", nil).wantStatus(t, http.StatusForbidden)
			post("/login", url.Values{"username": {"admin"}, "password": {testPassword}}).wantStatus(t, http.StatusForbidden)
		})
	}
	page, err := e.svc.Users(context.Background(), e.svc.Operator(), backend.UserFilter{Search: "mallory"})
	if err != nil || page.Total != 0 {
		t.Errorf("a refused request created a user: %v, %d", err, page.Total)
	}
	if u, _ := e.svc.User(context.Background(), e.svc.Operator(), bob.ID); u.TwoFactorRequired {
		t.Error("a refused request required two-factor")
	}
	c.get("/profile").wantStatus(t, http.StatusOK) // still signed in: the refused logout did nothing
}

func TestNoStateChangeOnGet(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	c := e.client()
	c.signIn("admin")
	for _, action := range []string{"require-two-factor", "disable-two-factor", "reset-two-factor"} {
		c.get(fmt.Sprintf("/admin/users/%d/%s", bob.ID, action)).wantStatus(t, http.StatusOK)
	}
	if u, _ := e.svc.User(context.Background(), e.svc.Operator(), bob.ID); u.TwoFactorStatus() != backend.StatusNo {
		t.Errorf("after GETs the status is %q, want No", u.TwoFactorStatus())
	}
	// GET on the app setup does not begin an enrollment; there is no GET logout.
	c.get("/profile/two-factor/app").wantRedirect(t, "/profile/two-factor")
	for _, path := range []string{"/logout", "/login/cancel", "/recovery-codes/done"} {
		if r := c.get(path); r.StatusCode < 400 {
			t.Errorf("GET %s: %d, want an error", path, r.StatusCode)
		}
	}
	c.get("/profile").wantStatus(t, http.StatusOK)
}

// TestLoginRateLimitPerIP: the per-address limit counts failures, not requests. Successful
// logins from one address cost nothing, however many; failureBurst failures (unknown names,
// each new so that no per-name throttle answers first) pass, the next request to any limited
// endpoint is refused with 429 and Retry-After, the right password included (charged before
// it is checked); failureEvery later one more failure is let through, and no second.
func TestLoginRateLimitPerIP(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	for i := 0; i < 2*failureBurst; i++ {
		c.signIn("alice")
		c.post("/logout", nil)
	}
	for i := 0; i < failureBurst; i++ {
		c.login(fmt.Sprintf("nobody%d", i), "wrong password").wantStatus(t, http.StatusUnauthorized)
	}
	r := c.login("nobody", "wrong password")
	r.wantStatus(t, http.StatusTooManyRequests)
	r.wantBody(t, "Too many attempts")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	c.post("/login/verify", url.Values{"code": {"123456"}}).wantStatus(t, http.StatusTooManyRequests)
	c.login("alice", testPassword).wantStatus(t, http.StatusTooManyRequests)
	e.clock.Advance(failureEvery)
	c.login("nobody-again", "wrong password").wantStatus(t, http.StatusUnauthorized)
	c.login("nobody-once-more", "wrong password").wantStatus(t, http.StatusTooManyRequests)
	// Pages other than the login and code endpoints are not limited.
	c.get("/login").wantStatus(t, http.StatusOK)
}

func TestIPLimiterStaysBounded(t *testing.T) {
	l := newFailureLimiter(2, time.Second, 100)
	now := time.Now()
	for i := 0; i < 10000; i++ {
		l.take(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now)
	}
	if len(l.m) > 100 {
		t.Errorf("%d addresses tracked, want at most 100", len(l.m))
	}
}

func TestExpiredLoginAttempt(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	e.user("carol", backend.RoleUser, true)
	c := e.client()
	c.signIn("alice")
	key, _ := c.enrollFromProfile()
	c.post("/logout", nil)

	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	c.get("/login/verify").wantStatus(t, http.StatusOK)
	e.clock.Advance(11 * time.Minute)
	for _, r := range []*response{
		c.get("/login/verify"),
		c.post("/login/verify", url.Values{"code": {e.code(key)}}),
		c.get("/login/recovery"),
	} {
		r.wantStatus(t, http.StatusUnauthorized)
		r.wantBody(t, "Your login has expired. Log in again.", `action="/login"`)
	}

	c2 := e.client()
	c2.login("carol", testPassword).wantRedirect(t, "/login/enroll")
	e.clock.Advance(11 * time.Minute)
	r := c2.get("/login/enroll")
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Your login has expired")
	c2.post("/login/enroll/app", nil).wantStatus(t, http.StatusUnauthorized)
}

func TestFormErrorsKeepInput(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	c := e.client()

	r := c.login("admin", "wrong password")
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect username or password.", `value="admin"`)
	if strings.Contains(r.body, "wrong password") {
		t.Error("the password was sent back")
	}

	c.signIn("admin")
	r = c.post("/admin/users/new", url.Values{
		"username": {"dave"}, "name": {"Dave Example"}, "email": {"not an address"}, "password": {"s3cret passphrase"},
		"role": {"admin"}, "two_factor": {"yes"},
	})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "is not an email address", `value="dave"`, `value="Dave Example"`, `value="not an address"`,
		`value="admin" selected`, `id="f-2fa-yes" name="two_factor" type="radio" value="yes" checked`)
	if strings.Contains(r.body, "s3cret passphrase") {
		t.Error("the password was sent back")
	}

	r = c.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {"a new passphrase"}, "confirm_password": {"another one"}})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "do not match")
}

func TestEnableTwoFactorAndLogInWithApp(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	key, codes := c.enrollFromProfile()
	c.get("/profile").wantBody(t, "Enabled", "Regenerate recovery codes", "Disable Two-Factor", "5 of 5 unused")
	// The sheet is gone once acknowledged.
	c.get("/recovery-codes").wantRedirect(t, "/")
	c.post("/recovery-codes/download", nil).wantStatus(t, http.StatusGone)
	c.post("/logout", nil)

	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	c.get("/login/verify").wantBody(t, "Authentication code", "Verify", "Use a recovery code")
	r := c.post("/login/verify", url.Values{"code": {"000000"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "That code is not valid")
	code := e.code(key)
	c.post("/login/verify", url.Values{"code": {code}}).wantRedirect(t, "/")
	c.post("/logout", nil)

	// The same code again, in the same 30 seconds: refused (RFC 6238 §5.2).
	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	r = c.post("/login/verify", url.Values{"code": {code}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "That code is not valid")
	e.clock.Advance(30 * time.Second)
	c.post("/login/verify", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/")
	_ = codes
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	_, codes := c.enrollFromProfile()
	c.post("/logout", nil)

	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	c.get("/login/recovery").wantBody(t, "Recovery code")
	// After the login the profile says a code was used, how many are left, and what to do.
	r := c.post("/login/recovery", url.Values{"code": {strings.ToLower(codes[2])}})
	r.wantRedirect(t, "/profile")
	c.follow(r).wantBody(t, `class="status-bar"`, "You used a recovery code to log in. 4 recovery codes left: regenerate recovery codes", "4 of 5 unused")
	if strings.Contains(c.get("/profile").body, "You used a recovery code") {
		t.Error("the notice shows on the profile a second time")
	}
	c.post("/logout", nil)

	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	r = c.post("/login/recovery", url.Values{"code": {codes[2]}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "That code is not valid")

	for _, step := range []struct {
		code int
		want string
	}{{0, "3 recovery codes left"}, {1, "2 recovery codes left"}, {3, "1 recovery code left"}, {4, "You used your last recovery code."}} {
		c.post("/logout", nil)
		c.login("alice", testPassword).wantRedirect(t, "/login/verify")
		c.follow(c.post("/login/recovery", url.Values{"code": {codes[step.code]}})).wantBody(t, step.want)
	}
}

func TestRecoveryCodesDownloadAndRegenerate(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	key, _ := c.enrollFromProfile()

	// Enrolled, not required: Setup Two-Factor stays, to change the method or the phone.
	c.get("/profile").wantBody(t, ">Setup Two-Factor<", "move to a new phone or switch between app and SMS", "Regenerate recovery codes", "Disable Two-Factor")
	c.get("/profile/two-factor/disable").wantBody(t, "Your authenticator app setup and your recovery codes will stop working.")
	// Within the password confirmation window (the setup just confirmed it): no password asked.
	if body := c.get("/profile/recovery-codes").body; !strings.Contains(body, "Regenerate recovery codes") || strings.Contains(body, `name="current_password"`) {
		t.Fatalf("regenerate page within the window: want no password field:\n%s", excerpt(body))
	}
	// The window lapses while the page is open: the click leads to the password prompt, a
	// normal step (200), and then the codes.
	e.clock.Advance(11 * time.Minute)
	r := c.post("/profile/recovery-codes", nil)
	r.wantStatus(t, http.StatusOK)
	r.wantBody(t, "Confirm your password", `value="regenerate"`)
	r = c.post("/profile/confirm-password", url.Values{"action": {"regenerate"}, "password": {"wrong password"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect password.")
	c.post("/profile/confirm-password", url.Values{"action": {"regenerate"}, "password": {testPassword}}).wantRedirect(t, "/recovery-codes")
	recoveryCodes(t, c.get("/recovery-codes").body)
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")

	// Past the window, the page asks for the password up front: one click regenerates.
	e.clock.Advance(11 * time.Minute)
	c.get("/profile/recovery-codes").wantBody(t, "Regenerate recovery codes", "Your password", `name="current_password"`)
	r = c.post("/profile/recovery-codes", url.Values{"current_password": {"wrong password"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect password.", "<h1>Regenerate recovery codes</h1>", `name="current_password"`)
	c.post("/profile/recovery-codes", url.Values{"current_password": {testPassword}}).wantRedirect(t, "/recovery-codes")
	page := c.get("/recovery-codes")
	page.wantBody(t, "Print", "Download", "I have saved these codes", "Account: <strong>alice</strong>")
	codes := recoveryCodes(t, page.body)

	dl := c.post("/recovery-codes/download", nil)
	dl.wantStatus(t, http.StatusOK)
	if cd := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".txt") {
		t.Errorf("Content-Disposition %q", cd)
	}
	for _, code := range codes {
		if !strings.Contains(dl.body, code) {
			t.Errorf("download lacks %s", code)
		}
	}
	if !strings.Contains(dl.body, "alice") {
		t.Error("download lacks the account")
	}
	// Another browser, even signed in as the same user, does not see the sheet.
	other := e.client()
	other.login("alice", testPassword).wantRedirect(t, "/login/verify")
	other.post("/login/verify", url.Values{"code": {e.code(key)}}).wantRedirect(t, "/")
	other.get("/recovery-codes").wantRedirect(t, "/")
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	c.get("/recovery-codes").wantRedirect(t, "/")
}

// TestTwoFactorChangesAskPasswordUpFront: the password a two-factor change needs is asked for
// on the choice page itself, so the button goes straight on; not after the click, as an error.
func TestTwoFactorChangesAskPasswordUpFront(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPasswordWeb)
	// SMS is off here: no Use SMS button.
	c.get("/profile/two-factor").wantBody(t, "Your password", `name="current_password"`, "Use an App")
	r := c.post("/profile/two-factor/app", url.Values{"current_password": {"wrong password"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect password.", "<h1>Setup Two-Factor</h1>", `name="current_password"`)
	c.post("/profile/two-factor/app", url.Values{"current_password": {testPassword}}).wantRedirect(t, "/profile/two-factor/app")
	// Confirmed a moment ago: no field now.
	if body := c.get("/profile/two-factor").body; strings.Contains(body, `name="current_password"`) {
		t.Error("the password is asked again within the confirmation window")
	}
	// Lapsed while on the app page: "Enable Two-Factor" leads to the password prompt (200),
	// which then goes on with the setup.
	e.clock.Advance(11 * time.Minute)
	r = c.post("/profile/two-factor/app/confirm", url.Values{"code": {"123456"}})
	r.wantStatus(t, http.StatusOK)
	r.wantBody(t, "Confirm your password", `value="app"`)
	c.post("/profile/confirm-password", url.Values{"action": {"app"}, "password": {testPassword}}).wantRedirect(t, "/profile/two-factor/app")
}

func TestDisableOwnTwoFactor(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	c.enrollFromProfile()
	e.clock.Advance(11 * time.Minute) // past the password confirmation window: asked up front
	c.get("/profile/two-factor/disable").wantBody(t, "Disable Two-Factor", `name="current_password"`)
	r := c.post("/profile/two-factor/disable", url.Values{"current_password": {"wrong password"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect password.", "<h1>Disable Two-Factor</h1>")
	c.post("/profile/two-factor/disable", url.Values{"current_password": {testPassword}}).wantRedirect(t, "/profile")
	done, _ := backend.ProfileAction(&backend.User{}, backend.ActionDisableOwnTwoFactor) // the desktop's sentence too
	c.get("/profile").wantBody(t, done.Done, "Setup Two-Factor", `class="status-bar"`)
	if strings.Contains(c.get("/profile").body, "move to a new phone") {
		t.Error("the profile of a user without Two-Factor explains setting it up again")
	}
}

func TestRequiredUserEnrollsUponLogin(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	a := e.client()
	a.signIn("admin")
	a.get(fmt.Sprintf("/admin/users/%d", bob.ID)).wantBody(t, "Edit this User", "No")
	// The help article's sentence, from backend, as the desktop console shows it (app_test.go).
	require := backend.DescribeUserAction(backend.ActionRequireTwoFactor, bob)
	if require.Confirm != "Bob Example will now be required to enroll in Two-Factor Authentication upon log in." {
		t.Errorf("Require sentence %q", require.Confirm)
	}
	a.get(fmt.Sprintf("/admin/users/%d/edit", bob.ID)).wantBody(t, require.Label, require.Confirm, "<dialog")
	r := a.post(fmt.Sprintf("/admin/users/%d/require-two-factor", bob.ID), nil)
	r.wantRedirect(t, fmt.Sprintf("/admin/users/%d", bob.ID))
	a.follow(r).wantBody(t, `class="status-bar"`, require.Done, backend.StatusPending.Label())

	b := e.client()
	b.login("bob", testPassword).wantRedirect(t, "/login/enroll")
	page := b.get("/login/enroll")
	page.wantBody(t, "Your administrator requires Two-Factor Authentication", "Use an App", "Use SMS", "Log out")
	if strings.Contains(page.body, `href="/profile"`) {
		t.Error("the enroll page links to the profile: a way around enrollment")
	}
	if strings.Contains(page.body, `name="current_password"`) {
		t.Error("the enroll page upon login asks for the password given moments ago")
	}
	b.get("/profile").wantRedirect(t, "/login")
	b.post("/login/enroll/sms", nil).wantBody(t, "SMS is not available")
	b.post("/login/enroll/app", nil).wantRedirect(t, "/login/enroll/app")
	appPage := b.get("/login/enroll/app")
	key := appKey(t, appPage.body)
	// A mistyped code shows the same key again.
	r = b.post("/login/enroll/app/confirm", url.Values{"code": {"000000"}})
	r.wantStatus(t, http.StatusBadRequest)
	if got := appKey(t, r.body); got != key {
		t.Errorf("key changed after a wrong code: %s, want %s", got, key)
	}
	r = b.post("/login/enroll/app/confirm", url.Values{"code": {e.code(key)}})
	r.wantRedirect(t, "/recovery-codes")
	if setCookie(r, "gatehouse_session") == "" {
		t.Error("no session after enrollment upon login")
	}
	recoveryCodes(t, b.get("/recovery-codes").body)
	b.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	b.get("/profile").wantBody(t, "Enabled", "Yes, by your administrator")
	if strings.Contains(b.get("/profile").body, "Disable Two-Factor") {
		t.Error("a required user is offered Disable Two-Factor")
	}
	a.get(fmt.Sprintf("/admin/users/%d", bob.ID)).wantBody(t, "Enabled")

	// Audit: who, whom, what.
	ev := a.get("/admin/audit?action=admin.")
	ev.wantBody(t, "admin.2fa_required", "admin", "bob")
	_ = admin
}

func TestRequiredUserCanOnlyLogOut(t *testing.T) {
	e := newEnv(t)
	e.user("carol", backend.RoleUser, true)
	c := e.client()
	c.login("carol", testPassword).wantRedirect(t, "/login/enroll")
	c.post("/login/cancel", nil).wantRedirect(t, "/login")
	r := c.get("/login/enroll")
	r.wantStatus(t, http.StatusUnauthorized)
}

// TestLoginPageResumesLogin: someone part-way through a login who clicks the logo or opens
// /login is offered to continue at their step, or to start over; not an empty form.
func TestLoginPageResumesLogin(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	e.user("alice", backend.RoleUser, false)
	e.user("carol", backend.RoleUser, true)
	c := e.client()
	c.signIn("alice")
	c.enrollFromProfile()
	c.post("/logout", nil)

	c.login("alice", testPassword).wantRedirect(t, "/login/verify")
	for _, r := range []*response{c.get("/login"), c.follow(c.get("/"))} {
		r.wantStatus(t, http.StatusOK)
		r.wantBody(t, "Continue logging in as alice", `href="/login/verify"`, "authenticator app", "Log in as someone else", `name="restart"`)
		if strings.Contains(r.body, `action="/login" class="form"`) {
			t.Errorf("%s: an empty login form while a login waits", r.Request.URL.Path)
		}
	}
	// Starting over ends the login in progress and shows the form, without "You have logged out".
	c.post("/login/cancel", url.Values{"restart": {"1"}}).wantRedirect(t, "/login")
	r := c.get("/login")
	r.wantBody(t, `action="/login"`, "Username")
	if strings.Contains(r.body, "Continue logging in") {
		t.Error("still offered to continue after starting over")
	}
	c.get("/login/verify").wantStatus(t, http.StatusUnauthorized)

	// At the enroll step, and after the attempt expired.
	c2 := e.client()
	c2.login("carol", testPassword).wantRedirect(t, "/login/enroll")
	c2.get("/login").wantBody(t, "Continue logging in as carol", `href="/login/enroll"`, "requires Two-Factor Authentication")
	e.clock.Advance(11 * time.Minute)
	r = c2.get("/login")
	r.wantStatus(t, http.StatusOK)
	r.wantBody(t, `action="/login"`)
	if !strings.Contains(setCookie(r, "gatehouse_login"), "Max-Age=0") {
		t.Error("the dead attempt's cookie is kept")
	}
}

func TestNewUserWithTwoFactorYes(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	a := e.client()
	a.signIn("admin")
	form := a.get("/admin/users/new")
	form.wantBody(t, "Two-Factor Authentication", `id="f-2fa-no" name="two_factor" type="radio" value="no" checked`)
	r := a.post("/admin/users/new", url.Values{
		"username": {"erin"}, "name": {"Erin Example"}, "email": {"erin@example.com"}, "password": {testPassword},
		"role": {"user"}, "two_factor": {"yes"},
	})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", r.StatusCode, excerpt(r.body))
	}
	a.follow(r).wantBody(t, "Erin Example has been created", "Pending setup on next login")
	a.get("/admin/users?status=pending").wantBody(t, "erin")
	if strings.Contains(a.get("/admin/users?status=enabled").body, ">erin<") {
		t.Error("erin listed as Enabled")
	}
	a.get("/admin").wantBody(t, "<svg", `href="/admin/users?status=pending"`)

	c := e.client()
	c.login("erin", testPassword).wantRedirect(t, "/login/enroll")
}

func TestAdminPagesNeedAnAdmin(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	for _, p := range []string{"/admin", "/admin/users", "/profile"} {
		c.get(p).wantRedirect(t, "/login")
	}
	c.signIn("alice")
	for _, p := range []string{"/admin", "/admin/users", "/admin/audit", "/admin/users/1"} {
		c.get(p).wantStatus(t, http.StatusForbidden)
	}
	if strings.Contains(c.get("/profile").body, "Administration") {
		t.Error("a user sees the Administration tab")
	}
}

func TestFirstAdminLink(t *testing.T) {
	e := newEnv(t)
	link, err := e.srv.FirstAdminURL(context.Background(), e.ts.URL)
	if err != nil || link == "" {
		t.Fatalf("FirstAdminURL: %q, %v", link, err)
	}
	path := strings.TrimPrefix(link, e.ts.URL)
	c := e.client()
	c.get(path).wantBody(t, "Create the first administrator", "Username", "Name", "Email", "Password")
	c.get("/setup/wrong-token").wantStatus(t, http.StatusNotFound)

	// A typo in the confirmation: nothing is created, what was typed stays, the link still works.
	r := c.post(path, url.Values{"username": {"root"}, "name": {"Rita Root"}, "password": {testPassword}, "confirm_password": {testPassword + "x"}})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "Password and Confirm password do not match", "no administrator was created", `value="root"`, `value="Rita Root"`)
	if need, err := e.svc.NeedsFirstAdmin(context.Background()); err != nil || !need {
		t.Fatalf("after mismatched passwords NeedsFirstAdmin = %v, %v; want true", need, err)
	}
	c.get(path).wantBody(t, "Confirm password")

	r = c.post(path, url.Values{"username": {"root"}, "name": {"Rita Root"}, "email": {"rita@example.com"}, "password": {"short"}, "confirm_password": {"short"}})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "at least 8 characters", `value="root"`, `value="Rita Root"`)
	// Every problem at once, the browser's one-at-a-time check left out, what was typed kept.
	r = c.post(path, url.Values{"name": {"Rita Root"}, "email": {"rita at example"}})
	r.wantStatus(t, http.StatusBadRequest)
	r.wantBody(t, "Enter a username.", "is not an email address.", "at least 8 characters", `value="Rita Root"`, `value="rita at example"`, "novalidate")
	c.post(path, url.Values{"username": {"root"}, "name": {"Rita Root"}, "password": {testPassword}, "confirm_password": {testPassword}}).wantRedirect(t, "/login")
	c.post(path, url.Values{"username": {"root2"}, "password": {testPassword}, "confirm_password": {testPassword}}).wantStatus(t, http.StatusNotFound)
	gone := c.get(path)
	gone.wantStatus(t, http.StatusNotFound)
	// The command line works for who ran `go run .` (no gatehouse program) and with a binary;
	// each command is whole in one <code>, not a sentence's tail that wraps anywhere.
	gone.wantBody(t, "Link not valid",
		`<pre class="command" tabindex="0" aria-label="Command for the source folder"><code>printf &#39;%s\n&#39; &#39;PASSWORD&#39; | go run . user create --username NAME --admin --password-stdin</code></pre>`,
		`<pre class="command" tabindex="0" aria-label="Command for a built gatehouse program"><code>printf &#39;%s\n&#39; &#39;PASSWORD&#39; | gatehouse user create --username NAME --admin --password-stdin</code></pre>`,
		"<code>--data DIR</code>")
	c.get("/login").wantBody(t, "The administrator account root is ready")
	c.signIn("root")
	c.get("/admin").wantStatus(t, http.StatusOK)
	if link, _ := e.srv.FirstAdminURL(context.Background(), e.ts.URL); link != "" {
		t.Errorf("a setup link once an administrator exists: %q", link)
	}
	if strings.Contains(e.logs.String(), strings.TrimPrefix(path, "/setup/")) {
		t.Error("the setup token is in the log")
	}
}

// TestServePrintsWorkingCommands: what serve prints after the setup link names a command for
// someone who followed the README (`go run .`, no gatehouse program) and one for a binary.
func TestServePrintsWorkingCommands(t *testing.T) {
	for _, want := range []string{
		"\n    printf '%s\\n' 'PASSWORD' | go run . user create --username NAME --admin --password-stdin\n",
		"\n    printf '%s\\n' 'PASSWORD' | gatehouse user create --username NAME --admin --password-stdin\n",
		"--data DIR",
	} {
		if text := FirstAdminCLIText("", false); !strings.Contains(text, want) {
			t.Errorf("serve's first-administrator text lacks %q:\n%s", want, text)
		}
	}
}

// TestLoginPageWithoutAdmin: the page the root URL leads to says how to create the first
// administrator while there is none, and stops saying it once there is one.
func TestLoginPageWithoutAdmin(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.follow(c.get("/"))
	r.wantStatus(t, http.StatusOK)
	r.wantBody(t, "No administrator yet", "one-time setup link", "<code>serve</code>",
		"go run . user create --username NAME --admin --password-stdin", `action="/login"`)
	// A failed login on such a System says it too.
	c.login("nobody", "a wrong password").wantBody(t, "No administrator yet", "Incorrect username or password.")

	e.user("alice", backend.RoleUser, false) // users but no administrator: still no way in
	c.get("/login").wantBody(t, "No administrator yet")

	e.user("admin", backend.RoleAdmin, false)
	if body := c.get("/login").body; strings.Contains(body, "No administrator yet") || strings.Contains(body, "user create") {
		t.Errorf("the login page still offers to create the first administrator:\n%s", excerpt(body))
	}
}

func TestFirstAdminLinkExpires(t *testing.T) {
	e := newEnv(t)
	link, _ := e.srv.FirstAdminURL(context.Background(), e.ts.URL)
	e.clock.Advance(61 * time.Minute)
	e.client().get(strings.TrimPrefix(link, e.ts.URL)).wantStatus(t, http.StatusNotFound)
}

func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	key, codes := c.enrollFromProfile()
	c.post("/logout", nil)
	r := c.login("alice", testPassword)
	attempt := strings.TrimPrefix(strings.Split(setCookie(r, "gatehouse_login"), ";")[0], "gatehouse_login=")
	code := e.code(key)
	r = c.post("/login/verify", url.Values{"code": {code}})
	session := strings.TrimPrefix(strings.Split(setCookie(r, "gatehouse_session"), ";")[0], "gatehouse_session=")
	c.get("/profile?secret=in-the-query")
	logs := e.logs.String()
	if !strings.Contains(logs, "path=/profile") || !strings.Contains(logs, "status=") || !strings.Contains(logs, "duration=") {
		t.Fatalf("no request lines in the log:\n%s", logs)
	}
	for _, secret := range append([]string{testPassword, key, code, attempt, session, "in-the-query"}, codes...) {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}

func TestRun(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Run serves on the listener the test holds: no free port to find and lose again, and no
	// polling until it listens (the connection waits in the backlog until Run accepts it).
	addr := ln.Addr().String()
	// Run prints nothing itself: what main prints comes from OnStart. (Not parallel: no other
	// test runs while os.Stdout is swapped.)
	stdout := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	printed := make(chan string, 1)
	go func() { b, _ := io.ReadAll(r); printed <- string(b) }()
	started := make(chan Started, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Service: e.svc, Logger: e.srv.log, Listener: ln, OnStart: func(s Started) { started <- s }})
	}()
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	os.Stdout = stdout
	w.Close()
	if out := <-printed; out != "" {
		t.Errorf("Run printed %q on standard output, want nothing", out)
	}
	s := <-started
	if s.URL != "http://"+addr || s.SMSSandboxURL != "" || !strings.HasPrefix(s.FirstAdminLink, s.URL+"/setup/") {
		t.Fatalf("OnStart got %+v, want the URL http://%s, no sandbox and a first-administrator link", s, addr)
	}
	// The link is the live one (another server on the store serves it), and not in the log.
	e.client().get(strings.TrimPrefix(s.FirstAdminLink, s.URL)).wantBody(t, "Create the first administrator")
	if strings.Contains(e.logs.String(), strings.TrimPrefix(s.FirstAdminLink, s.URL+"/setup/")) {
		t.Error("the setup token is in the log")
	}
}

// TestSessionEndedNotice: a session that ends under the user — here an administrator requires
// Two-Factor Authentication — sends the next request to the login page with a notice saying so.
func TestSessionEndedNotice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("carol", backend.RoleUser, false)
	c := e.client()
	c.signIn("carol")
	c.get("/profile").wantStatus(t, http.StatusOK)
	if _, err := e.svc.RequireTwoFactor(context.Background(), e.svc.Operator(), u.ID); err != nil {
		t.Fatal(err)
	}
	r := c.get("/profile")
	r.wantRedirect(t, "/login")
	c.follow(r).wantBody(t, "Your session has ended. Log in again.")
	// Without a session cookie at all, no such notice.
	e.client().get("/profile").wantRedirect(t, "/login")
}

// TestAdminSeesLockAndUnlocks: after too many failed logins the user page and the Users list say
// the account is locked, and until when; "Unlock" lets the user in again at once.
// TestDisabledBeatsLocked: an account both disabled and locked reads Disabled (backend's
// AccountState; the console and the command line test the same), with no Unlock.
func TestDisabledBeatsLocked(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	b := e.client()
	for i := range 10 {
		e.clock.Advance(31 * time.Second)
		b.login("bob", fmt.Sprintf("wrong password %d", i))
	}
	off := true
	if _, err := e.svc.UpdateUser(context.Background(), e.svc.Operator(), bob.ID, backend.UserChanges{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	u, _ := e.svc.User(context.Background(), e.svc.Operator(), bob.ID)
	if !e.svc.Locked(u) || e.svc.AccountState(u) != backend.AccountDisabled {
		t.Fatalf("bob: locked %v, state %q; want locked and disabled", e.svc.Locked(u), e.svc.AccountState(u))
	}
	a := e.client()
	a.signIn("admin")
	label := backend.AccountDisabled.Label()
	a.get("/admin/users?q=bob").wantBody(t, `<td class="hide-phone">`+label+`</td>`)
	page := a.get(fmt.Sprintf("/admin/users/%d", bob.ID))
	page.wantBody(t, "<dd>"+label+"</dd>")
	if strings.Contains(page.body, "account-locked") || strings.Contains(page.body, ">Unlock<") {
		t.Error("the page of a disabled, locked account says Locked or offers Unlock")
	}
}

func TestAdminSeesLockAndUnlocks(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	a := e.client()
	a.signIn("admin")
	page := fmt.Sprintf("/admin/users/%d", bob.ID)
	if body := a.get(page).body; strings.Contains(body, "Locked") || strings.Contains(body, "Unlock") {
		t.Error("the page of an account that is not locked says Locked or offers Unlock")
	}

	b := e.client()
	for i := range 10 {
		e.clock.Advance(31 * time.Second) // past each wait after a failure
		if r := b.login("bob", fmt.Sprintf("wrong password %d", i)); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: status %d, want 401", i, r.StatusCode)
		}
	}
	locked := b.login("bob", testPassword)
	locked.wantStatus(t, http.StatusTooManyRequests)
	locked.wantBody(t, "Too many failed attempts: try again after ", ", or ask your administrator.")
	until := backend.FormatTime(e.clock.Now().Add(15 * time.Minute))
	e.clock.Advance(6 * time.Minute) // the administrator's login, 11 minutes ago, no longer confirms the password
	a.get(page).wantBody(t, `id="account-locked"`, "Locked until "+until+", after too many failed attempts", "Unlock", `name="current_password"`)
	a.get("/admin/users?q=bob").wantBody(t, "<td class=\"hide-phone\">Locked</td>")

	// Lifting a lock needs the administrator's password.
	a.post(page+"/unlock", nil).wantBody(t, "Confirm your password to continue.", `id="account-locked"`)
	b.login("bob", testPassword).wantStatus(t, http.StatusTooManyRequests)
	r := a.post(page+"/unlock", url.Values{"current_password": {testPassword}})
	r.wantRedirect(t, page)
	a.follow(r).wantBody(t, backend.DescribeUserAction(backend.ActionUnlock, bob).Done, "Active")
	b.login("bob", testPassword).wantRedirect(t, "/")
	a.get("/admin/audit").wantBody(t, "Account unlocked by an administrator")

	// Not locked any more: Unlock is refused, and says why.
	a.post(page+"/unlock", nil).wantBody(t, "Bob Example is not locked.")
}

// TestListPageOutOfRange: a page number past the last page (a stale link, a typed URL) goes to
// the last page, keeping the filters, instead of "No users match. 5 users · page 999 of 1".
func TestListPageOutOfRange(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	for i := range 30 {
		e.user(fmt.Sprintf("user%02d", i), backend.RoleUser, i%2 == 0)
	}
	c := e.client()
	c.signIn("admin")
	for _, tc := range []struct{ path, want string }{
		{"/admin/users?page=999", "/admin/users?page=2"},
		{"/admin/users?page=9223372036854775807", "/admin/users?page=2"},
		{"/admin/users?status=pending&page=3", "/admin/users?status=pending"},
		{"/admin/users?q=nobody&page=2", "/admin/users?q=nobody"},
		{"/admin/audit?page=999", "/admin/audit?page=2"},
	} {
		c.get(tc.path).wantRedirect(t, tc.want)
	}
	c.get("/admin/users?page=2").wantBody(t, "31 users · page 2 of 2")
	c.get("/admin/users?q=nobody").wantBody(t, "No users match")
}

// TestAdminFormsAskPassword: an administrator who has not confirmed their password lately is
// asked for it on the forms that remove a factor or set a password, and on a role change; a
// wrong password changes nothing; the right one does the change in one step.
func TestAdminFormsAskPassword(t *testing.T) {
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, true)
	a := e.client()
	a.signIn("admin")
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPasswordWeb)
	field := `name="current_password"`
	base := fmt.Sprintf("/admin/users/%d", bob.ID)

	a.get(base+"/disable-two-factor").wantBody(t, field, "need your own password")
	if strings.Contains(a.get(base+"/require-two-factor").body, field) {
		t.Error("Require Two-Factor asks for the password: it removes nothing")
	}
	a.get(base+"/edit").wantBody(t, `<dialog id="dialog-disable-two-factor"`, field)

	// Without the password, or with a wrong one: the form again, and nothing changed.
	r := a.post(base+"/disable-two-factor", nil)
	r.wantBody(t, "Confirm your password to continue.", field)
	r = a.post(base+"/disable-two-factor", url.Values{"current_password": {"not my password"}})
	r.wantStatus(t, http.StatusUnauthorized)
	r.wantBody(t, "Incorrect password.", field)
	status := func() backend.TwoFactorStatus {
		u, _ := e.svc.User(context.Background(), e.svc.Operator(), bob.ID)
		return u.TwoFactorStatus()
	}
	if got := status(); got != backend.StatusPending {
		t.Fatalf("bob after the refused disables: %q, want %q", got, backend.StatusPending)
	}
	// The right password: done at once.
	a.post(base+"/disable-two-factor", url.Values{"current_password": {testPassword}}).wantRedirect(t, base)
	if got := status(); got != backend.StatusNo {
		t.Errorf("bob after the disable: %q, want %q", got, backend.StatusNo)
	}
	// Confirmed a moment ago: no field.
	if strings.Contains(a.get(base+"/password").body, field) {
		t.Error("Set password asks for the password just after it was confirmed")
	}

	// The confirmation lapses: setting a password or a role asks again.
	e.clock.Advance(11 * time.Minute)
	a.get(base+"/password").wantBody(t, field)
	r = a.post(base+"/password", url.Values{"password": {"a password from the admin"}})
	r.wantBody(t, "Confirm your password to continue.", field)
	b := e.client()
	b.login("bob", "a password from the admin").wantStatus(t, http.StatusUnauthorized)
	edit := url.Values{"name": {"Bob Example"}, "email": {""}, "role": {"admin"}, "account": {"active"}}
	r = a.post(base+"/edit", edit)
	r.wantBody(t, "Confirm your password to continue.", field)
	edit.Set("current_password", testPassword)
	a.post(base+"/edit", edit).wantRedirect(t, base)
	if u, _ := e.svc.User(context.Background(), e.svc.Operator(), bob.ID); u.Role != backend.RoleAdmin {
		t.Errorf("bob's role after the edit with the password: %q, want admin", u.Role)
	}
	// "Save changes" again with nothing changed saves nothing and says so.
	r = a.post(base+"/edit", edit)
	r.wantStatus(t, http.StatusConflict)
	r.wantBody(t, "Nothing to change")

	// Making a new administrator too.
	e.clock.Advance(11 * time.Minute)
	nu := url.Values{"username": {"carol"}, "password": {"carols long password"}, "role": {"admin"}, "two_factor": {"no"}}
	a.post("/admin/users/new", nu).wantBody(t, "Confirm your password to continue.", field)
	if _, err := e.svc.UserByUsername(context.Background(), e.svc.Operator(), "carol"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("carol after the refused New User: %v, want not found", err)
	}
	nu.Set("current_password", testPassword)
	if r := a.post("/admin/users/new", nu); r.StatusCode != http.StatusSeeOther {
		t.Errorf("New User admin with the password: status %d, want 303", r.StatusCode)
	}
}
