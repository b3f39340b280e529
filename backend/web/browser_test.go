package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gatehouse/backend"
	"gatehouse/backend/browsertest"
)

// Browser tests drive real headless Chromium through the three journeys of the help article.

// shotsDir is where screenshots go, to be looked at (not committed).
var shotsDir = browsertest.ShotsDir()

// browser starts Chromium for a test; without it the test fails: CI installs it, and a browser
// test that skips proves nothing.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Start(t)
}

// tab is one person at one browser: a new browser context, with its own cookies.
type tab struct {
	t   *testing.T
	e   *env
	ctx context.Context

	checked    map[string]bool // page states axe-core checked (checkA11y)
	a11yChecks int
	noScript   bool // JavaScript is off (a browser without it)
}

func (e *env) tab(t *testing.T, b context.Context) *tab {
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// A bound on the tab's whole journey (the longest takes ~30 s under -race on a busy 2-CPU
	// machine), there to end a hung test, not to time it: waitFor bounds each step.
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelT)
	tb := &tab{t: t, e: e, ctx: ctx}
	t.Cleanup(func() { t.Log(tb.a11yReport()) })
	tb.do(chromedp.EmulateViewport(1280, 900))
	// Record what the Content-Security-Policy blocks: a page of the System must trip none of it.
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// open loads a page of the System.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.e.ts.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
	tb.checkA11y()
}

func (tb *tab) eval(js string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true.
func (tb *tab) waitFor(js string) {
	tb.t.Helper()
	if err := browsertest.WaitFor(tb.ctx, js, 10*time.Second); err != nil {
		tb.t.Fatalf("%v (url %s); page:\n%s", err, tb.eval("location.href"), tb.text())
	}
}

// text is the page's visible text.
func (tb *tab) text() string {
	v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	return v
}

// waitHeading waits for a page whose h1 contains text.
func (tb *tab) waitHeading(text string) {
	tb.t.Helper()
	tb.waitFor(fmt.Sprintf(`document.readyState === "complete" && document.querySelector("h1") && document.querySelector("h1").textContent.includes(%q)`, text))
	tb.checkA11y()
}

// click clicks, with the mouse, the visible link or button whose text is text.
func (tb *tab) click(text string) {
	tb.t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll("a, button, summary, label")].find(e => e.textContent.trim() === %q && e.getClientRects().length > 0)`, text)
	tb.waitFor(sel)
	tb.eval(fmt.Sprintf(`(() => {
		document.querySelectorAll("[data-test-click]").forEach(e => e.removeAttribute("data-test-click"));
		%s.setAttribute("data-test-click", "1");
		return "" })()`, sel))
	tb.do(chromedp.Click(chromedp.CSS(`[data-test-click="1"]`)))
}

// fill types into the field labelled label.
func (tb *tab) fill(label, value string) {
	tb.t.Helper()
	id := tb.eval(fmt.Sprintf(`(() => { const l = [...document.querySelectorAll("label")].find(l => l.textContent.trim() === %q); return l ? l.htmlFor : "" })()`, label))
	if id == "" {
		tb.t.Fatalf("no field labelled %q on %s", label, tb.eval("location.pathname"))
	}
	tb.eval(fmt.Sprintf(`document.getElementById(%q).value = ""`, id))
	tb.do(chromedp.SendKeys(chromedp.CSS("#"+id), value))
}

func (tb *tab) wantText(texts ...string) {
	tb.t.Helper()
	page := tb.text()
	for _, s := range texts {
		if !strings.Contains(page, s) {
			tb.t.Fatalf("page %s lacks %q:\n%s", tb.eval("location.pathname"), s, page)
		}
	}
}

func (tb *tab) logIn(username, password string) {
	tb.t.Helper()
	tb.open("/login")
	tb.fill("Username", username)
	tb.fill("Password", password)
	tb.click("Log in")
}

// openMenu opens the menu under the username, upper right.
func (tb *tab) openMenu() {
	tb.t.Helper()
	tb.do(chromedp.Click(chromedp.CSS(".user-menu summary")))
	tb.waitFor(`document.querySelector(".user-menu").open`)
}

func (tb *tab) logOut() {
	tb.t.Helper()
	tb.openMenu()
	tb.click("Log out")
	tb.waitHeading("Log in")
}

// screenshots saves full-page screenshots of the page at desktop and phone widths into
// shotsDir (file-desktop.png, file-phone.png), checking what every page of the System must
// hold: every field has a label, the Content-Security-Policy blocked nothing, and on the
// phone nothing is wider than its screen, nor any table cut off.
func (tb *tab) screenshots(file string) {
	t := tb.t
	t.Helper()
	tb.waitFor(`document.readyState === "complete"`)
	missing := tb.eval(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter(i => i.labels.length === 0 && !i.closest("dialog:not([open])")).map(i => i.name).join(",")`)
	if missing != "" {
		t.Errorf("%s: fields without a label: %s", file, missing)
	}
	if blocked := tb.eval(`(window.__csp || []).join(", ")`); blocked != "" {
		t.Errorf("%s: the Content-Security-Policy blocked: %s", file, blocked)
	}
	browsertest.Shoot(t, tb.ctx, shotsDir, file, func(w browsertest.Width) {
		tb.checkA11y()
		if !w.Mobile {
			return
		}
		if over := tb.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" {
			t.Errorf("%s: the page is %spx wider than a phone", file, over)
		}
		// A table may scroll inside its frame, but then its columns are cut off.
		if cut := tb.eval(`[...document.querySelectorAll(".table-wrap")].filter(w => w.scrollWidth > w.clientWidth).map(w => w.querySelector("table").id).join(",")`); cut != "" {
			t.Errorf("%s: tables wider than a phone: %s", file, cut)
		}
	}, browsertest.Desktop, browsertest.Phone)
}

// enrollWithApp walks the 4-step "Use an App" page from the choice page, and returns the key and
// the recovery codes shown after it.
func (tb *tab) enrollWithApp(username string) (key string, codes []string) {
	tb.t.Helper()
	tb.waitHeading("Use an App")
	tb.wantText("Install an authenticator app", "Scan the QR code", "Enter the code", "Enable Two-Factor")
	if w := tb.eval(`String(document.querySelector(".qr img").naturalWidth)`); w == "0" {
		tb.t.Fatal("the QR code image did not load")
	}
	key = strings.ReplaceAll(tb.eval(`document.querySelector("#totp-key").textContent`), " ", "")
	tb.fill("Authentication code", tb.e.code(key))
	tb.click("Enable Two-Factor")
	tb.waitHeading("Save your recovery codes")
	codes = tb.codes()
	tb.wantText("Account: "+username, "Print", "Download", "I have saved these codes")
	return key, codes
}

func (tb *tab) codes() []string {
	list := tb.eval(`[...document.querySelectorAll("#recovery-codes code")].map(e => e.textContent).join(" ")`)
	codes := strings.Fields(list)
	if len(codes) != backend.RecoveryCodeCount {
		tb.t.Fatalf("got %d recovery codes, want %d: %q", len(codes), backend.RecoveryCodeCount, list)
	}
	return codes
}

func TestBrowserEnableTwoFactorForYourself(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)

	// 1. Log into your System. 2. Your Username, upper right -> "Profile".
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.openMenu()
	tb.click("Profile")
	tb.waitHeading("Profile")
	tb.wantText("Two-Factor Authentication", "No")
	// 4. The blue "Setup Two-Factor" button.
	if cls := tb.eval(`[...document.querySelectorAll(".card-foot a")].find(a => a.textContent === "Setup Two-Factor").className`); !strings.Contains(cls, "primary") {
		t.Errorf("Setup Two-Factor is %q, want the blue primary button", cls)
	}
	tb.click("Setup Two-Factor")
	tb.waitHeading("Setup Two-Factor")
	// 5. The green "Use an App".
	if cls := tb.eval(`[...document.querySelectorAll("button")].find(a => a.textContent === "Use an App").className`); !strings.Contains(cls, "green") {
		t.Errorf("Use an App is %q, want green", cls)
	}
	// Just logged in: the login confirmed the password, so the choice asks for nothing more.
	if has := tb.eval(`String(!!document.querySelector("input[name=current_password]"))`); has != "false" {
		t.Error("Setup Two-Factor right after logging in asks for the password again")
	}
	tb.click("Use an App")
	key, codes := tb.enrollWithApp("alice")

	// The Print sheet, as Chromium prints it: only the codes, the account and the date.
	checkPrintSheet(t, tb, codes, "alice")

	tb.click("I have saved these codes")
	tb.waitHeading("Profile")
	tb.wantText("Enabled", "Authenticator app", "Regenerate recovery codes", "Disable Two-Factor")
	tb.logOut()

	// Log in with the app; the code just used is refused the second time.
	e.clock.Advance(30 * time.Second)
	code := e.code(key)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.fill("Authentication code", code)
	tb.click("Verify")
	tb.waitHeading("Profile")
	tb.logOut()
	tb.logIn("alice", testPassword)
	tb.waitHeading("Two-Factor Authentication")
	tb.fill("Authentication code", code)
	tb.click("Verify")
	tb.waitFor(`document.querySelector("#form-error")`)
	tb.wantText("That code is not valid")
	e.clock.Advance(30 * time.Second)
	tb.fill("Authentication code", e.code(key))
	tb.click("Verify")
	tb.waitHeading("Profile")
	tb.logOut()

	// Log in with a recovery code; the same code then fails.
	for i, want := range []string{"Profile", "Use a recovery code"} {
		tb.logIn("alice", testPassword)
		tb.waitHeading("Two-Factor Authentication")
		tb.click("Use a recovery code")
		tb.waitHeading("Use a recovery code")
		tb.fill("Recovery code", codes[0])
		tb.click("Verify")
		if i == 0 {
			tb.waitHeading(want)
			tb.wantText("4 of 5 unused")
			tb.logOut()
		} else {
			tb.waitFor(`document.querySelector("#form-error")`)
			tb.wantText("That code is not valid")
		}
	}
}

// checkPrintSheet prints the recovery codes page to PDF with Chromium and checks what is on it:
// with pdftotext, the PDF's own text; without it, what the print stylesheet leaves visible.
func checkPrintSheet(t *testing.T, tb *tab, codes []string, username string) {
	t.Helper()
	pdf, err := chromedp.Run(tb.ctx, chromedp.PrintToPDF())
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatal("PrintToPDF returned no PDF")
	}
	os.MkdirAll(shotsDir, 0o755)
	pdfPath := filepath.Join(shotsDir, "recovery-codes-print.pdf")
	os.WriteFile(pdfPath, pdf, 0o644)

	var printed string
	if _, err := exec.LookPath("pdftotext"); err == nil {
		out, err := exec.Command("pdftotext", "-layout", pdfPath, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		printed = string(out)
	} else {
		t.Log("pdftotext not installed: checking the print-media rendering in the DOM instead")
		if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		// innerText leaves out what CSS hides; visibility:hidden elements yield no text.
		printed = tb.eval(`(() => {
			const out = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
			for (let n = w.nextNode(); n; n = w.nextNode()) {
				const p = n.parentElement;
				if (n.textContent.trim() && getComputedStyle(p).visibility === "visible" && p.getClientRects().length > 0) out.push(n.textContent.trim());
			}
			return out.join("\n") })()`)
		chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
	}
	for _, want := range append([]string{username, "Gatehouse recovery codes", "Created"}, codes...) {
		if !strings.Contains(printed, want) {
			t.Errorf("the printed sheet lacks %q:\n%s", want, printed)
		}
	}
	for _, not := range []string{"I have saved these codes", "Download", "Log out"} {
		if strings.Contains(printed, not) {
			t.Errorf("the printed sheet shows %q:\n%s", not, printed)
		}
	}
}

func TestBrowserAdminRequiresTwoFactor(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	e.user("bob", backend.RoleUser, false)

	admin := e.tab(t, b)
	admin.logIn("admin", testPassword)
	admin.waitHeading("Profile")
	// 2. The "Administration" tab. 3. "Users". 4. A user from the list.
	admin.click("Administration")
	admin.waitHeading("Administration")
	admin.click("Users")
	admin.waitHeading("Users")
	admin.click("bob")
	admin.waitHeading("Bob Example")
	// 5. The light-gray "Edit this User" link.
	admin.click("Edit this User")
	admin.waitHeading("Edit this User")
	// 6-7. "Require Two-Factor" opens a pop-up; its blue button confirms.
	admin.click("Require Two-Factor")
	admin.waitFor(`document.querySelector("#dialog-require-two-factor").open`)
	msg := admin.eval(`document.querySelector("#dialog-require-two-factor").innerText`)
	if !strings.Contains(msg, "will now be required to enroll in Two-Factor Authentication upon log in") {
		t.Errorf("pop-up says %q", msg)
	}
	if cls := admin.eval(`document.querySelector("#dialog-require-two-factor button[type=submit]").className`); !strings.Contains(cls, "primary") {
		t.Errorf("the pop-up's button is %q, want blue", cls)
	}
	admin.do(chromedp.Click(chromedp.CSS(`#dialog-require-two-factor button[type=submit]`)))
	// 8. The light-blue status bar; the status reads "Pending setup on next login".
	admin.waitFor(`document.querySelector(".status-bar")`)
	admin.wantText("will be asked to enroll upon log in", "Pending setup on next login")
	if bg := admin.eval(`getComputedStyle(document.querySelector(".status-bar")).backgroundColor`); bg != "rgb(219, 234, 254)" {
		t.Errorf("status bar background %s, want light blue", bg)
	}

	// The user enrolls upon login, with no way around it.
	bob := e.tab(t, b)
	bob.logIn("bob", testPassword)
	bob.waitHeading("Two-Factor Authentication is required")
	bob.wantText("Your administrator requires Two-Factor Authentication", "Use an App", "Use SMS", "Log out")
	// SMS is off: the choice screen says so (backend's sentence) instead of a working Use SMS.
	bob.wantText("SMS is not available")
	bob.click("Use an App")
	bob.enrollWithApp("bob")
	bob.click("I have saved these codes")
	bob.waitHeading("Profile")
	bob.wantText("Enabled")

	// "Once the user has enrolled the status will change to Enabled."
	admin.do(chromedp.Reload())
	admin.waitHeading("Bob Example")
	admin.wantText("Enabled")
}

func TestBrowserNewUserWithTwoFactorYes(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)

	admin := e.tab(t, b)
	admin.logIn("admin", testPassword)
	admin.waitHeading("Profile")
	admin.click("Administration")
	admin.click("Users")
	admin.waitHeading("Users")
	admin.click("New User")
	admin.waitHeading("New User")
	if v := admin.eval(`document.querySelector("input[name=two_factor]:checked").value`); v != "no" {
		t.Errorf("Two-Factor Authentication defaults to %q, want No", v)
	}
	admin.fill("Username", "erin")
	admin.fill("Name", "Erin Example")
	admin.fill("Email", "erin@example.com")
	admin.fill("Password", testPassword)
	admin.click("Yes")
	admin.click("Create User")
	admin.waitHeading("Erin Example")
	admin.wantText("Pending setup on next login")

	erin := e.tab(t, b)
	erin.logIn("erin", testPassword)
	erin.waitHeading("Two-Factor Authentication is required")
	erin.click("Use an App")
	erin.enrollWithApp("erin")
	erin.click("I have saved these codes")
	erin.waitHeading("Profile")
	erin.wantText("Enabled")

	admin.open("/admin")
	admin.waitHeading("Administration")
	// The overview chart links to the filtered list.
	admin.do(chromedp.Click(chromedp.CSS(`a.bar-enabled`)))
	admin.waitHeading("Users")
	admin.wantText("erin")
	if strings.Contains(admin.text(), "admin@example.com") || admin.eval(`new URL(location.href).searchParams.get("status")`) != "enabled" {
		t.Errorf("the chart's Enabled bar led to %s", admin.eval("location.href"))
	}
}

func TestBrowserCrossOriginPostRefused(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("admin", backend.RoleAdmin, false)
	// Another site (another origin on the same machine: same-site, so even SameSite=Lax cookies
	// go along) with a form aimed at the System.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!DOCTYPE html><form method="post" action="%s/admin/users/new">
			<input type="hidden" name="username" value="mallory"><input type="hidden" name="password" value="a long password 1">
			<input type="hidden" name="role" value="admin"><button type="submit">Win a prize</button></form>`, e.ts.URL)
	}))
	defer evil.Close()

	tb := e.tab(t, b)
	tb.logIn("admin", testPassword)
	tb.waitHeading("Profile")
	tb.do(chromedp.Navigate(evil.URL), chromedp.WaitReady(chromedp.CSS("button")))
	tb.click("Win a prize")
	tb.waitHeading("Request refused")
	page, err := e.svc.Users(context.Background(), e.svc.Operator(), backend.UserFilter{Search: "mallory"})
	if err != nil || page.Total != 0 {
		t.Fatalf("the cross-origin POST created a user (%v, %d)", err, page.Total)
	}
	tb.open("/admin/users")
	tb.waitHeading("Users") // still signed in, nothing changed
}

// TestBrowserScreenshots renders every page at desktop and phone widths into shotsDir, and
// checks on each that every field has a label and nothing overflows the phone's width.
func TestBrowserScreenshots(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	os.MkdirAll(shotsDir, 0o755)
	anon := e.tab(t, b)

	n := 0
	snap := func(name string, tb *tab) {
		t.Helper()
		n++
		tb.screenshots(fmt.Sprintf("%02d-%s", n, name))
	}

	// Before any administrator: the setup link.
	link, err := e.srv.FirstAdminURL(context.Background(), e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	anon.open("/")
	anon.waitHeading("Log in")
	snap("login-no-admin", anon)
	anon.open(strings.TrimPrefix(link, e.ts.URL))
	snap("first-admin", anon)
	anon.fill("Username", "root")
	anon.fill("Password", testPassword)
	anon.fill("Confirm password", testPassword+"!")
	anon.click("Create administrator")
	anon.waitFor(`document.querySelector("#form-error")`)
	snap("first-admin-mismatch", anon)
	anon.open("/setup/not-a-valid-link")
	snap("setup-link-not-valid", anon)

	e.user("admin", backend.RoleAdmin, false)
	e.user("alice", backend.RoleUser, false)
	bob := e.user("bob", backend.RoleUser, true)
	for i := range 7 {
		e.user("user"+strconv.Itoa(i), backend.RoleUser, i%3 == 0)
	}

	anon.open("/login")
	snap("login", anon)
	anon.logIn("admin", "not the password")
	anon.waitFor(`document.querySelector("#form-error")`)
	snap("login-error", anon)
	anon.logIn("admin", testPassword)
	anon.waitHeading("Profile")
	anon.logOut()
	snap("logged-out", anon)

	// A required user, upon login.
	bt := e.tab(t, b)
	bt.logIn("bob", testPassword)
	bt.waitHeading("Two-Factor Authentication is required")
	// SMS is off here: the choice screen says so instead of a working "Use SMS".
	bt.wantText("SMS is not available")
	snap("enroll-required", bt)
	bt.click("Use an App")
	bt.waitHeading("Use an App")
	snap("use-an-app", bt)
	bt.fill("Authentication code", "123456")
	bt.click("Enable Two-Factor")
	bt.waitFor(`document.querySelector("#form-error")`)
	snap("use-an-app-wrong-code", bt)
	key := strings.ReplaceAll(bt.eval(`document.querySelector("#totp-key").textContent`), " ", "")
	bt.fill("Authentication code", e.code(key))
	bt.click("Enable Two-Factor")
	bt.waitHeading("Save your recovery codes")
	snap("recovery-codes", bt)
	bobCodes := bt.codes()
	bt.click("I have saved these codes")
	bt.waitHeading("Profile")
	snap("profile-enabled", bt)
	bt.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	bt.openMenu()
	snap("user-menu", bt)
	bt.open("/profile/recovery-codes")
	snap("regenerate", bt)
	bt.open("/profile/password")
	snap("change-password", bt)
	bt.logOut()
	e.clock.Advance(30 * time.Second)
	bt.logIn("bob", testPassword)
	bt.waitHeading("Two-Factor Authentication")
	snap("verify", bt)
	// The logo in the middle of the login: continue, or start over.
	bt.do(chromedp.Click(chromedp.CSS("a.brand")))
	bt.waitHeading("Continue logging in as bob")
	snap("continue-login", bt)
	bt.click("Continue logging in")
	bt.waitHeading("Two-Factor Authentication")
	bt.click("Use a recovery code")
	bt.waitHeading("Use a recovery code")
	snap("recovery-code", bt)
	bt.fill("Recovery code", bobCodes[0])
	bt.click("Verify")
	bt.waitHeading("Profile")
	bt.wantText("You used a recovery code to log in. 4 recovery codes left")
	snap("profile-after-recovery-code", bt)
	// Past the password confirmation window, the password is asked for on the page itself.
	e.clock.Advance(11 * time.Minute)
	bt.open("/profile/recovery-codes")
	bt.wantText("Your password")
	snap("regenerate-password", bt)

	// A user without two-factor.
	at := e.tab(t, b)
	at.logIn("alice", testPassword)
	at.waitHeading("Profile")
	snap("profile", at)
	e.clock.Advance(11 * time.Minute) // past the login's own confirmation of the password (TestLoginConfirmsPasswordWeb)
	at.click("Setup Two-Factor")
	at.waitHeading("Setup Two-Factor")
	snap("setup-two-factor", at)
	at.fill("Your password", "not the password")
	at.click("Use an App")
	at.waitFor(`document.querySelector("#form-error")`)
	snap("setup-two-factor-wrong-password", at)
	at.fill("Your password", testPassword)
	at.click("Use an App")
	at.waitHeading("Use an App")
	// The confirmation lapses while the page is open: the password prompt, then on.
	e.clock.Advance(11 * time.Minute)
	at.fill("Authentication code", "123456")
	at.click("Enable Two-Factor")
	at.waitHeading("Confirm your password")
	snap("confirm-password", at)
	at.open("/admin")
	snap("forbidden", at)

	// The administrator.
	ad := e.tab(t, b)
	ad.logIn("admin", testPassword)
	ad.waitHeading("Profile")
	ad.open("/admin")
	snap("admin-overview", ad)
	ad.open("/admin/users")
	snap("users", ad)
	ad.open("/admin/users?status=pending")
	snap("users-pending", ad)
	ad.open("/admin/users?page=999")
	ad.waitHeading("Users")
	if got := ad.eval("location.search"); got != "" {
		t.Errorf("users page 999: at %q, want the last page (the first)", got)
	}
	ad.open("/admin/users/new")
	snap("new-user", ad)
	ad.fill("Username", "frank smith")
	ad.fill("Name", "Frank Example")
	ad.fill("Password", testPassword)
	ad.click("Create User")
	ad.waitFor(`document.querySelector("#form-error")`)
	snap("new-user-error", ad)
	ad.open(fmt.Sprintf("/admin/users/%d", bob.ID))
	snap("user", ad)
	ad.open(fmt.Sprintf("/admin/users/%d/edit", bob.ID))
	snap("edit-user", ad)
	ad.click("Reset Two-Factor")
	ad.waitFor(`document.querySelector("#dialog-reset-two-factor").open`)
	snap("edit-user-dialog", ad)
	ad.open(fmt.Sprintf("/admin/users/%d/disable-two-factor", bob.ID))
	snap("confirm-no-js", ad)
	ad.open(fmt.Sprintf("/admin/users/%d/password", bob.ID))
	snap("set-password", ad)
	ad.open("/admin/audit")
	snap("audit-log", ad)
	ad.open("/no/such/page")
	snap("not-found", ad)
	t.Logf("%d pages, screenshots in %s", n, shotsDir)
}
