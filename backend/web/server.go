// Package web is the System in the browser: net/http handlers over backend.Service, templ
// components for the pages, and the middleware that makes them safe to put on a network
// (security headers, cross-origin protection, body limits, the Host check, per-address limits
// of failures, request logs).
//
// Every page works without JavaScript; static/app.js only enhances (confirmation dialogs, the
// Print button, the user menu). No product rule lives here: handlers translate forms into
// backend calls and backend errors into pages.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/sso"
)

// Config configures the web server.
type Config struct {
	Service   *backend.Service
	Logger    *slog.Logger
	Addr      string // listen address, e.g. "127.0.0.1:8080"
	PublicURL string // e.g. "https://gatehouse.example.com"; "" means http://Addr
	// TLSCert and TLSKey, both set, make Run serve HTTPS; cookies then get Secure and the
	// __Host- prefix. A PublicURL starting with https:// (TLS ended by a proxy) does the same
	// for cookies.
	TLSCert, TLSKey string
	// Listener, if set, is where Run serves instead of listening on Addr: main opens it first
	// when it must know the address before the server starts (the SMS sandbox).
	Listener net.Listener
	// TrustedProxies are the address ranges of the reverse proxies in front of the server
	// (serve --trusted-proxies). Only a request whose TCP peer is inside them has its client
	// taken from X-Forwarded-For or Forwarded; from anyone else those headers are ignored.
	TrustedProxies []netip.Prefix
	// CookieDomain, if set (serve --cookie-domain), is the domain the session cookie is sent
	// to, every host under it: forward-auth to the company's other hosts needs the session
	// there. The cookie is then __Secure-gatehouse_session with Domain=CookieDomain; the login
	// attempt's and flash cookies keep __Host- (CheckCookieDomain says what it needs).
	CookieDomain string

	// SMSWebhook, if set, is Twilio's "A message comes in" webhook (main gives sms.Webhook),
	// served at SMSWebhookPath (POST; main gives sms.WebhookPath) outside cross-origin
	// protection and sessions: Twilio posts from outside with no session, and its
	// X-Twilio-Signature, which the webhook checks, is the protection.
	SMSWebhook     http.Handler
	SMSWebhookPath string
	// SMSSandbox, if set (serve --sms-sandbox), is the fake Twilio that texts go to: the
	// /sms-sandbox page lists its messages and texts the System through SMSWebhook, at
	// PublicURL + SMSWebhookPath. Only for a server on loopback.
	SMSSandbox SMSSandbox

	// DataDir is the data directory the server runs on (serve --data), "" if not known: the
	// commands that create the first administrator, on the login page while there is none and
	// in Started, name it with --data, so that whoever copies them acts on this server's data.
	DataDir string
	// SharedDatabase says the server runs on a PostgreSQL database (GATEHOUSE_DATABASE_URL),
	// not on the data directory: the commands then say to run them with the server's
	// database URL and key, and name no --data.
	SharedDatabase bool

	// OnStart, if set, is called once Run listens, before it serves, with where to go and the
	// first-administrator link: main prints them. Run itself writes nothing on standard output;
	// its log lines go to Logger.
	OnStart func(Started)
}

// Started is what Run tells its caller once it listens (Config.OnStart).
type Started struct {
	URL string // where people open Gatehouse, e.g. http://localhost:8080
	// SMSSandboxURL is the SMS sandbox page, "" unless the server has one (Config.SMSSandbox).
	SMSSandboxURL string
	// FirstAdminLink is a one-time link, valid for backend.SetupLinkTTL, to create the first
	// administrator in the browser; "" when an administrator exists. It is a credential: for the
	// terminal of whoever started the server, never for a log. FirstAdminCLIText says the other
	// way.
	FirstAdminLink string
	// FirstAdminCLI is what to print after FirstAdminLink: the commands that create the first
	// administrator from the command line, for this server's data directory
	// (FirstAdminCLIText).
	FirstAdminCLI string
}

// Server is the handler tree of the web front end. The only state it keeps in memory is the
// per-address failure limiter, which each server counts on its own; everything a person was
// shown (setups in progress, recovery codes on show, codes sent, the first-administrator link)
// is backend's, in the store. It implements http.Handler.
type Server struct {
	svc       *backend.Service
	log       *slog.Logger
	publicURL string
	secure    bool // cookies get Secure and the __Host- prefix
	sessionCk string
	attemptCk string
	flashCk   string // the flash's token (see takeFlash)
	// cookieDomain is the session cookie's Domain, "" for a host-only __Host- cookie.
	cookieDomain string

	// publicScheme and publicHost are the configured public URL's (publicAuthority), "" when
	// none was configured: the Origin and Host checks compare with them.
	publicScheme, publicHost string
	trustedProxies           []netip.Prefix

	// now is the clock of the in-memory state (rate limits and expiries); tests replace it.
	now func() time.Time

	limiter *failureLimiter
	// refused counts backend's 429s per address, inFlight an address's limited requests in
	// progress (limitFailures).
	refused  *failureLimiter
	inFlight *inFlight
	health   *storeHealth // whether the store answers, as this server last saw it (see watchStore)
	webhook  http.Handler
	sandbox  *sandbox // nil unless serve --sms-sandbox

	webhookPath string // where webhook is served (Config.SMSWebhookPath)

	firstAdmin firstAdminCommands // the commands that create the first administrator here

	oidc *sso.Provider // the OpenID Connect provider; nil without a public URL (its issuer)

	mux     *http.ServeMux // the routes, without the middleware: which paths have a page (reloadPath)
	handler http.Handler
}

// NewServer builds the handler tree.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("web: no service")
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("web: give both a TLS certificate and key, or neither")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{
		svc:        cfg.Service,
		log:        cfg.Logger,
		publicURL:  strings.TrimRight(cfg.PublicURL, "/"),
		secure:     cfg.TLSCert != "" || strings.HasPrefix(cfg.PublicURL, "https://"),
		now:        time.Now,
		limiter:    newFailureLimiter(failureBurst, failureEvery, maxTrackedAddrs),
		refused:    newFailureLimiter(refusedBurst, refusedEvery, maxTrackedAddrs),
		inFlight:   newInFlight(maxInFlight),
		health:     &storeHealth{svc: cfg.Service, log: cfg.Logger},
		webhook:    cfg.SMSWebhook,
		firstAdmin: newFirstAdminCommands(cfg.DataDir, cfg.SharedDatabase),
	}
	if cfg.SMSWebhook != nil {
		if !strings.HasPrefix(cfg.SMSWebhookPath, "/") {
			return nil, errors.New("web: the SMS webhook needs its path")
		}
		s.webhookPath = cfg.SMSWebhookPath
	}
	for _, p := range cfg.TrustedProxies {
		s.trustedProxies = append(s.trustedProxies, p.Masked())
	}
	if s.publicURL != "" {
		var err error
		if s.publicScheme, s.publicHost, err = publicAuthority(s.publicURL); err != nil {
			return nil, err
		}
	}
	if err := CheckPublicURL(s.publicURL); err != nil {
		return nil, err
	}
	if err := CheckCookieDomain(cfg.CookieDomain, s.publicURL); err != nil {
		return nil, err
	}
	if cfg.SMSSandbox != nil {
		if cfg.SMSWebhook == nil || s.publicURL == "" {
			return nil, errors.New("web: the SMS sandbox needs the SMS webhook and the public URL")
		}
		s.sandbox = &sandbox{twilio: cfg.SMSSandbox, webhookURL: s.publicURL + s.webhookPath}
	}
	if s.publicURL != "" {
		// The issuer is the public URL: what relying parties are configured with must be what
		// discovery says, byte for byte.
		p, err := sso.New(sso.Config{Service: cfg.Service, Issuer: s.publicURL, Logger: cfg.Logger, Now: func() time.Time { return s.now() }})
		if err != nil {
			return nil, err
		}
		s.oidc = p
	}
	s.sessionCk, s.attemptCk, s.flashCk = "gatehouse_session", "gatehouse_login", "gatehouse_flash"
	if s.secure {
		// __Host-: the browser accepts the cookie only with Secure, Path=/ and no Domain, so
		// neither a subdomain nor a plain-HTTP page can plant or overwrite it.
		s.sessionCk, s.attemptCk, s.flashCk = "__Host-"+s.sessionCk, "__Host-"+s.attemptCk, "__Host-"+s.flashCk
	}
	if cfg.CookieDomain != "" {
		// __Secure-: the browser accepts it only with Secure, from an https page. A sibling
		// host under the domain could set a cookie of that name too: what it would name is a
		// session token, which it cannot guess.
		s.sessionCk, s.cookieDomain = "__Secure-gatehouse_session", strings.ToLower(cfg.CookieDomain)
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// FirstAdminURL returns a new one-time link, valid for an hour, to create the first
// administrator in the browser, or "" when an administrator exists. Each call replaces the
// previous link.
func (s *Server) FirstAdminURL(ctx context.Context, base string) (string, error) {
	token, err := s.svc.NewSetupLink(ctx)
	if err != nil || token == "" {
		return "", err
	}
	return strings.TrimRight(base, "/") + "/setup/" + token, nil
}

// Run listens on cfg.Addr, tells cfg.OnStart where to go (and, when there is no administrator
// yet, a one-time link to create the first one), and serves until ctx is cancelled; then it
// stops accepting connections and lets requests in flight finish, for at most shutdownGrace.
func Run(ctx context.Context, cfg Config) error {
	s, err := NewServer(cfg)
	if err != nil {
		return err
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	base := s.publicURL
	if base == "" {
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = "localhost"
		}
		base = scheme + "://" + net.JoinHostPort(host, port)
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("web server listening", "addr", ln.Addr().String(), "url", base, "tls", cfg.TLSCert != "")
	if why := cfg.Service.KeysUnavailableReason(); why != "" {
		// Once, for the administrator: the pages tell people only to ask them.
		s.log.Info(why)
	}
	started := Started{URL: base, FirstAdminCLI: s.firstAdmin.text()}
	if s.sandbox != nil {
		started.SMSSandboxURL = base + "/sms-sandbox"
	}
	if started.FirstAdminLink, err = s.FirstAdminURL(ctx, base); err != nil {
		ln.Close()
		return fmt.Errorf("first administrator: %w", err)
	}
	if started.FirstAdminLink != "" {
		// The link is a credential: it goes to the terminal only (OnStart), never to the log.
		s.log.Info("no administrator yet: a one-time link to create the first one is printed on standard output", "valid_for", backend.SetupLinkTTL.String())
	}
	if cfg.OnStart != nil {
		cfg.OnStart(started)
	}

	go purgeExpired(ctx, cfg.Service, s.log)
	// The session cache runs while the server serves, and stops after the last request in
	// flight, writing the last uses it holds.
	defer cfg.Service.StartSessionCache()()
	// Back-channel logout tokens are sent while the server serves (any server on the store
	// may send them); stopping waits for the POSTs in flight.
	if s.oidc != nil {
		defer s.oidc.StartLogoutDelivery()()
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("web server shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// firstAdminCommands are the commands that create the first administrator from the command
// line, complete so that they work as typed once NAME and PASSWORD are filled in: from the
// source folder, as the README's first run starts the server (`go run .`, no gatehouse program
// on the PATH), and with a built binary; each with --data naming the server's data directory
// when it is known, which is what a command run elsewhere needs to act on this server's users.
// The password goes on standard input (printf is a shell builtin), never as an argument, so the
// process list never shows it.
//
// The login page shows them only while there is no administrator, to whoever opens it: the
// data directory's path then shows too. It is no secret (the key file inside is readable only
// by the server's user), and the person who started the server is the one who needs it.
type firstAdminCommands struct {
	DataDir        string // "" when not known
	Shared         bool   // on a PostgreSQL database: the same URL and key, no --data
	Source, Binary string
}

func newFirstAdminCommands(dataDir string, shared bool) firstAdminCommands {
	if shared {
		dataDir = ""
	}
	data := ""
	if dataDir != "" {
		data = " --data " + shellQuote(dataDir)
	}
	create := func(program string) string {
		return `printf '%s\n' 'PASSWORD' | ` + program + ` user create` + data + ` --username NAME --admin --password-stdin`
	}
	return firstAdminCommands{DataDir: dataDir, Shared: shared, Source: create("go run ."), Binary: create("gatehouse")}
}

// shellQuote writes s as one word of a POSIX shell: as it is if it is made of characters the
// shell leaves alone, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+@:,=%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// where says which data directory the commands act on.
func (c firstAdminCommands) where() string {
	if c.Shared {
		return sharedWhere
	}
	if c.DataDir == "" {
		return "If the server runs with --data DIR, add the same --data DIR."
	}
	return "They name this server's data directory with --data."
}

// sharedWhere says where the commands act for a server on PostgreSQL.
const sharedWhere = "Run them with the same GATEHOUSE_DATABASE_URL and server key (GATEHOUSE_SECRET_KEY or --secret-key-file) as the server: they act on its PostgreSQL database."

// text is what serve prints after the setup link (Started.FirstAdminCLI): the commands,
// indented alone on their lines so that they copy whole. The login page and the "Link not
// valid" page say the same (firstAdminCLI).
func (c firstAdminCommands) text() string {
	return "Or create it from the command line, with your own username and password.\n" + c.where() + "\n" +
		"\nFrom the Gatehouse source folder (if you started the server with go run .):\n\n    " + c.Source + "\n" +
		"\nWith a built gatehouse program:\n\n    " + c.Binary + "\n"
}

// FirstAdminCLIText is the text Started.FirstAdminCLI has for a server on dataDir ("" when not
// known), or on a PostgreSQL database (shared).
func FirstAdminCLIText(dataDir string, shared bool) string {
	return newFirstAdminCommands(dataDir, shared).text()
}

// purgeExpired deletes dead sessions and login attempts every purgeEvery until ctx ends, so the
// tables stay the size of the live ones.
func purgeExpired(ctx context.Context, svc *backend.Service, log *slog.Logger) {
	t := time.NewTicker(purgeEvery)
	defer t.Stop()
	for {
		if err := svc.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			log.Error("purge expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

const purgeEvery = 10 * time.Minute

// shutdownGrace bounds how long Run waits for requests in flight when it stops.
const shutdownGrace = 10 * time.Second
