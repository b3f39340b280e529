package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gatehouse/backend"
)

// keyGroupsWhole is JavaScript that reports the groups of the key shown (#totp-key) that are
// broken across lines, "" when none is.
const keyGroupsWhole = `(() => {
	const node = document.querySelector("#totp-key").firstChild, text = node.textContent, broken = [];
	for (let i = 0; i < text.length; ) {
		const end = text.indexOf(" ", i) < 0 ? text.length : text.indexOf(" ", i);
		const r = document.createRange();
		r.setStart(node, i); r.setEnd(node, end);
		const tops = new Set([...r.getClientRects()].map(c => Math.round(c.top)));
		if (tops.size !== 1) broken.push(text.slice(i, end));
		i = end + 1;
	}
	return broken.join(" ") })()`

// TestBrowserAppSetupOnThePhone: setting up an app on the phone that has it needs no typing: a
// link opens the authenticator app with the otpauth:// URI, and Copy puts the key on the
// clipboard; the key is in groups of four that never break inside a group (issue 11).
func TestBrowserAppSetupOnThePhone(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.Call(tb.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: cdpbrowser.PermissionSettingGranted,
			Origin: e.ts.URL, BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID,
		}); err != nil {
			t.Fatal(err)
		}
	}
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	tb.open("/profile/two-factor") // the login just confirmed the password: no prompt
	tb.click("Use an App")
	tb.waitHeading("Use an App")
	tb.wantText("Open in your authenticator app", "Copy")
	key := strings.ReplaceAll(tb.eval(`document.querySelector("#totp-key").textContent`), " ", "")

	href := tb.eval(`document.querySelector("#otpauth-link").getAttribute("href")`)
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != key || !strings.Contains(u.Path, "alice") {
		t.Errorf("Open in your authenticator app links to %q, want otpauth://totp/…alice?secret=%s", href, key)
	}
	for _, width := range []int64{390, 320} {
		tb.do(chromedp.EmulateViewport(width, 800, chromedp.EmulateMobile, chromedp.EmulateTouch))
		tb.waitFor(fmt.Sprintf("window.innerWidth === %d", width))
		if broken := tb.eval(keyGroupsWhole); broken != "" {
			t.Errorf("at %d px the key breaks inside the groups %q", width, broken)
		}
		if lines := tb.eval(`String(new Set([...document.querySelector("#totp-key").getClientRects()].map(r => Math.round(r.top))).size)`); width == 320 && lines == "1" {
			t.Logf("at %d px the key fits one line", width)
		}
		tb.shot(fmt.Sprintf("use-an-app-%d", width))
	}

	if _, err := chromedp.Call(tb.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	tb.click("Copy")
	tb.waitFor(`document.querySelector("#copy-status").textContent.includes("Key copied")`)
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if got != key {
		t.Errorf("Copy put %q on the clipboard, want the key %q", got, key)
	}
	// The copied key works: the app's code enables Two-Factor.
	tb.fill("Authentication code", e.code(key))
	tb.click("Enable Two-Factor")
	tb.waitHeading("Save your recovery codes")
}

// TestBrowserWithoutJavaScript: without JavaScript the buttons that need it (Print, Copy) are
// not shown (issue 11: .button's display: flex beat the hidden attribute), and the hint that
// says how to print instead is laid out under the buttons, not squashed against them.
func TestBrowserWithoutJavaScript(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	tb.noScript = true
	tb.scriptsDisabled(true)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.open("/profile/two-factor") // the login just confirmed the password: no prompt
	tb.click("Use an App")
	tb.waitHeading("Use an App")
	if shown := tb.eval(`String(document.querySelector("button[data-copy]").getClientRects().length)`); shown != "0" {
		t.Error("the Copy button shows without JavaScript")
	}
	tb.wantText("Open in your authenticator app") // a plain link works without JavaScript
	key := strings.ReplaceAll(tb.eval(`document.querySelector("#totp-key").textContent`), " ", "")
	tb.fill("Authentication code", e.code(key))
	tb.click("Enable Two-Factor")
	tb.waitHeading("Save your recovery codes")
	for _, width := range []int64{1280, 390} {
		tb.do(chromedp.EmulateViewport(width, 900))
		tb.waitFor(fmt.Sprintf("window.innerWidth === %d", width))
		if shown := tb.eval(`String(document.querySelector("button[data-print]").getClientRects().length)`); shown != "0" {
			t.Errorf("at %d px the Print button shows without JavaScript", width)
		}
		// The hint: visible, below the buttons with room between, as wide as its text needs.
		layout := tb.eval(`(() => {
			const hint = document.querySelector("#print-hint"), actions = document.querySelector(".actions");
			if (!hint) return "no hint";
			const h = hint.getBoundingClientRect(), a = actions.getBoundingClientRect();
			if (h.height === 0) return "hidden";
			if (h.top < a.bottom + 8) return "only " + Math.round(h.top - a.bottom) + " px below the buttons";
			if (h.width < 250) return "squashed to " + Math.round(h.width) + " px";
			return "" })()`)
		if layout != "" {
			t.Errorf("at %d px the print hint without JavaScript: %s", width, layout)
		}
		tb.shot(fmt.Sprintf("recovery-codes-no-js-%d", width))
	}
}
