package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/browsertest"
	"gatehouse/backend/web"
)

const o2pPassword = "correct horse battery staple"

// TestOAuth2Proxy puts oauth2-proxy, an OpenID Connect client nobody here wrote, in front of a
// test app with Gatehouse as its issuer, and signs people in through real Chromium: the
// article's password and authenticator-app login (codes from oathtool, an independent TOTP
// client), an application with "Require Two-Factor" that sends a person without Two-Factor
// through the article's forced enrollment, and a disabled account that never reaches the app.
// Each proxy listens on a loopback address of its own (127.0.0.2, 127.0.0.3), so that to the
// browser it is another host than Gatehouse (127.0.0.1), with its own cookies.
func TestOAuth2Proxy(t *testing.T) {
	oathtool, err := exec.LookPath("oathtool")
	if err != nil {
		t.Fatal("oathtool not installed: install the Debian package oathtool (build/test.sh does)")
	}
	oauth2ProxyBinary(t) // the build, first: on a cold machine it takes minutes
	e := backendtest.New(t, backendtest.WithRealClock(), backendtest.WithAdmin("admin", o2pPassword))
	issuer := serveGatehouse(t, e)
	app := echoApp(t)

	// The administrator registers two applications, as the Applications page does.
	register := func(name string, requireTwoFactor bool, host string) *oauth2Proxy {
		addr := freeLoopbackAddr(t, host)
		a, secret, err := e.Service.CreateApp(t.Context(), e.Admin, backend.NewApp{
			Name:             name,
			RedirectURIs:     []string{oauth2ProxyRedirectURL(addr)},
			RequireTwoFactor: requireTwoFactor,
		})
		if err != nil {
			t.Fatalf("CreateApp(%s): %v", name, err)
		}
		return startOAuth2Proxy(t, oauth2ProxyConfig{Addr: addr, Issuer: issuer, ClientID: a.ClientID, ClientSecret: secret, Upstream: app.URL + "/"})
	}
	wiki := register("Wiki", false, "127.0.0.2")
	payroll := register("Payroll", true, "127.0.0.3")

	user := func(username string) *backend.User {
		return backendtest.CreateUser(t, e.Service, e.Admin, backend.NewUser{
			Username: username, DisplayName: strings.ToUpper(username[:1]) + username[1:] + " Example",
			Email: username + "@example.com", Password: o2pPassword,
		})
	}
	alice, bob, carol, dave := user("alice"), user("bob"), user("carol"), user("dave")
	aliceApp := backendtest.EnrollApp(t, e.Service, backendtest.SignIn(t, e.Service, "alice", o2pPassword), o2pPassword, time.Now())
	disabled := true
	if _, err := e.Service.UpdateUser(t.Context(), e.Admin, carol.ID, backend.UserChanges{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	// totp is the code of key that oathtool computes for a time step after the ones already
	// used: enrolling used the current one, and a code is accepted once.
	totp := func(key string) string {
		t.Helper()
		out, err := exec.Command(oathtool, "--totp", "-b", key, "-N", "@"+strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10)).Output()
		if err != nil {
			t.Fatalf("oathtool: %v", err)
		}
		return strings.TrimSpace(string(out))
	}

	b := browsertest.Start(t)

	t.Run("password and authenticator app", func(t *testing.T) {
		p := newPerson(t, b)
		p.open(wiki.URL + "/notes")
		p.waitLogin(issuer)
		p.shoot("sso-login")
		p.fill("Username", "alice")
		p.fill("Password", o2pPassword)
		p.click("Log in")
		p.waitHeading("Two-Factor Authentication")
		p.shoot("sso-totp")
		p.fill("Authentication code", totp(aliceApp.Key))
		p.click("Verify")
		p.waitApp(wiki, "/notes", alice)

		// Signed in to Gatehouse with both factors, she opens the other app without a login.
		p.open(payroll.URL + "/")
		p.waitApp(payroll, "/", alice)
	})

	t.Run("Require Two-Factor enrolls a person without it", func(t *testing.T) {
		p := newPerson(t, b)
		// The Wiki requires no second factor: the password is enough.
		p.open(wiki.URL + "/")
		p.waitLogin(issuer)
		p.fill("Username", "bob")
		p.fill("Password", o2pPassword)
		p.click("Log in")
		p.waitApp(wiki, "/", bob)

		// Payroll requires it: bob sets it up now, with no way around it, then arrives.
		p.open(payroll.URL + "/pay")
		p.waitHeading("Two-Factor Authentication is required")
		p.shoot("sso-enroll-required")
		p.click("Use an App")
		p.waitHeading("Use an App")
		key := strings.ReplaceAll(p.eval(`document.querySelector("#totp-key").textContent`), " ", "")
		p.fill("Authentication code", totp(key))
		p.click("Enable Two-Factor")
		p.waitHeading("Save your recovery codes")
		p.click("I have saved these codes")
		p.waitApp(payroll, "/pay", bob)

		u, err := e.Service.User(t.Context(), e.Admin, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.TwoFactorStatus(); got != backend.StatusEnabled {
			t.Errorf("bob's Two-Factor status: got %q, want %q", got, backend.StatusEnabled)
		}
	})

	t.Run("a disabled user is refused", func(t *testing.T) {
		p := newPerson(t, b)
		p.open(wiki.URL + "/")
		p.waitLogin(issuer)
		p.fill("Username", "carol")
		p.fill("Password", o2pPassword)
		p.click("Log in")
		p.waitFor(`document.querySelector("#form-error")`)
		p.shoot("sso-disabled")
		if got := p.eval("location.origin"); got != issuer {
			t.Errorf("a disabled user's login ends at %s, want Gatehouse (%s)", got, issuer)
		}
		p.notApp()

		// Dave is signed in to the Wiki when an administrator disables him: his Gatehouse
		// session ends, so once the Wiki's own session is gone he cannot sign in again.
		p = newPerson(t, b)
		p.open(wiki.URL + "/")
		p.waitLogin(issuer)
		p.fill("Username", "dave")
		p.fill("Password", o2pPassword)
		p.click("Log in")
		p.waitApp(wiki, "/", dave)
		if _, err := e.Service.UpdateUser(t.Context(), e.Admin, dave.ID, backend.UserChanges{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		p.open(wiki.URL + "/oauth2/sign_out") // ends oauth2-proxy's cookie session only
		p.open(wiki.URL + "/")
		p.waitLogin(issuer)
		p.fill("Username", "dave")
		p.fill("Password", o2pPassword)
		p.click("Log in")
		p.waitFor(`document.querySelector("#form-error")`)
		p.notApp()
	})
}

// serveGatehouse serves the real handler tree of e's Service on a loopback listener, its
// public URL (the issuer) that listener's address, and returns that URL.
func serveGatehouse(t *testing.T, e *backendtest.Env) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	srv, err := web.NewServer(web.Config{Service: e.Service, Logger: e.Logger, PublicURL: url})
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() {
		hs.Close()
		if t.Failed() {
			t.Logf("Gatehouse log:\n%s", e.Logs)
		}
	})
	return url
}

// A person is one person at the browser: a browser context of their own, with its cookies.
type person struct {
	t   *testing.T
	ctx context.Context
}

func newPerson(t *testing.T, b context.Context) *person {
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	p := &person{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.Desktop.Width, browsertest.Desktop.Height)); err != nil {
		t.Fatal(err)
	}
	// Record what a Content-Security-Policy blocks: a blocked navigation leaves the browser
	// where it was, and this says why.
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *person) open(url string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("open %s: %v", url, err)
	}
}

func (p *person) eval(js string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (p *person) text() string {
	v, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	return v
}

func (p *person) waitFor(js string) {
	p.t.Helper()
	if err := browsertest.WaitFor(p.ctx, js, 20*time.Second); err != nil {
		p.t.Fatalf("%v (at %s; blocked by the Content-Security-Policy: %s); page:\n%s", err, p.eval("location.href"), p.eval(`(window.__csp || []).join(", ") || "nothing"`), p.text())
	}
}

func (p *person) waitHeading(text string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`document.readyState === "complete" && document.querySelector("h1") && document.querySelector("h1").textContent.includes(%q)`, text))
}

// waitLogin waits for Gatehouse's login page, at the issuer.
func (p *person) waitLogin(issuer string) {
	p.t.Helper()
	p.waitHeading("Log in")
	if got := p.eval("location.origin + location.pathname"); got != issuer+"/login" {
		p.t.Fatalf("the login page is at %s, want %s/login", got, issuer)
	}
}

// waitApp waits until the browser shows the test app at path, through the proxy p, to u.
func (p *person) waitApp(proxy *oauth2Proxy, path string, u *backend.User) {
	p.t.Helper()
	p.waitFor(`document.contentType === "text/plain" && document.body.innerText.startsWith("Test app")`)
	if got := p.eval("location.origin"); got != proxy.URL {
		p.t.Errorf("the app is shown at %s, want through the proxy at %s", got, proxy.URL)
	}
	page := p.text()
	for _, want := range []string{
		"Path: " + path,
		"X-Forwarded-Email: " + u.Email,
		"X-Forwarded-Preferred-Username: " + u.Username,
	} {
		if !strings.Contains(page, want) {
			p.t.Errorf("the app lacks %q; it shows:\n%s", want, page)
		}
	}
	if strings.Contains(page, "X-Forwarded-User: \n") {
		p.t.Errorf("the app got no X-Forwarded-User (the subject); it shows:\n%s", page)
	}
}

// notApp checks that the browser does not show the test app.
func (p *person) notApp() {
	p.t.Helper()
	if page := p.text(); strings.HasPrefix(page, "Test app") {
		p.t.Errorf("the app was reached:\n%s", page)
	}
}

// fill types into the field labelled label.
func (p *person) fill(label, value string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf(`[...document.querySelectorAll("label")].some(l => l.textContent.trim() === %q)`, label))
	id := p.eval(fmt.Sprintf(`[...document.querySelectorAll("label")].find(l => l.textContent.trim() === %q).htmlFor`, label))
	if id == "" {
		p.t.Fatalf("the label %q names no field", label)
	}
	p.eval(fmt.Sprintf(`(() => { document.getElementById(%q).value = ""; return "" })()`, id))
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS("#"+id), value)); err != nil {
		p.t.Fatalf("type into %q: %v", label, err)
	}
}

// click clicks, with the mouse, the visible link or button whose text is text.
func (p *person) click(text string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll("a, button")].find(e => e.textContent.trim() === %q && e.getClientRects().length > 0)`, text)
	p.waitFor(sel)
	p.eval(fmt.Sprintf(`(() => {
		document.querySelectorAll("[data-test-click]").forEach(e => e.removeAttribute("data-test-click"));
		%s.setAttribute("data-test-click", "1");
		return "" })()`, sel))
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`[data-test-click="1"]`))); err != nil {
		p.t.Fatalf("click %q: %v", text, err)
	}
}

// shoot saves screenshots of the page at 1280 and 390 px (browsertest.ShotsDir), to be looked at.
func (p *person) shoot(name string) {
	p.t.Helper()
	p.waitFor(`document.readyState === "complete"`)
	browsertest.Shoot(p.t, p.ctx, browsertest.ShotsDir(), name, nil, browsertest.Desktop, browsertest.Phone)
}
