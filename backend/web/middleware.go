package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"gatehouse/backend"
)

// contentSecurityPolicy allows only this origin's own files: no inline script or style, no
// framing, forms post only here. data: images are the enrollment QR code.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// routes builds the handler tree: the mux, then the middleware around it, outermost first: the
// client's address, logging, panic recovery, security headers, the Host check, cross-origin
// protection, the form parser.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	limited := s.limitFailures

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	})
	mux.Handle("GET /static/", staticHandler())
	mux.HandleFunc("GET /{$}", s.home)

	// Login, one page per step.
	mux.HandleFunc("GET /login", s.loginPage)
	mux.Handle("POST /login", limited(s.loginSubmit))
	mux.HandleFunc("GET /login/verify", s.verifyPage)
	mux.Handle("POST /login/verify", limited(s.verifySubmit))
	mux.Handle("POST /login/verify/sms/send", limited(s.sendSMSCode))
	mux.Handle("POST /login/verify/sms", limited(s.verifySMSSubmit))
	mux.HandleFunc("GET /login/recovery", s.recoveryPage)
	mux.Handle("POST /login/recovery", limited(s.recoverySubmit))
	mux.HandleFunc("GET /login/password", s.expiredPasswordPage)
	mux.Handle("POST /login/password", limited(s.expiredPasswordSubmit))
	mux.HandleFunc("POST /login/cancel", s.cancelLogin)
	mux.HandleFunc("POST /logout", s.logout)

	// Enrolling upon login (required by an administrator).
	mux.HandleFunc("GET /login/enroll", s.enrolling(s.setupChoicePage))
	mux.HandleFunc("POST /login/enroll/app", s.enrolling(s.beginApp))
	mux.HandleFunc("GET /login/enroll/app", s.enrolling(s.appPage))
	mux.Handle("POST /login/enroll/app/confirm", limited(s.enrolling(s.confirmApp)))
	mux.HandleFunc("POST /login/enroll/sms", s.enrolling(s.beginSMS(false)))
	mux.HandleFunc("POST /login/enroll/sms/restart", s.enrolling(s.beginSMS(true)))
	mux.HandleFunc("GET /login/enroll/sms", s.enrolling(s.smsPage))
	mux.HandleFunc("GET /login/enroll/sms/status", s.enrolling(s.smsStatus))
	mux.Handle("POST /login/enroll/sms/confirm", limited(s.enrolling(s.confirmSMS)))

	// The recovery code sheet, after enrollment or regeneration.
	mux.HandleFunc("GET /recovery-codes", s.codesPage)
	mux.HandleFunc("POST /recovery-codes/download", s.codesDownload)
	mux.HandleFunc("POST /recovery-codes/done", s.codesDone)

	// Profile.
	mux.HandleFunc("GET /profile", s.signedIn(s.profilePage))
	mux.HandleFunc("GET /profile/two-factor", s.signedIn(s.profileEnrolling(s.setupChoicePage)))
	// The buttons of two-factor changes may carry the password (upfrontPassword): limited
	// like the confirmation page.
	mux.Handle("POST /profile/two-factor/app", limited(s.signedIn(s.profileEnrolling(s.beginApp))))
	mux.HandleFunc("GET /profile/two-factor/app", s.signedIn(s.profileEnrolling(s.appPage)))
	mux.Handle("POST /profile/two-factor/app/confirm", limited(s.signedIn(s.profileEnrolling(s.confirmApp))))
	mux.Handle("POST /profile/two-factor/sms", limited(s.signedIn(s.profileEnrolling(s.beginSMS(false)))))
	mux.Handle("POST /profile/two-factor/sms/restart", limited(s.signedIn(s.profileEnrolling(s.beginSMS(true)))))
	mux.HandleFunc("GET /profile/two-factor/sms", s.signedIn(s.profileEnrolling(s.smsPage)))
	mux.HandleFunc("GET /profile/two-factor/sms/status", s.signedIn(s.profileEnrolling(s.smsStatus)))
	mux.Handle("POST /profile/two-factor/sms/confirm", limited(s.signedIn(s.profileEnrolling(s.confirmSMS))))
	mux.HandleFunc("GET /profile/two-factor/disable", s.signedIn(s.disableOwnPage))
	mux.Handle("POST /profile/two-factor/disable", limited(s.signedIn(s.disableOwnSubmit)))
	mux.HandleFunc("GET /profile/recovery-codes", s.signedIn(s.regeneratePage))
	mux.Handle("POST /profile/recovery-codes", limited(s.signedIn(s.regenerateSubmit)))
	mux.Handle("POST /profile/confirm-password", limited(s.signedIn(s.confirmPasswordSubmit)))
	mux.HandleFunc("GET /profile/password", s.signedIn(s.changePasswordPage))
	mux.Handle("POST /profile/password", limited(s.signedIn(s.changePasswordSubmit)))

	// Administration.
	mux.HandleFunc("GET /admin", s.admin(s.overviewPage))
	mux.HandleFunc("GET /admin/users", s.admin(s.usersPage))
	mux.HandleFunc("GET /admin/users/new", s.admin(s.newUserPage))
	mux.Handle("POST /admin/users/new", limited(s.admin(s.newUserSubmit)))
	mux.HandleFunc("GET /admin/users/{id}", s.admin(s.userPage))
	mux.HandleFunc("GET /admin/users/{id}/edit", s.admin(s.editUserPage))
	// The forms that may carry the administrator's password (upfrontPassword) are limited
	// like the confirmation page.
	mux.Handle("POST /admin/users/{id}/edit", limited(s.admin(s.editUserSubmit)))
	mux.HandleFunc("GET /admin/users/{id}/password", s.admin(s.setPasswordPage))
	mux.Handle("POST /admin/users/{id}/password", limited(s.admin(s.setPasswordSubmit)))
	mux.Handle("POST /admin/users/{id}/unlock", limited(s.admin(s.unlockSubmit)))
	mux.HandleFunc(actionPagePattern, s.admin(s.twoFactorActionPage))
	mux.Handle("POST /admin/users/{id}/{action}", limited(s.admin(s.twoFactorActionSubmit)))
	mux.HandleFunc("GET /admin/audit", s.admin(s.auditPage))
	s.appRoutes(mux, limited)

	// The SMS sandbox (serve --sms-sandbox only): the fake Twilio's messages, and texts to the
	// System through the real webhook.
	if s.sandbox != nil {
		mux.HandleFunc("GET /sms-sandbox", s.sandboxPage)
		mux.HandleFunc("POST /sms-sandbox/text", s.sandboxText)
	}

	// The one-time link to create the first administrator.
	mux.HandleFunc("GET /setup/{token}", s.firstAdminPage)
	mux.Handle("POST /setup/{token}", limited(s.firstAdminSubmit))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
	})

	// Cross-origin protection (Go 1.25): a POST, PUT, PATCH or DELETE that the browser marks as
	// cross-site (Sec-Fetch-Site), or whose Origin is not this host, is refused before any
	// handler runs. Safe methods pass: no handler changes anything on GET.
	// With a public URL configured, checkOrigin adds the scheme and port to the comparison.
	// The form is parsed only once a request has passed them (parseForms).
	s.mux = mux
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginRefused))
	return s.middleware(cop.Handler(s.checkOrigin(s.parseForms(mux))))
}

// middleware wraps the cross-origin-protected mux in the rest of the chain: the SMS webhook
// beside it (with its own body limit and no form parser), the Host check, security headers,
// panic recovery, the request log, the caller in the context.
func (s *Server) middleware(h http.Handler) http.Handler {
	if s.webhook != nil {
		// Twilio's webhook is outside cross-origin protection and sessions: Twilio posts from
		// outside, with no session and no Origin; its signature, checked by the webhook over
		// the configured public URL, is the protection. The body is bounded before anything
		// reads it.
		outer := http.NewServeMux()
		outer.Handle("POST "+s.webhookPath, http.MaxBytesHandler(s.webhook, maxWebhookBody))
		outer.Handle("/", h)
		h = outer
	}
	h = s.checkHost(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	h = s.withClient(h)
	return h
}

// maxWebhookBody bounds a request to the SMS webhook: Twilio's parameters of a text message
// (1,600 characters at most) are far smaller.
const maxWebhookBody = 64 << 10

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Pages show codes, keys and account data: no cache may keep them, and the
			// back button after "Log out" must not show them again.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// withClient puts who is calling into the context, for the audit log: the client's whole
// address (clientAddr), an IPv6 one too.
func (s *Server) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := backend.Client{IP: s.clientAddr(r).String(), UserAgent: r.UserAgent()}
		next.ServeHTTP(w, r.WithContext(backend.WithClient(r.Context(), c)))
	})
}

// recoverPanics turns a panic in a handler into a logged 500 page.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "path", logPath(r), "panic", v)
				s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", genericMessage)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// genericMessage is what a person sees of an unexpected error; the details go to the log.
var genericMessage = backend.ErrorMessage(errors.New("unexpected"))

// statusRecorder remembers the status and size of a response, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	n, err := sr.ResponseWriter.Write(b)
	sr.bytes += n
	return n, err
}

func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// logRequests logs one line per request: method, path, status, size, duration and client. Never
// the query string or a body (codes and passwords travel in bodies, and a query string could
// carry anything), and the setup link's token is cut from its path.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request",
			"method", r.Method, "path", logPath(r), "status", rec.status, "bytes", rec.bytes,
			"duration", time.Since(start).Round(time.Microsecond).String(), "ip", s.clientAddr(r).String())
	})
}

// logPath is the request path as it may be logged.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/setup/") {
		return "/setup/…"
	}
	return r.URL.Path
}
