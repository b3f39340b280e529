package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"gatehouse/backend"
)

// Forward-auth endpoints: a reverse proxy asks, for every request to an application it
// protects, whether the browser's session may see the page (backend.Service.ForwardAuth).
//
//   - GET /auth/forward, for Caddy forward_auth and Traefik ForwardAuth: the page asked for
//     comes in X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri; someone who must log
//     in gets 302 to the Gatehouse login, which the proxy passes to the browser.
//   - GET /auth/nginx, for nginx auth_request: the page comes in X-Original-URL; someone who
//     must log in gets 401 (auth_request passes on nothing else) with the login's address in
//     Location, for the proxy's error_page to send the browser to.
//
// Both answer 200 with Remote-User, Remote-Name, Remote-Email and Remote-Two-Factor (yes/no)
// for a session allowed on the page's domain, for the proxy to copy onto the request it passes
// on; 403 with no page for someone outside the application's audience or a host no application
// protects; 400 for a request that is not a proxy's. The headers that name the page are
// believed only from a TCP peer inside --trusted-proxies: anyone else could name any page.

// The paths of the forward-auth endpoints.
const (
	ForwardAuthPath = "/auth/forward"
	NginxAuthPath   = "/auth/nginx"
)

// The headers a forward-auth answer names the person with.
const (
	HeaderRemoteUser      = "Remote-User"
	HeaderRemoteName      = "Remote-Name"
	HeaderRemoteEmail     = "Remote-Email"
	HeaderRemoteTwoFactor = "Remote-Two-Factor"
)

func (s *Server) forwardRoutes(mux *http.ServeMux) {
	// Served by forwardFirst ahead of the page middleware; here too so that the mux knows the
	// paths (reloadPath) and a request the pages' checks let through
	// after forwardFirst passed it to them (the store back meanwhile) gets the same answer.
	mux.HandleFunc("GET "+ForwardAuthPath, func(w http.ResponseWriter, r *http.Request) { s.forwardCheck(w, r, false) })
	mux.HandleFunc("GET "+NginxAuthPath, func(w http.ResponseWriter, r *http.Request) { s.forwardCheck(w, r, true) })
	mux.Handle("POST /login/forward-enroll", s.limitFailures(s.signedIn(s.forwardEnroll)))
}

// forwardFirst is the lean path of the forward-auth check, the one request a proxy makes
// before every request to every protected application: a GET of either endpoint goes
// straight to forwardCheck, past the page middleware, which has nothing to give it. The
// answer is no page (no Content-Security-Policy or other page headers, no flash, no
// template), a GET changes nothing (no cross-origin check, no form), nothing audits it (no
// client in the context), and one request-log line per check would double the log of every
// protected application (the proxy logs the request it serves): forwardCheck logs what went
// wrong. What it keeps: the Host check (ownHost, which allocates nothing), the store's
// outage answer, the trusted-proxy check, panics recovered; header sizes are
// http.Server's MaxHeaderBytes (Run) and the page's backend.MaxRedirectURISize. A request
// whose Host is refused, or that comes while the store is down, takes the pages' path for
// their answer and log line; so does every other method and path.
func (s *Server) forwardFirst(pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nginx := r.URL.Path == NginxAuthPath
		if (!nginx && r.URL.Path != ForwardAuthPath) || r.URL.RawPath != "" ||
			(r.Method != http.MethodGet && r.Method != http.MethodHead) ||
			!s.ownHost(r) || s.health.stillDown(r.Context()) {
			pages.ServeHTTP(w, r)
			return
		}
		s.forwardCheck(w, r, nginx)
	})
}

// forwardCheck answers a proxy's check and logs it: the routine answers (allowed, log in,
// no access) at debug level, refusals of the request (400) as warnings, failures as errors,
// a panic as a logged 500.
func (s *Server) forwardCheck(w http.ResponseWriter, r *http.Request, nginx bool) {
	start := time.Now()
	status := http.StatusInternalServerError
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in handler", "path", logPath(r), "panic", v)
			plainAnswer(w, http.StatusInternalServerError, genericMessage)
		}
		level := slog.LevelDebug
		switch {
		case status == http.StatusServiceUnavailable, status == http.StatusBadRequest:
			level = slog.LevelWarn
		case status >= 500:
			level = slog.LevelError
		}
		if s.log.Enabled(r.Context(), level) {
			s.log.Log(r.Context(), level, "request", "method", r.Method, "path", logPath(r), "status", status,
				"duration", time.Since(start).Round(time.Microsecond).String(), "ip", s.clientAddr(r).String())
		}
	}()
	status = s.forwardAnswer(w, r, nginx)
}

// plainAnswer writes status with one line of text.
func plainAnswer(w http.ResponseWriter, status int, text string) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(text + "\n"))
	return status
}

// forwardAnswer answers a proxy's check (see above; nginx says how the page is named and how
// "log in" is answered) and returns the status it answered.
func (s *Server) forwardAnswer(w http.ResponseWriter, r *http.Request, nginx bool) int {
	if !s.trusted(peerAddr(r)) {
		return plainAnswer(w, http.StatusBadRequest, "Forward-auth answers only the reverse proxies in --trusted-proxies: this request came from "+peerAddr(r).String()+".")
	}
	if s.publicURL == "" {
		s.log.Error("forward-auth needs --public-url: where to send people to log in")
		return plainAnswer(w, http.StatusInternalServerError, "Gatehouse has no public URL (--public-url) to send people to log in.")
	}
	requested := forwardedURL(r, nginx)
	if requested == "" {
		name := "X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri"
		if nginx {
			name = "X-Original-URL"
		}
		return plainAnswer(w, http.StatusBadRequest, "The proxy sent no "+name+": which page to check.")
	}
	ctx := r.Context()
	d, err := s.svc.ForwardAuth(ctx, cookieValue(r, s.sessionCk), requested)
	if err != nil {
		switch backend.ErrorCode(err) {
		case backend.EINVALID, backend.EFORBIDDEN:
			return plainAnswer(w, statusOf(err), backend.ErrorMessage(err))
		}
		// As watchStore does for pages: a store that does not answer is a 503 (and, asked
		// again here, fails the next checks at once until it is back); anything else a
		// logged failure.
		if down := backend.IsStoreUnreachable(err); s.health.check(ctx) != nil || down {
			w.Header().Set("Retry-After", storeRetryAfter)
			return plainAnswer(w, http.StatusServiceUnavailable, backend.StoreUnavailableMessage)
		}
		s.log.Error("request failed", "method", r.Method, "path", logPath(r), "err", err)
		return plainAnswer(w, statusOf(err), backend.ErrorMessage(err))
	}
	if d.Step == backend.ForwardAllow {
		h := w.Header()
		h.Set(HeaderRemoteUser, d.User.Username)
		h.Set(HeaderRemoteName, d.User.DisplayName)
		h.Set(HeaderRemoteEmail, d.User.Email)
		twoFactor := "no"
		if d.TwoFactor {
			twoFactor = "yes"
		}
		h.Set(HeaderRemoteTwoFactor, twoFactor)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
	// Log in (or step up to Two-Factor) at Gatehouse, then back to the page.
	login := s.publicURL + "/login?rd=" + url.QueryEscape(d.URL)
	w.Header().Set("Location", login)
	if nginx {
		return plainAnswer(w, http.StatusUnauthorized, "Log in at "+login)
	}
	http.Redirect(w, r, login, http.StatusFound)
	return http.StatusFound
}

// forwardedURL is the page the proxy asks about, "" if it names none.
func forwardedURL(r *http.Request, nginx bool) string {
	if nginx {
		return r.Header.Get("X-Original-URL")
	}
	proto, host, uri := r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
	if proto == "" || host == "" {
		return ""
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	return proto + "://" + host + uri
}

// checkedReturn is rd if a login may return to it (backend.CheckReturnURL), else "": a login
// form never carries an address it would not go back to.
func (s *Server) checkedReturn(r *http.Request, rd string) string {
	if rd == "" {
		return ""
	}
	u, _, err := s.svc.CheckReturnURL(r.Context(), rd)
	if err != nil {
		return ""
	}
	return u
}

// forwardReturn answers the login page for a signed-in person sent by a forward-auth check:
// back to the page, the step-up to Two-Factor, or "no access".
func (s *Server) forwardReturn(w http.ResponseWriter, r *http.Request, id *backend.Identity, rd string) {
	d, err := s.svc.ForwardReturn(r.Context(), id, rd)
	switch backend.ErrorCode(err) {
	case "":
	case backend.EINVALID:
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	case backend.EFORBIDDEN:
		s.errorPage(w, r, http.StatusForbidden, "No access", backend.ErrorMessage(err))
		return
	default:
		s.fail(w, r, err)
		return
	}
	switch {
	case d.Step == backend.ForwardAllow:
		http.Redirect(w, r, d.URL, http.StatusSeeOther)
	case id.User.Enrolled() || s.svc.NeedsPasswordConfirmation(id):
		// Enrolled, but this session's login did not use it (it was set up since): log in
		// again with it, as for an OpenID Connect application (the step-up); the session
		// held now ends once the password is accepted (loginSubmit). Not enrolled, and the
		// password not given lately: log in again before setting it up
		// (BeginForwardEnrollment), whose fresh session then comes back here.
		p := page{Title: "Log in", Notice: backend.ForwardStepUpMessage(d.App, id.User)}
		s.showLoginReturning(w, r, http.StatusOK, p, id.User.Username, "", d.URL)
	default:
		s.render(w, r, http.StatusOK, forwardTwoFactorView(pageFor(id, "Two-Factor Authentication required", ""), d))
	}
}

// forwardEnroll is "Set up Two-Factor" on the step-up page: the forced enrollment of a login
// attempt, with the page to go back to bound to it.
func (s *Server) forwardEnroll(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	st, err := s.svc.BeginForwardEnrollment(r.Context(), id, r.PostFormValue("rd"))
	if err != nil {
		s.errorPage(w, r, statusOf(err), "Two-Factor Authentication", s.message(r, err))
		return
	}
	s.advance(w, r, st)
}

// CheckPublicURL says why publicURL cannot be the server's public URL, or returns nil (""
// is none: http://ADDR). It must be an absolute URL, and https unless its host is loopback:
// the session cookies (Secure, __Host-), passkeys (WebAuthn) and single sign-on (the OpenID
// Connect issuer) all need https; plain http is for trying it on one machine.
func CheckPublicURL(publicURL string) error {
	if publicURL == "" {
		return nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--public-url (GATEHOUSE_PUBLIC_URL) %q is not an absolute URL such as https://login.example.com", publicURL)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("--public-url (GATEHOUSE_PUBLIC_URL) must use https; http only for localhost, 127.0.0.1 or [::1] (got %s): cookies, passkeys and single sign-on need https, so end TLS here (--tls-cert) or at the proxy", publicURL)
	}
	return nil
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// CheckCookieDomain says why domain may not be the session cookie's Domain for a server whose
// public URL is publicURL, or returns nil ("" is no cookie domain: nothing to check). The
// session cookie is then sent to every host under the domain, so it must be Secure
// (__Secure-): the public URL must be https, and its host the domain or inside it, or the
// browser would refuse the cookie and nobody could log in.
func CheckCookieDomain(domain, publicURL string) error {
	if domain == "" {
		return nil
	}
	d := strings.ToLower(strings.TrimPrefix(domain, "."))
	if err := backend.CheckDomain(d); err != nil || strings.HasPrefix(d, "*.") || !strings.Contains(d, ".") {
		return fmt.Errorf("--cookie-domain %q is not a domain such as example.com", domain)
	}
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return fmt.Errorf("--cookie-domain %s needs an https --public-url (GATEHOUSE_PUBLIC_URL) inside it, such as https://login.%s: the shared session cookie is sent over https only", d, d)
	}
	if h := strings.ToLower(u.Hostname()); h != d && !strings.HasSuffix(h, "."+d) {
		return fmt.Errorf("--cookie-domain %s does not contain the public URL's host %s: browsers take a cookie only for a domain of the page that sets it", d, h)
	}
	return nil
}
