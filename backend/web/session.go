package web

import (
	"bytes"
	"context"
	"net/http"

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
		Name: name, Value: value, Path: "/",
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
	})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// session returns the signed-in identity of the request, or nil. A cookie whose session has
// ended is cleared. err is only an unexpected failure.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*backend.Identity, error) {
	token := cookieValue(r, s.sessionCk)
	if token == "" {
		return nil, nil
	}
	id, err := s.svc.Authenticate(r.Context(), token)
	if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
		s.clearCookie(w, s.sessionCk)
		return nil, nil
	}
	return id, err
}

// authHandler is a handler for a known identity.
type authHandler func(w http.ResponseWriter, r *http.Request, id *backend.Identity)

// signedIn runs h for a signed-in user and sends anyone else to the login page.
func (s *Server) signedIn(h authHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hadSession := cookieValue(r, s.sessionCk) != ""
		id, err := s.session(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if id == nil {
			// A session that ended under the user (timeout, an administrator's change, a
			// new setup elsewhere) is said so, not just replaced by the login page.
			to := "/login"
			if hadSession {
				to += "?notice=ended"
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		h(w, r, id)
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
	if backend.ErrorCode(err) == backend.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", logPath(r), "err", err)
	}
	return backend.ErrorMessage(err)
}

// fail shows err as a whole page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
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
	s.errorPage(w, r, statusOf(err), title, s.message(r, err))
}

// errorPage shows a page with a title and one sentence.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	p := page{Title: title}
	if r.Method == http.MethodGet { // a refused POST must not even touch the session
		if id, err := s.session(w, r); err == nil && id != nil {
			p = pageFor(id, title, "")
		}
	}
	s.render(w, r, status, errorView(p, text))
}

// sandboxKey marks, in the context of a page being rendered, a server in SMS sandbox mode: the
// layout then says so on every page.
type sandboxKey struct{}

func inSandbox(ctx context.Context) bool { v, _ := ctx.Value(sandboxKey{}).(bool); return v }
