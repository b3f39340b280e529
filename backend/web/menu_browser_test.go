package web

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"gatehouse/backend"
)

// mouseTo moves the mouse to the centre of the first element matching the CSS selector, or to
// x, y when selector is "".
func (tb *tab) mouseTo(selector string, x, y float64) {
	tb.t.Helper()
	if selector != "" {
		xy := strings.Fields(tb.eval(`(() => { const r = document.querySelector(` + strconv.Quote(selector) + `).getBoundingClientRect(); return (r.left + r.width / 2) + " " + (r.top + r.height / 2) })()`))
		x, _ = strconv.ParseFloat(xy[0], 64)
		y, _ = strconv.ParseFloat(xy[1], 64)
	}
	tb.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
}

// menuOpen reports whether the user menu is open and its Profile link can be seen.
func (tb *tab) menuOpen() bool {
	return tb.eval(`String(document.querySelector(".user-menu").open && document.querySelector(".user-menu .menu a").getClientRects().length > 0)`) == "true"
}

// TestBrowserUserMenuHover pins issue 11 (web 8): the help article says to hover over the
// username and select Profile. The menu opens on hover, stays open while the pointer crosses
// to it and on to Profile, and closes a moment after the pointer leaves; a click pins it open;
// the keyboard opens and closes it (Enter, Escape) as before.
func TestBrowserUserMenuHover(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	tb := e.tab(t, b)
	tb.logIn("alice", testPassword)
	tb.waitHeading("Profile")
	tb.open("/profile/password") // a page where Profile is a place to go
	tb.mouseTo("", 20, 600)

	// Hover: open, across the gap, onto Profile.
	tb.mouseTo(".user-menu summary", 0, 0)
	tb.waitFor(`document.querySelector(".user-menu").open`)
	menu := strings.Fields(tb.eval(`(() => { const s = document.querySelector(".user-menu summary").getBoundingClientRect(), m = document.querySelector(".user-menu .menu").getBoundingClientRect(); return (m.left + 20) + " " + (s.bottom + 3) })()`))
	gx, _ := strconv.ParseFloat(menu[0], 64)
	gy, _ := strconv.ParseFloat(menu[1], 64)
	tb.mouseTo("", gx, gy) // the gap between the username and the menu
	tb.mouseTo(".user-menu .menu a", 0, 0)
	time.Sleep(500 * time.Millisecond)
	if !tb.menuOpen() {
		t.Fatal("the menu closed on the way from the username to Profile")
	}
	// Away: it closes by itself.
	tb.mouseTo("", 20, 600)
	tb.waitFor(`!document.querySelector(".user-menu").open`)

	// Hover, then a click on the username: pinned open, away or not; a click elsewhere closes it.
	tb.mouseTo(".user-menu summary", 0, 0)
	tb.waitFor(`document.querySelector(".user-menu").open`)
	tb.do(chromedp.Click(chromedp.CSS(".user-menu summary")))
	tb.mouseTo("", 20, 600)
	time.Sleep(600 * time.Millisecond)
	if !tb.menuOpen() {
		t.Error("a menu opened by a click closed when the pointer left")
	}
	tb.do(chromedp.MouseClickXY(20, 600))
	tb.waitFor(`!document.querySelector(".user-menu").open`)

	// The keyboard: Enter on the username opens it, Escape closes it and returns the focus.
	tb.eval(`document.querySelector(".user-menu summary").focus(); ""`)
	tb.do(chromedp.KeyEvent(kb.Enter))
	tb.waitFor(`document.querySelector(".user-menu").open`)
	tb.do(chromedp.KeyEvent(kb.Escape))
	tb.waitFor(`!document.querySelector(".user-menu").open && document.activeElement === document.querySelector(".user-menu summary")`)

	// The article's way: hover over the username, select Profile.
	tb.mouseTo(".user-menu summary", 0, 0)
	tb.waitFor(`document.querySelector(".user-menu").open`)
	tb.mouseTo(".user-menu .menu a", 0, 0)
	tb.do(chromedp.MouseClickXY(mustCenter(tb, ".user-menu .menu a")))
	tb.waitHeading("Profile")
}

// mustCenter is the centre of the first element matching selector.
func mustCenter(tb *tab, selector string) (float64, float64) {
	xy := strings.Fields(tb.eval(`(() => { const r = document.querySelector(` + strconv.Quote(selector) + `).getBoundingClientRect(); return (r.left + r.width / 2) + " " + (r.top + r.height / 2) })()`))
	x, _ := strconv.ParseFloat(xy[0], 64)
	y, _ := strconv.ParseFloat(xy[1], 64)
	return x, y
}
