package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"

	"gatehouse/backend"
)

// contentSecurityPolicy allows only this origin's own files: no inline script or style, no
// framing, forms post only here. data: images are the enrollment QR code.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// routes builds the handler tree: the mux, then the middleware around it, outermost first: the
// forward-auth check's own lean path (forwardFirst), the client's address, logging, panic
// recovery, security headers, the Host check, cross-origin protection, the form parser.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	limited := s.limitFailures

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
	// Log out writes to the store only when something ended, and is limited all the same.
	mux.Handle("POST /login/cancel", limited(s.cancelLogin))
	mux.Handle("POST /logout", limited(s.logout))

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
	s.keyRoutes(mux, limited)
	s.forwardRoutes(mux)

	// The SMS sandbox (serve --sms-sandbox only): the fake Twilio's messages, and texts to the
	// System through the real webhook.
	if s.sandbox != nil {
		mux.HandleFunc("GET /sms-sandbox", s.sandboxPage)
		mux.HandleFunc("POST /sms-sandbox/text", s.sandboxText)
	}

	// The OpenID Connect provider's browser endpoints and the hand-off (oidc.go).
	s.oidcRoutes(mux)

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
	return s.forwardFirst(s.middleware(cop.Handler(s.checkOrigin(s.parseForms(mux)))))
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
	h = s.oidcDirect(h)
	h = s.watchStore(h)
	h = s.checkHost(h)
	h = s.probes(h)
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
// carry anything), and the setup link's token is cut from its path. Health checks are not
// logged: a balancer asks every second or so (over 100,000 lines a day per replica), and what
// they would tell, the store lost and back, storeHealth logs once each.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isProbe(r) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case rec.status == http.StatusServiceUnavailable:
			// An outage of the store is logged once, as it begins and as it ends
			// (storeHealth); each request it refuses is no new error.
			level = slog.LevelWarn
		case rec.status >= 500:
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request",
			"method", r.Method, "path", logPath(r), "status", rec.status, "bytes", rec.bytes,
			"duration", time.Since(start).Round(time.Microsecond).String(), "ip", s.clientAddr(r).String())
	})
}

// logPath is the request path as it may be logged: shortened and sanitised (logValue), as any
// path a stranger typed, a 404's above all, may be.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/setup/") {
		return "/setup/…"
	}
	return logValue(r.URL.Path)
}

// maxLogValue bounds what logValue keeps of a value: every path and name of the System's
// own is shorter.
const maxLogValue = 64

// logValue is what may be logged of a value a stranger sent (a path, a Host, an Origin, a
// Content-Type): its first maxLogValue characters, control characters (and invalid UTF-8)
// replaced by "?", and "…" if it was longer. Logged whole, such a value could be 64 KiB (the
// header limit) per line, of whatever was typed there (L1). The prefix is enough to tell what
// was wrong.
func logValue(v string) string {
	var b strings.Builder
	n := 0
	for _, c := range v {
		if n == maxLogValue {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(c) || c == utf8.RuneError {
			c = '?'
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}

// isProbe reports whether r is a health check that probes answers.
func isProbe(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz")
}

// probes answers the load balancer's two questions before anything else looks at the request
// (the Host check: a health check may send no Host at all). Neither says more than a word.
//
//   - GET /healthz: the process is up and serving ("ok"), whatever the store does; for a
//     supervisor deciding whether to restart it.
//   - GET /readyz: the store answers too (backend.Service.Ready, at most backend.PingTimeout):
//     200 "ok", or 503 and one line saying the database does not answer; for a balancer
//     deciding whether to send people here. Each call asks the store again.
func (s *Server) probes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isProbe(r) {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/healthz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok"))
		case "/readyz":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if s.health.check(r.Context()) != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("unavailable: the database does not answer\n"))
				return
			}
			w.Write([]byte("ok"))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// storeHealth is whether the store answers, as this server last saw it: the only thing it
// decides is whether a request is answered at once with the "cannot reach its database" page
// (and logged once per outage, not once per request). It is never trusted for long: while the
// store is down, a request at most every storeRecheck asks it again, and /readyz asks on every
// call, so the server is back as soon as the store is, without a restart.
type storeHealth struct {
	svc *backend.Service
	log *slog.Logger

	// isDown mirrors down for stillDown's read of every request, which then takes no lock
	// while the store answers.
	isDown atomic.Bool

	mu      sync.Mutex
	down    bool
	since   time.Time // when this outage was first seen
	checked time.Time // the last ping while down
	probing bool      // a request is asking the store now; the others do not wait for it
}

// storeRecheck is how often, at most, requests ask a store that was down whether it is back.
const storeRecheck = 500 * time.Millisecond

// check asks the store (Service.Ready) and records the answer, logging the change when the
// store stops or starts answering.
func (h *storeHealth) check(ctx context.Context) error {
	// A request that ends (a health check that gave up, a browser gone) must not make its
	// ping look like an outage: the ping is bounded by backend.PingTimeout alone.
	err := h.svc.Ready(context.WithoutCancel(ctx))
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = now
	switch {
	case err != nil && !h.down:
		h.down, h.since = true, now
		h.isDown.Store(true)
		h.log.Error("Gatehouse cannot reach its database: pages answer 503 until it is back", "err", err)
	case err == nil && h.down:
		h.down = false
		h.isDown.Store(false)
		h.log.Info("Gatehouse reaches its database again", "outage", now.Sub(h.since).Round(time.Millisecond).String())
	}
	return err
}

// stillDown reports whether the store is known to be down. While it is up that costs nothing;
// while down, one request at a time, at most every storeRecheck, asks it again.
func (h *storeHealth) stillDown(ctx context.Context) bool {
	if !h.isDown.Load() {
		return false
	}
	h.mu.Lock()
	if !h.down {
		h.mu.Unlock()
		return false
	}
	if h.probing || time.Since(h.checked) < storeRecheck {
		h.mu.Unlock()
		return true
	}
	h.probing = true
	h.mu.Unlock()
	err := h.check(ctx)
	h.mu.Lock()
	h.probing = false
	h.mu.Unlock()
	return err != nil
}

// storeWatchKey is the context key of the request's *storeWatch.
type storeWatchKey struct{}

// watchStore answers every page with the "cannot reach its database" page (503) while the
// store is down, and replaces the answer of a request that failed because it went down: a
// handler's unexpected error is checked against the store by message (storeUnreachable), and
// the page the handler then writes, a generic 500 or a form saying "something went wrong", is
// dropped for this one.
func (s *Server) watchStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		if s.health.stillDown(r.Context()) {
			s.unavailablePage(w, r)
			return
		}
		sw := &storeWatch{ResponseWriter: w, header: w.Header().Clone(),
			down: func() bool { return s.health.check(r.Context()) != nil }}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), storeWatchKey{}, sw)))
		if sw.unreachable && !sw.wrote {
			s.unavailablePage(w, r)
		}
	})
}

// storeUnreachable reports whether an unexpected error of a request came from a store that
// does not answer now; if so, the request's answer becomes the "cannot reach its database"
// page. down says the store itself reported that it could not reach its database (backend.IsStoreUnreachable):
// that is the answer, and the store is asked again (Service.Ready) only to log the outage once
// and answer the next requests at once. For any other unexpected error, asking the store
// again tells a lost connection from a bug alike on both stores and for the ways of failing
// that a store does not name: SQLite still busy after its timeout, a driver's error not known.
func (s *Server) storeUnreachable(r *http.Request, down bool) bool {
	sw, _ := r.Context().Value(storeWatchKey{}).(*storeWatch)
	if sw == nil {
		return down
	}
	if s.health.check(r.Context()) != nil || down {
		sw.unreachable = true
	}
	return sw.unreachable
}

// storeWatch holds a handler's headers apart until it writes, so that an answer replaced by
// the unavailable page carries none of them (no cookie set or cleared by a request that did
// not happen).
type storeWatch struct {
	http.ResponseWriter
	header      http.Header
	unreachable bool        // the store went away under this request: its answer is dropped
	down        func() bool // asks the store whether it answers (storeHealth.check)
	wrote       bool        // the handler's answer went out
}

func (sw *storeWatch) Header() http.Header { return sw.header }

func (sw *storeWatch) WriteHeader(code int) {
	if !sw.wrote && !sw.unreachable && code == http.StatusInternalServerError && sw.down() {
		// A 500 that no error went through message() for (a render error, a handler that
		// writes its status first) is no 500 either while the store does not answer.
		sw.unreachable = true
	}
	if sw.unreachable {
		return
	}
	if !sw.wrote {
		sw.wrote = true
		dst := sw.ResponseWriter.Header()
		clear(dst)
		maps.Copy(dst, sw.header)
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *storeWatch) Write(b []byte) (int, error) {
	if sw.unreachable {
		return len(b), nil
	}
	if !sw.wrote {
		sw.WriteHeader(http.StatusOK)
	}
	return sw.ResponseWriter.Write(b)
}

func (sw *storeWatch) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// storeRetryAfter is the Retry-After of the unavailable page, in seconds.
const storeRetryAfter = "5"

// unavailablePage answers 503 with backend.StoreUnavailableMessage, without asking the store
// anything (no session, no flash): it is what every page shows while the database is down.
func (s *Server) unavailablePage(w http.ResponseWriter, r *http.Request) {
	back := backLink{URL: "/", Label: "Try again"}
	if r.Method == http.MethodGet {
		back.URL = templ.SafeURL(r.URL.Path)
	}
	ctx := r.Context()
	if s.sandbox != nil {
		ctx = context.WithValue(ctx, sandboxKey{}, true)
	}
	var buf bytes.Buffer
	if err := errorView(page{Title: "Gatehouse is unavailable"}, backend.StoreUnavailableMessage, back).Render(ctx, &buf); err != nil {
		s.log.Error("render page", "path", logPath(r), "err", err)
		http.Error(w, backend.StoreUnavailableMessage, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Retry-After", storeRetryAfter)
	w.WriteHeader(http.StatusServiceUnavailable)
	buf.WriteTo(w)
}
