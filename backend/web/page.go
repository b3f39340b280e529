package web

import (
	"context"

	"gatehouse/backend"
)

// page is what the layout needs to know about the page it frames.
type page struct {
	Title   string
	User    *backend.User // the signed-in user; nil on login pages
	Admin   bool          // show the "Administration" tab
	Tab     string        // the active tab or menu entry: "admin", "profile"
	Section string        // the active Administration section: "overview", "users", "audit"
	InLogin bool          // a login in progress: the header offers only "Log out"
	Notice  string        // the light-blue status bar, besides the flash (see takeFlash)
	Script  string        // a script of static/ the page needs besides app.js, e.g. "sms.js"
}

// pageFor frames a page for a signed-in identity.
func pageFor(id *backend.Identity, title, tab string) page {
	return page{Title: title, User: id.User, Admin: id.IsAdmin(), Tab: tab}
}

// adminPage frames a page of the Administration tab.
func adminPage(id *backend.Identity, title, section string) page {
	p := pageFor(id, title, "admin")
	p.Section = section
	return p
}

// notices are the light-blue status bars of the page: its own notice, and the flash the
// browser was due.
func notices(ctx context.Context, p page) []string {
	var out []string
	for _, n := range []string{p.Notice, flashNotice(ctx)} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}
