package web

import (
	"net/http"
	"net/url"

	"gatehouse/backend"
	"gatehouse/backend/sso"
)

// The OpenID Connect provider (backend/sso) in the handler tree. Its browser endpoints
// (discovery, authorize and its callback, keys, end_session) are inside cross-origin protection
// like every page; the server-to-server ones (token, userinfo, revoke, introspect) are beside it
// (oidcDirect), since an application's server posts them with no Origin a browser would send,
// and client authentication (or the access token) is their protection. The hand-off between
// the library and a Gatehouse login is backend's rule (AuthorizeApp); these handlers only carry
// the browser from one page to the next.

// oidcRoutes mounts the provider's browser endpoints and the hand-off pages.
func (s *Server) oidcRoutes(mux *http.ServeMux) {
	if s.oidc == nil {
		return
	}
	mux.Handle("GET "+sso.DiscoveryPath, s.oidc)
	// Authorize is limited per address as the login is: a request the library refuses (an
	// unknown client, a redirect URI not registered) is a guess and costs a token; one it
	// accepts, which sends the browser on, costs nothing (limitFailures).
	mux.Handle("GET "+sso.AuthorizePath, s.limitFailures(s.oidc.ServeHTTP))
	mux.Handle("GET "+sso.KeysPath, s.oidc)
	mux.Handle("GET "+sso.EndSessionPath, s.oidc)
	mux.HandleFunc("GET "+sso.CallbackPath, s.oidcCallback)
	mux.HandleFunc("GET "+sso.LoginPath, s.oidcLogin)
	mux.HandleFunc("GET "+sso.LogoutPath, s.oidcLogoutPage)
	mux.HandleFunc("POST "+sso.LogoutPath, s.oidcLogoutSubmit)
}

// oidcDirect serves the server-to-server endpoints beside next, with a bounded body.
func (s *Server) oidcDirect(next http.Handler) http.Handler {
	if s.oidc == nil {
		return next
	}
	outer := http.NewServeMux()
	direct := http.MaxBytesHandler(s.oidc, maxFormBody)
	outer.Handle("POST "+sso.TokenPath, direct)
	outer.Handle("POST "+sso.RevokePath, direct)
	outer.Handle("POST "+sso.IntrospectPath, direct)
	outer.Handle(sso.UserinfoPath, direct)
	outer.Handle("/", next)
	return outer
}

// oidcLogin is the hand-off (the library's "login URL"): AuthorizeApp decides whether the
// person logs in first, enrolls first, may not use the app, or goes back to it with a code.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	id, err := s.session(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reqID := sso.LoginRequestID(r)
	d, err := s.svc.AuthorizeApp(r.Context(), id, reqID)
	switch {
	case backend.ErrorCode(err) == backend.EFORBIDDEN && id != nil:
		r = viewedBy(r, id)
		s.render(w, r, http.StatusForbidden, noAccessView(pageFor(id, "No access", ""), s.message(r, err)))
		return
	case err != nil:
		s.errorPage(w, r, statusOf(err), "Sign-in not possible", s.message(r, err))
		return
	}
	switch d.Step {
	case backend.SSOLogin:
		q := url.Values{"resume": {d.RequestID}}
		if d.Username != "" {
			q.Set("username", d.Username)
		}
		http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
	case backend.SSOEnroll:
		s.storeLoginState(w, d.Login)
		http.Redirect(w, r, stepPath(backend.StepEnroll), http.StatusSeeOther)
	case backend.SSOError:
		s.oidc.AuthorizeError(w, r, d.Request, d.Error, d.ErrorDescription)
	default:
		s.goOn(w, r, id, "Signing in to "+d.App.Name, "Continue to "+d.App.Name, s.oidc.CallbackURL(r.Context(), d.RequestID))
	}
}

// goOn sends the browser on to href, an application's address or the way to it, with a page
// of our own rather than a redirect: what led here was a form (the login, the logout
// confirmation), and a browser checks every redirect that follows a form's POST against the
// page's CSP form-action ('self'), so a redirect to the application would be blocked. The
// page ends that chain; its Refresh header (no script needed) goes on, and its link is for a
// browser that does not.
func (s *Server) goOn(w http.ResponseWriter, r *http.Request, id *backend.Identity, heading, link, href string) {
	w.Header().Set("Refresh", "0; url="+href)
	p := page{Title: heading} // logged out
	if id != nil {
		r, p = viewedBy(r, id), pageFor(id, heading, "")
	}
	s.render(w, r, http.StatusOK, goOnView(p, heading, link, href))
}

// oidcCallback guards the library's callback, which mints a code for whoever knows the
// request's ID: only the session the request was completed for gets it.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	id, err := s.session(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.AllowCodeFor(r.Context(), id, sso.CallbackRequestID(r)); err != nil {
		s.errorPage(w, r, statusOf(err), "Sign-in not possible", s.message(r, err))
		return
	}
	s.oidc.ServeHTTP(w, r)
}

// resumeURL takes what the login that just ended resumes (backend.TakeResume, once) and
// returns where the browser goes: the hand-off of an application's sign-in, which decides
// again with this session, or the protected page; "" when it resumes nothing.
func (s *Server) resumeURL(r *http.Request, id *backend.Identity) string {
	if id == nil {
		return ""
	}
	res, err := s.svc.TakeResume(r.Context(), id)
	switch {
	case err != nil:
		s.log.Error("take what the login resumes", "err", err)
		return ""
	case res == nil:
		return ""
	case res.AuthRequestID != "":
		if s.oidc == nil {
			return ""
		}
		return sso.LoginURL(res.AuthRequestID)
	}
	return res.URL
}

// oidcLogoutPage asks before an application's RP-initiated logout ends the session.
func (s *Server) oidcLogoutPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a, redirect, err := s.svc.PostLogoutRedirect(r.Context(), q.Get("client_id"), q.Get("post_logout_redirect_uri"))
	if err != nil {
		s.errorPage(w, r, statusOf(err), "Log out", s.message(r, err))
		return
	}
	id, err := s.session(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if id == nil {
		// Nobody to log out: go where the app asked, or to the login page.
		if redirect == "" {
			redirect = "/login"
		}
		http.Redirect(w, r, redirect, http.StatusSeeOther)
		return
	}
	r = viewedBy(r, id)
	name, clientID := "", ""
	if a != nil {
		name, clientID = a.Name, a.ClientID
	}
	s.render(w, r, http.StatusOK, logoutConfirmView(pageFor(id, "Log out", ""), name, clientID, redirect))
}

// oidcLogoutSubmit ends the session and goes where the app asked (checked again: the form's
// fields are whatever was posted), or to the login page.
func (s *Server) oidcLogoutSubmit(w http.ResponseWriter, r *http.Request) {
	a, redirect, err := s.svc.PostLogoutRedirect(r.Context(), r.PostFormValue("client_id"), r.PostFormValue("post_logout_redirect_uri"))
	if err != nil {
		s.errorPage(w, r, statusOf(err), "Log out", s.message(r, err))
		return
	}
	if token := cookieValue(r, s.sessionCk); token != "" {
		id, err := s.svc.Authenticate(r.Context(), token)
		if err == nil {
			err = s.svc.Logout(r.Context(), id)
		}
		if err != nil && backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			s.fail(w, r, err)
			return
		}
	}
	s.clearCookie(w, s.sessionCk)
	if redirect == "" || a == nil {
		s.flash(w, r, nil, backend.LoggedOutNotice)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.goOn(w, r, nil, backend.LoggedOutNotice, "Back to "+a.Name, redirect)
}
