package web

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"

	"gatehouse/backend"
)

// A page that answers a form post — the form again with its error, or the password prompt
// before a change — is, in the browser's history, a POST: with Cache-Control: no-store (which
// every page has, so that Back after Log out shows nothing), going Back to it later shows the
// browser's "Confirm Form Resubmission" error instead of a page (issue 11, web 8).
//
// The answer keeps its status (400, 401, 409, 429 …: what the request got, for tools, tests and
// the limiter alike) and names the page it can be shown again at by a GET (data-reload on
// <body>): the form's own page, whose GET changes nothing. static/app.js replaces the history
// entry with it (history.replaceState), so that Back and Reload load that page afresh. A
// redirect after every failed post would do the same without JavaScript, but the form's error
// and what was typed would then have to be kept between the two requests, for people who are
// not signed in too (a failed login has no session to keep them with), and the front end keeps
// no state of its own; without JavaScript the browser still offers to send the form again,
// which is harmless: every form can be sent twice.

// reloadKey carries, in the context of a page being rendered, the URL it can be loaded again at.
type reloadKey struct{}

func reloadURL(ctx context.Context) string { v, _ := ctx.Value(reloadKey{}).(string); return v }

// reloadPath is where the answer to a post to p can be shown again by a GET: p itself if a page
// of the System answers GET there, else the nearest such page above it ("/profile" for
// "/profile/confirm-password", "/login/verify" for "/login/verify/sms/send").
func (s *Server) reloadPath(p string) string {
	for p = path.Clean(p); p != "/"; p = path.Dir(p) {
		if s.getServes(p) {
			return p
		}
	}
	return "/"
}

// getServes reports whether a GET of p reaches a page rather than "Page not found".
func (s *Server) getServes(p string) bool {
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: p}, Host: "gatehouse"}
	_, pattern := s.mux.Handler(r)
	switch {
	case pattern == "" || pattern == "/":
		return false
	case pattern == actionPagePattern:
		// One pattern for the pages of every two-factor action: only those have a page.
		_, ok := twoFactorChanges[actionKeyOf(p)]
		return ok
	}
	return strings.HasPrefix(pattern, "GET ")
}

// actionPagePattern is the route of the administrator's two-factor action pages.
const actionPagePattern = "GET /admin/users/{id}/{action}"

// actionKeyOf is the action key a path of actionPagePattern ends in.
func actionKeyOf(p string) backend.ActionKey { return backend.ActionKey(path.Base(p)) }
