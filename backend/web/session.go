package web

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"gatehouse/backend"
)

// The browser holds at most two tokens, each in its own cookie: the login attempt's (between
// the password and the second factor; backend issues a new one at every step, so the cookie
// changes at every step) and the session's, set only when the login is complete. Both are
// HttpOnly (no script reads them), SameSite=Lax (not sent on cross-site POSTs) and Path=/;
// under TLS, Secure with the __Host- prefix. They carry no expiry: the browser forgets them when
// it closes, and the server ends sessions and attempts on its own clock anyway.

func (s *Server) setCookie(w http.ResponseWriter, name, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Domain: s.domainOf(name),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1, Domain: s.domainOf(name),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

// domainOf is the Domain of the cookie: the cookie domain for the session's (serve
// --cookie-domain), none (host-only) for the others.
func (s *Server) domainOf(name string) string {
	if name == s.sessionCk {
		return s.cookieDomain
	}
	return ""
}

// cookieValue is the value of the request's cookie with the name; "" when there is none, or
// more than one. Two cookies of one name are one set by us and one planted: with
// --cookie-domain any host under the domain can set a cookie of the session's name (or of the
// others' names, where the __Host- prefix is not in force) with a longer Path, which the
// browser sends first (RFC 6265 §5.4), so r.Cookie's first would be the stranger's. Neither is
// believed.
func cookieValue(r *http.Request, name string) string {
	cs := r.CookiesNamed(name)
	if len(cs) != 1 {
		return ""
	}
	return cs[0].Value
}

// tossed reports whether the request carries more than one session cookie (cookieValue).
func (s *Server) tossed(r *http.Request) bool { return len(r.CookiesNamed(s.sessionCk)) > 1 }

// clearSession clears the session cookie at Path=/; for a request with more than one, also at
// every path above the request's, with the session cookie's Domain: a cookie planted from a
// sibling host has one of those, and only then does the browser forget it.
func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	s.clearCookie(w, s.sessionCk)
	if !s.tossed(r) {
		return
	}
	for _, p := range cookiePathsAbove(r.URL.Path) {
		http.SetCookie(w, &http.Cookie{Name: s.sessionCk, Value: "", Path: p, MaxAge: -1, Domain: s.cookieDomain,
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	}
}

// cookiePathsAbove are the cookie paths but "/" that a browser sends with a request for path
// (RFC 6265 §5.1.4): "/a", "/a/", "/a/b" for "/a/b"; eight levels at most.
func cookiePathsAbove(path string) []string {
	var out []string
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	p := ""
	for i, seg := range segs {
		if seg == "" || i == 8 {
			break
		}
		p += "/" + seg
		out = append(out, p)
		if i < len(segs)-1 {
			out = append(out, p+"/")
		}
	}
	return out
}

// session returns the signed-in identity of the request, or nil. A cookie whose session has
// ended is cleared, and so are session cookies that came more than one at a time.
// err is only an unexpected failure.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*backend.Identity, error) {
	id, ended, err := s.sessionOf(r)
	if ended {
		s.clearSession(w, r)
	}
	return id, err
}

// sessionOf is session without clearing the cookie: ended reports a session cookie whose
// session has ended (timed out, ended by an administrator's change, or never known here), or
// more than one session cookie (no session at all: one of them was planted).
func (s *Server) sessionOf(r *http.Request) (id *backend.Identity, ended bool, err error) {
	if s.tossed(r) {
		return nil, true, nil
	}
	token := cookieValue(r, s.sessionCk)
	if token == "" {
		return nil, false, nil
	}
	id, err = s.svc.Authenticate(r.Context(), token)
	if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
		return nil, true, nil
	}
	return id, false, err
}

// The status bar says what the server itself just did for this browser, once: a flash
// (backend.SetFlash), never a query string, which anyone can put in a link. The answer to the
// change sets the flash cookie, which holds the flash's random token; the next page view of a
// page that knows who is looking (viewedBy) takes the flash from the store and shows it, and the
// cookie goes. A signed-in person's flash is bound to their session in the store; a signed-out
// browser's (logged out, first administrator created) to no session: its token came in the
// answer to a same-origin POST, HttpOnly, and a stranger's link can neither carry nor guess
// one (a cookie planted from a sibling domain, where the __Host- prefix is not in force, names no
// flash the server stored). "Your session has ended" needs no flash: the login page reads it
// from the browser's own session cookie, which names a session that has ended.

// flash keeps notice for the next page view of this browser, bound to id's session, or to no
// session when id is nil. A flash that cannot be kept is logged: the change it reports is made.
func (s *Server) flash(w http.ResponseWriter, r *http.Request, id *backend.Identity, notice string) {
	if id == nil && notice == backend.LoggedOutNotice {
		// "You have logged out" names nobody and tells nothing: a fixed cookie, no row. Kept
		// in the store, it was a row for every POST /logout, from anyone, session or not (M1).
		// A cookie planted from a sibling domain can show it, and no other notice.
		s.setCookie(w, s.flashCk, loggedOutFlash)
		return
	}
	token, err := s.svc.SetFlash(r.Context(), id, notice)
	if err != nil {
		s.log.Error("flash not kept", "path", logPath(r), "err", err)
		return
	}
	if token != "" {
		s.setCookie(w, s.flashCk, token)
	}
}

// loggedOutFlash is the flash cookie of backend.LoggedOutNotice, which is not stored (flash).
// No stored flash's token has this form.
const loggedOutFlash = "logged-out"

// viewerKey marks, in a request's context, the pages that show the status bar: it holds who is
// looking, the signed-in identity or nil for nobody, and render takes the flash for them.
// Pages without it (the recovery codes page, the steps of a login) leave a flash for the next
// page that has it: Regenerate's sentence waits on the codes page for the Profile.
type viewerKey struct{}

type viewer struct{ id *backend.Identity }

// viewedBy marks r as a page that shows the status bar to id (nil: nobody signed in).
func viewedBy(r *http.Request, id *backend.Identity) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), viewerKey{}, viewer{id}))
}

// viewerOf returns who r's page is for, and whether it shows the status bar.
func viewerOf(ctx context.Context) (*backend.Identity, bool) {
	v, ok := ctx.Value(viewerKey{}).(viewer)
	return v.id, ok
}

// flashKey holds, in the context of a page being rendered, the flash it shows.
type flashKey struct{}

func flashNotice(ctx context.Context) string { n, _ := ctx.Value(flashKey{}).(string); return n }

// takeFlash is the flash of the browser for the page of r, if the page shows one: the cookie
// goes whether or not the store still had it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) string {
	token := cookieValue(r, s.flashCk)
	id, shows := viewerOf(r.Context())
	if token == "" || !shows {
		return ""
	}
	s.clearCookie(w, s.flashCk)
	if token == loggedOutFlash {
		if id != nil { // for a signed-out browser only (flash)
			return ""
		}
		return backend.LoggedOutNotice
	}
	notice, err := s.svc.TakeFlash(r.Context(), id, token)
	if err != nil {
		s.log.Error("take flash", "path", logPath(r), "err", err)
	}
	return notice
}

// authHandler is a handler for a known identity.
type authHandler func(w http.ResponseWriter, r *http.Request, id *backend.Identity)

// signedIn runs h for a signed-in user and sends anyone else to the login page.
func (s *Server) signedIn(h authHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _, err := s.sessionOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if id == nil {
			// A session that ended under the user (timeout, an administrator's change, a
			// new setup elsewhere) keeps its cookie until the login page, which says so.
			// Two session cookies go here: the login page is not under a planted one's
			// Path, and would find the real one alone and send the browser back.
			if s.tossed(r) {
				s.clearSession(w, r)
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, viewedBy(r, id), id)
	}
}

// admin runs h for a signed-in administrator.
func (s *Server) admin(h authHandler) http.HandlerFunc {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
		if !id.IsAdmin() {
			s.errorPage(w, r, http.StatusForbidden, "Not allowed", "Only administrators can see this page.")
			return
		}
		h(w, r, id)
	})
}

// storeLoginState stores the result of a login step in the browser: the new attempt token, or at
// the end the session token (and the attempt cookie goes).
func (s *Server) storeLoginState(w http.ResponseWriter, st *backend.LoginState) {
	if st.Step == backend.StepDone {
		s.setCookie(w, s.sessionCk, st.SessionToken)
		s.clearCookie(w, s.attemptCk)
		return
	}
	s.setCookie(w, s.attemptCk, st.AttemptToken)
}

// stepPath is the page of a login step.
func stepPath(step backend.LoginStep) string {
	switch step {
	case backend.StepVerify:
		return "/login/verify"
	case backend.StepEnroll:
		return "/login/enroll"
	case backend.StepChangePassword:
		return "/login/password"
	}
	return "/"
}

// advance stores a login step's result and sends the browser to the next step's page.
func (s *Server) advance(w http.ResponseWriter, r *http.Request, st *backend.LoginState) {
	s.storeLoginState(w, st)
	http.Redirect(w, r, stepPath(st.Step), http.StatusSeeOther)
}

// render writes a page. It renders into a buffer first so that a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	ctx := r.Context()
	if n := s.takeFlash(w, r); n != "" {
		ctx = context.WithValue(ctx, flashKey{}, n)
	}
	if s.sandbox != nil {
		ctx = context.WithValue(ctx, sandboxKey{}, true)
	}
	if r.Method == http.MethodPost {
		ctx = context.WithValue(ctx, reloadKey{}, s.reloadPath(r.URL.Path))
	}
	if err := c.Render(ctx, &buf); err != nil {
		s.log.Error("render page", "path", logPath(r), "err", err)
		http.Error(w, genericMessage, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// statusOf is the one table from backend error codes to HTTP statuses.
func statusOf(err error) int {
	switch backend.ErrorCode(err) {
	case backend.EINVALID:
		return http.StatusBadRequest
	case backend.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case backend.EFORBIDDEN, backend.EREAUTH:
		return http.StatusForbidden
	case backend.ENOTFOUND:
		return http.StatusNotFound
	case backend.ECONFLICT:
		return http.StatusConflict
	case backend.ETOOMANY:
		return http.StatusTooManyRequests
	case backend.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// message is the text a person sees for err; unexpected errors are logged here, once.
func (s *Server) message(r *http.Request, err error) string {
	markFields(r.Context(), backend.ErrorFields(err)...)
	switch {
	case backend.IsStoreUnreachable(err):
		// The store said it could not reach its database: the answer is the unavailable
		// page whatever a ping finds a moment later. The outage is logged once
		// (storeHealth), not with every request.
		s.storeUnreachable(r, true)
		return backend.StoreUnavailableMessage
	case backend.ErrorCode(err) == backend.EINTERNAL:
		if s.storeUnreachable(r, false) {
			return backend.StoreUnavailableMessage
		}
		s.log.Error("request failed", "method", r.Method, "path", logPath(r), "err", err)
	}
	return backend.ErrorMessage(err)
}

// fail shows err as a whole page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.failTo(w, r, err, backLink{})
}

// failTo shows err as a whole page whose button leads back.
func (s *Server) failTo(w http.ResponseWriter, r *http.Request, err error, back backLink) {
	title := "Something went wrong"
	switch backend.ErrorCode(err) {
	case backend.ENOTFOUND:
		title = "Not found"
	case backend.EFORBIDDEN:
		title = "Not allowed"
	case backend.EUNAUTHORIZED:
		title = "Log in again"
	case backend.ECONFLICT:
		title = "That cannot be done now"
	case backend.ETOOMANY:
		title = "Too many attempts"
	}
	s.errorPageTo(w, r, statusOf(err), title, s.message(r, err), back)
}

// errorPage shows a page with a title and one sentence.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	s.errorPageTo(w, r, status, title, text, backLink{})
}

// backLink is where an error page's button leads: back where the person was. The zero backLink
// is the Profile for someone signed in, the login page for anyone else.
type backLink struct {
	URL     templ.SafeURL
	Label   string
	Section string // an Administration section ("users"): the page is framed as one of its pages
}

// userBack leads back to u's page, for the failures of an administrator's change to u.
func userBack(u *backend.User) backLink {
	return backLink{URL: userURL(u, ""), Label: "Back to " + u.Name(), Section: "users"}
}

// usersBack leads back to the user list.
var usersBack = backLink{URL: "/admin/users", Label: "Back to Users", Section: "users"}

// errorPageTo shows a page with a title and one sentence, in the frame of whoever is looking:
// for someone signed in, the signed-in layout (the Administration tab, the user menu) with a
// button back to where they were (back), so that a refusal never looks like a logout.
func (s *Server) errorPageTo(w http.ResponseWriter, r *http.Request, status int, title, text string, back backLink) {
	id, known := viewerOf(r.Context())
	if !known {
		// Outside the handlers that know who is signed in: a GET finds out. A POST refused
		// before any handler (cross-origin, a form not accepted) must not even touch the
		// session.
		if r.Method == http.MethodGet {
			id, _ = s.session(w, r)
		}
		r = viewedBy(r, id)
	}
	p := page{Title: title}
	if id.SignedIn() {
		p = pageFor(id, title, "")
		if back.Section != "" && p.Admin {
			p = adminPage(id, title, back.Section)
		}
		if back.URL == "" {
			back = backLink{URL: "/profile", Label: "Back to your Profile"}
		}
	} else if back.URL == "" {
		back = backLink{URL: "/login", Label: "Go to Log in"}
	}
	s.render(w, r, status, errorView(p, text, back))
}

// sandboxKey marks, in the context of a page being rendered, a server in SMS sandbox mode: the
// layout then says so on every page.
type sandboxKey struct{}

func inSandbox(ctx context.Context) bool { v, _ := ctx.Value(sandboxKey{}).(bool); return v }
