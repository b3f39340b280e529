package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gatehouse/backend"
)

// TestBrowserLongNames: the longest name, username and email the System accepts, without a
// space to break at, fit the admin pages at 1280 and 390 px: nothing is wider than the window,
// the Two-Factor Authentication column stays in view, and text cut short shows whole on hover
// (issue 11: a 100-character name made the user page 1,886 px wide).
func TestBrowserLongNames(t *testing.T) {
	b := browser(t)
	e := newEnv(t)
	long := backend.NewUser{
		Username:    "u" + strings.Repeat("w", 63),                                            // 64, the most a username may have
		DisplayName: strings.Repeat("W", 100),                                                 // 100, the most a name may have
		Email:       strings.Repeat("m", 64) + "@" + strings.Repeat("d", 60) + ".example.com", // no space anywhere
		Password:    testPassword, Role: backend.RoleAdmin,
	}
	u, err := e.svc.CreateUser(context.Background(), e.svc.Operator(), long)
	if err != nil {
		t.Fatal(err)
	}
	e.user("bob", backend.RoleUser, true)

	tb := e.tab(t, b)
	tb.logIn(long.Username, testPassword)
	tb.waitHeading("Profile")
	for _, path := range []string{"/admin/users", fmt.Sprintf("/admin/users/%d", u.ID), fmt.Sprintf("/admin/users/%d/edit", u.ID),
		fmt.Sprintf("/admin/users/%d/%s", u.ID, backend.ActionSetPassword), "/admin/audit", "/profile", "/admin/users/999"} {
		tb.open(path)
		for _, w := range []struct{ width, height int64 }{{1280, 900}, {390, 844}} {
			tb.do(chromedp.EmulateViewport(w.width, w.height))
			tb.waitFor(fmt.Sprintf("window.innerWidth === %d", w.width))
			tb.checkA11y()
			if over := tb.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" && !strings.HasPrefix(over, "-") {
				t.Errorf("%s at %d px: the page is %s px wider than the window", path, w.width, over)
			}
			if cut := tb.eval(`[...document.querySelectorAll(".table-wrap")].filter(w => w.scrollWidth > w.clientWidth).map(w => w.querySelector("table").id).join(",")`); cut != "" {
				t.Errorf("%s at %d px: tables wider than their frame: %s", path, w.width, cut)
			}
			// Whatever is cut short carries the whole text for hover.
			if bad := tb.eval(`[...document.querySelectorAll("main *, header *")].filter(el => el.children.length === 0 && !el.matches("input, select, textarea") && el.getBoundingClientRect().width > 1 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== "visible" && !(el.title || el.closest("[title]"))).map(el => el.tagName + "." + el.className).join(", ")`); bad != "" {
				t.Errorf("%s at %d px: text cut short without the whole of it on hover: %s", path, w.width, bad)
			}
			if path == "/admin/users" {
				// The Two-Factor Authentication column is in view on every row.
				if out := tb.eval(`String([...document.querySelectorAll("#users-table tbody .badge")].filter(b => b.getBoundingClientRect().right > window.innerWidth).length)`); out != "0" {
					t.Errorf("users at %d px: %s Two-Factor statuses out of view", w.width, out)
				}
				if title := tb.eval(fmt.Sprintf(`[...document.querySelectorAll("#users-table tbody a")].map(a => a.title).find(t => t.startsWith(%q)) || ""`, long.Username[:5])); title != long.Username {
					t.Errorf("users at %d px: the username link's title %q, want the whole username", w.width, title)
				}
			}
			tb.shot(fmt.Sprintf("long-names%s-%d", strings.ReplaceAll(path, "/", "-"), w.width))
		}
		tb.do(chromedp.EmulateViewport(1280, 900))
	}
}
