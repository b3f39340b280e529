// Command gatehouse is the System: accounts, password login and Two-Factor Authentication.
//
//	gatehouse                 the desktop console (a build with the Wails tags)
//	gatehouse serve           the web server
//	gatehouse user …          manage users from the command line (operators, break-glass)
//	gatehouse version         the version, the commit it was built from and the Go release
//
// Every command works on one data directory (--data, GATEHOUSE_DATA, default the per-user data
// directory), holding the SQLite database and the server key that seals TOTP secrets; or, with
// --database postgres://… (GATEHOUSE_DATABASE_URL), on a PostgreSQL database that several
// servers share, with the server key given to each (GATEHOUSE_SECRET_KEY or --secret-key-file).
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/cli"
	"gatehouse/backend/datadir"
	"gatehouse/backend/location"
	"gatehouse/backend/serverkey"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/web"
)

func main() {
	// Everything Gatehouse writes is private to its user: the data directory's files, and the
	// desktop console's saved or printed recovery codes.
	datadir.RestrictUmask()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var u cli.UsageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &u) && u.Printed:
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(cli.ExitCode(err))
	}
}

const usage = `Usage:
  gatehouse [--data DIR]             open the desktop console
  gatehouse serve [flags]            run the web server (gatehouse serve --help)
  gatehouse serve --sms-sandbox      the same, with SMS through a fake Twilio on this machine
` + cli.UsageLines + cli.AppUsageLines + cli.DatabaseUsageLines + `  gatehouse version                  the version, commit and Go release (also --version)

Every command but version works on the data directory --data DIR (or GATEHOUSE_DATA), default
%s: SQLite and its key file. Or, for servers that share one database, on
PostgreSQL: --database postgres://… (or GATEHOUSE_DATABASE_URL), with the server key in
GATEHOUSE_SECRET_KEY or --secret-key-file FILE, the same for every command and server.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "--version" || args[0] == "-version") {
		cmd, args = strings.TrimLeft(args[0], "-"), args[1:]
	}
	switch cmd {
	case "":
		return runDesktopCommand(args, stderr)
	case "serve":
		return runServe(ctx, args, stdout, stderr)
	case "user":
		env := &cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, DataDir: dataDirDefault(),
			Usage: fmt.Sprintf(usage, defaultDataDir())}
		w := &where{}
		env.StoreFlags, env.Open = w.AddFlags, w.openService
		return env.User(ctx, args)
	case "database":
		env := &cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, DataDir: dataDirDefault(),
			Usage: fmt.Sprintf(usage, defaultDataDir()), DatabaseFile: location.DatabaseFile, DatabaseEnv: location.DatabaseEnv}
		return env.Database(ctx, args)
	case "app":
		env := &cli.Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, DataDir: dataDirDefault(),
			Usage: fmt.Sprintf(usage, defaultDataDir())}
		w := &where{}
		env.StoreFlags, env.Open = w.AddFlags, w.openService
		return env.App(ctx, args)
	case "version":
		return (&cli.Env{Stdout: stdout, Stderr: stderr}).Version(args)
	case "help":
		fmt.Fprintf(stdout, usage, defaultDataDir())
		return nil
	}
	fmt.Fprintf(stderr, usage, defaultDataDir())
	return cli.UsageError{Msg: fmt.Sprintf("unknown command %q", cmd)}
}

// newFlags returns a flag set with the flags every command has: --data, --database and
// --secret-key-file, and where they say the data is, once parsed.
func newFlags(name string, stderr io.Writer, summary string) (*flag.FlagSet, *where) {
	fs, data := cli.NewFlagSet(name, stderr, summary, dataDirDefault())
	w := &where{dir: data}
	w.AddFlags(fs)
	return fs, w
}

// where is what a command's flags say of where its data is: --data (cli's) and the rest
// (location.Where's).
type where struct {
	dir *string
	location.Where
}

// at is where the data is, once the flags are parsed.
func (w where) at() location.Where {
	loc := w.Where
	if w.dir != nil {
		loc.DataDir = *w.dir
	}
	return loc
}

// openService opens the System for a `user` command (cli.Env.Open) on the data directory
// dataDir, or on the database the flags name.
func (w *where) openService(dataDir string, logger *slog.Logger) (*backend.Service, io.Closer, error) {
	sys, err := openSystem(where{dir: &dataDir, Where: w.Where}, logger, backend.SMSConfig{})
	if err != nil {
		return nil, nil, err
	}
	return sys.svc, sys, nil
}

// dataDirDefault is the default of --data: GATEHOUSE_DATA, else the per-user data directory.
func dataDirDefault() string { return envOr("GATEHOUSE_DATA", defaultDataDir()) }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// defaultDataDir is the per-user data directory, so the desktop console and the server on one
// machine share their users: $XDG_DATA_HOME/gatehouse or ~/.local/share/gatehouse on Linux.
func defaultDataDir() string {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LocalAppData")
	case "darwin":
		if home, err := os.UserHomeDir(); err == nil {
			base = filepath.Join(home, "Library", "Application Support")
		}
	default:
		base = os.Getenv("XDG_DATA_HOME")
		if base == "" {
			if home, err := os.UserHomeDir(); err == nil {
				base = filepath.Join(home, ".local", "share")
			}
		}
	}
	if base == "" {
		base = "."
	}
	return filepath.Join(base, "gatehouse")
}

// system is what every command opens: the store and the service over it.
type system struct {
	closeStore func() error
	svc        *backend.Service
	log        *slog.Logger
	where      []any // where the data is, for the log: never a password
}

func (s *system) Close() error { return s.closeStore() }

// open opens the data directory without SMS: for the commands that send no text message.
func open(dataDir string, logger *slog.Logger) (*system, error) {
	return openSystem(where{dir: &dataDir}, logger, backend.SMSConfig{})
}

// openSystem opens the store where w says (location.Open: SQLite in the data directory, or
// PostgreSQL) and the Service over it. smsCfg is the Service's SMS (smsSettings); its zero
// value turns SMS off. edit, if given, changes the rest of the Service's configuration.
func openSystem(w where, logger *slog.Logger, smsCfg backend.SMSConfig, edit ...func(*backend.Config)) (*system, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // connecting, migrating
	defer cancel()
	st, err := location.Open(ctx, w.at(), logger)
	if errors.Is(err, location.ErrNotPostgres) {
		return nil, cli.UsageError{Msg: err.Error()}
	} else if err != nil {
		return nil, err
	}
	cfg := backend.Config{Store: st.Store, SecretKey: st.Key, Logger: logger, SMS: smsCfg}
	for _, f := range edit {
		f(&cfg)
	}
	svc, err := backend.New(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &system{closeStore: st.Close, svc: svc, log: logger, where: st.Log}, nil
}

// Waiting for a database that does not answer at start: the first retry after openRetryFirst,
// each wait twice the last, at most openRetryMax.
const (
	openRetryFirst = time.Second
	openRetryMax   = 30 * time.Second
)

// openWaiting is openSystem for serve: a PostgreSQL database that does not answer (refused,
// no answer in time, a host name that does not resolve: backend.IsStoreUnreachable) is asked
// again until it does, or ctx ends, with a WARN line per attempt. After a reboot the server
// may start before its database; exiting would leave it to systemd's restart limit, which
// gives up in seconds. A refusal (a wrong password, no such database, a permission or
// schema refusal) is no outage and ends serve at once.
func openWaiting(ctx context.Context, w where, logger *slog.Logger, smsCfg backend.SMSConfig, edit ...func(*backend.Config)) (*system, error) {
	wait := openRetryFirst
	for {
		sys, err := openSystem(w, logger, smsCfg, edit...)
		if err == nil || w.Database == "" || !backend.IsStoreUnreachable(err) {
			return sys, err
		}
		logger.Warn("the database does not answer: trying again", "in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, openRetryMax)
	}
}

func runDesktopCommand(args []string, stderr io.Writer) error {
	fs, data := newFlags("gatehouse", stderr, "[--data DIR] [SMS flags]   (the desktop console; see also: gatehouse help)")
	smsCfg := smsFlags(fs, "the public base `URL` of the web server (gatehouse serve) that receives Twilio's webhook (env GATEHOUSE_PUBLIC_URL)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	// The console sends login codes itself; texts to the System Phone Number reach the web
	// server's webhook, which records them in the data directory the console shares.
	backendSMS, err := smsSettings(*smsCfg)
	if err != nil {
		return err
	}
	if _, ok := os.LookupEnv("tsoutputtype"); ok {
		// `wails build` runs the binary once to generate the front end's bindings (it sets
		// this variable): give it a scratch directory rather than the user's data.
		tmp, err := os.MkdirTemp("", "gatehouse-bindings-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*data.dir, data.Database = tmp, ""
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	logSMS(logger, *smsCfg)
	sys, err := openSystem(*data, logger, backendSMS, func(c *backend.Config) { c.PublicURL = smsCfg.PublicURL })
	if err != nil {
		return err
	}
	defer sys.Close()
	err = runDesktop(sys.svc, logger)
	if err != nil && strings.Contains(err.Error(), "build tags") {
		return errors.New("this gatehouse was built without the desktop console: build it with `go tool wails build -tags webkit2_41` (see the README), or run the web server with `gatehouse serve`")
	}
	return err
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("serve", stderr, "serve [flags]")
	addr := fs.String("addr", envOr("GATEHOUSE_ADDR", "127.0.0.1:8080"), "listen `address` (env GATEHOUSE_ADDR)")
	smsCfg := smsFlags(fs, "the `URL` people and Twilio reach the server at (env GATEHOUSE_PUBLIC_URL; default http://ADDR)")
	sandbox := fs.Bool("sms-sandbox", false, "try SMS without a Twilio account: a fake Twilio on this machine and the /sms-sandbox page (only with a loopback --addr)")
	cert := fs.String("tls-cert", os.Getenv("GATEHOUSE_TLS_CERT"), "TLS certificate `file` (PEM); with --tls-key, serve HTTPS")
	key := fs.String("tls-key", os.Getenv("GATEHOUSE_TLS_KEY"), "TLS private key `file` (PEM)")
	retention := fs.String("audit-retention", envOr("GATEHOUSE_AUDIT_RETENTION", "400"), "keep audit events this many `days`, then delete them (env GATEHOUSE_AUDIT_RETENTION)")
	proxies := fs.String("trusted-proxies", os.Getenv("GATEHOUSE_TRUSTED_PROXIES"), "the reverse proxies in front of the server, `CIDR,...` (e.g. 10.0.0.0/8,127.0.0.1/32; env GATEHOUSE_TRUSTED_PROXIES): only from them are X-Forwarded-For and Forwarded believed")
	cookieDomain := fs.String("cookie-domain", os.Getenv("GATEHOUSE_COOKIE_DOMAIN"), "share the session cookie with every host under this `domain` (e.g. example.com; env GATEHOUSE_COOKIE_DOMAIN), for forward-auth to the company's other hosts; needs an https --public-url inside it")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if !*sandbox { // the sandbox sets its own
		if err := web.CheckPublicURL(smsCfg.PublicURL); err != nil {
			return cli.UsageError{Msg: err.Error()}
		}
	}
	if err := web.CheckCookieDomain(*cookieDomain, smsCfg.PublicURL); err != nil {
		return cli.UsageError{Msg: err.Error()}
	}
	days, err := strconv.Atoi(*retention)
	if err != nil || days < 1 || days > 100*365 {
		return cli.UsageError{Msg: fmt.Sprintf("--audit-retention (GATEHOUSE_AUDIT_RETENTION) is a number of days from 1 to 36500, got %q", *retention)}
	}
	if fs.NArg() > 0 {
		return cli.UsageError{Msg: fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	trusted, err := parseTrustedProxies(*proxies)
	if err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return cli.UsageError{Msg: "--tls-cert and --tls-key go together"}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	// The OpenID Connect library (zitadel/oidc) logs only to slog's default logger (its
	// WithLogger option does nothing): make that ours, so its lines (protocol errors with
	// their descriptions and the client's state; never a code or token) land where ours do.
	slog.SetDefault(logger)
	if loc := data.at(); loc.Database == "" && (os.Getenv(serverkey.EnvVar) != "" || loc.KeyFile != "") {
		// A key given is a sign of a replica set up for a shared database; without the URL
		// (an env file's unquoted & cut it off) it would run, ready and alone, on a new
		// SQLite database: say so where the operator looks.
		logger.Warn("a server key is given but no database URL (--database, "+location.DatabaseEnv+"): this server runs on the embedded SQLite in "+absPath(loc.DataDir)+", not on a shared database",
			"data_directory", absPath(loc.DataDir))
	}
	cfg := web.Config{Logger: logger, Addr: *addr, PublicURL: smsCfg.PublicURL, TLSCert: *cert, TLSKey: *key, TrustedProxies: trusted,
		CookieDomain: *cookieDomain, DataDir: commandDataDir(data.at()), SharedDatabase: data.at().Database != "", OnStart: func(s web.Started) { printStarted(stdout, s) }}
	if *sandbox {
		if *cert != "" {
			return cli.UsageError{Msg: "--sms-sandbox serves plain HTTP on loopback: leave out --tls-cert and --tls-key"}
		}
		ln, twilio, err := startSandbox(*addr, smsCfg, logger)
		if err != nil {
			return err
		}
		defer twilio.Close()
		defer ln.Close()
		cfg.Listener, cfg.PublicURL, cfg.SMSSandbox = ln, smsCfg.PublicURL, smstest.Sandbox[web.SandboxMessage]{Server: twilio}
	}
	backendSMS, err := smsSettings(*smsCfg)
	if err != nil {
		return err
	}
	logSMS(logger, *smsCfg)
	sys, err := openWaiting(ctx, *data, logger, backendSMS, func(c *backend.Config) {
		c.AuditRetention = time.Duration(days) * 24 * time.Hour
		c.PublicURL = smsCfg.PublicURL
	})
	if err != nil {
		return err
	}
	defer sys.Close()
	logger.Info("store opened", sys.where...)
	cfg.Service = sys.svc
	if smsCfg.Configured() {
		if cfg.SMSWebhook, err = sms.NewWebhook(*smsCfg, sys.svc, logger); err != nil {
			return smsConfigError(err)
		}
		cfg.SMSWebhookPath = sms.WebhookPath
	}
	return web.Run(ctx, cfg)
}

// absPath is path made absolute, or path itself if it cannot be: a directory named in a command
// printed for another shell must not depend on this one's working directory.
// commandDataDir is the data directory the first-administrator commands name with --data: ""
// with PostgreSQL, whose URL they take from GATEHOUSE_DATABASE_URL as the server does.
func commandDataDir(loc location.Where) string {
	if loc.Database != "" {
		return ""
	}
	return absPath(loc.DataDir)
}

func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// printStarted tells whoever started `serve` where to go and, while there is no administrator,
// the one-time link to create the first one (a credential: the terminal only, never the log).
func printStarted(stdout io.Writer, s web.Started) {
	fmt.Fprintf(stdout, "Gatehouse is running. Open %s in your browser.\n", s.URL)
	if s.SMSSandboxURL != "" {
		fmt.Fprintf(stdout, "SMS sandbox: no text message leaves this machine. See them, and text the System, at %s\n", s.SMSSandboxURL)
	}
	if s.FirstAdminLink != "" {
		fmt.Fprintf(stdout, "\nNo administrator exists yet. Create the first one within 1 hour at:\n\n    %s\n\n%s", s.FirstAdminLink, s.FirstAdminCLI)
	}
}

// parseTrustedProxies reads --trusted-proxies: address ranges in CIDR notation, separated by
// commas; a single address stands for itself alone. A mistake stops start-up: a range silently
// dropped would put everyone behind that proxy in one bucket, and a wrong one would believe
// forged headers.
func parseTrustedProxies(list string) ([]netip.Prefix, error) {
	var ranges []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, cli.UsageError{Msg: fmt.Sprintf("--trusted-proxies: %q is not an address range (CIDR, e.g. 10.0.0.0/8 or 127.0.0.1/32) or an address", f)}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		ranges = append(ranges, p.Masked())
	}
	return ranges, nil
}

// smsFlags adds the SMS flags to fs, each defaulting to its environment variable, and returns
// the configuration they fill in. publicURLUsage is the --public-url flag's help.
// secretFlag is a flag holding a secret: --help, which prints a flag's current value as its
// default (here, what the environment gave), prints none.
type secretFlag struct{ value *string }

func (f secretFlag) Set(s string) error { *f.value = s; return nil }
func (f secretFlag) String() string     { return "" }

func smsFlags(fs *flag.FlagSet, publicURLUsage string) *sms.Config {
	c := sms.ConfigFromEnv(os.Getenv)
	fs.StringVar(&c.AccountSID, "twilio-account-sid", c.AccountSID, "Twilio account `SID`, AC… (env TWILIO_ACCOUNT_SID); setting any Twilio flag turns SMS on")
	fs.Var(secretFlag{&c.AuthToken}, "twilio-auth-token", "Twilio auth `token` (env TWILIO_AUTH_TOKEN; prefer the variable: other users can read command lines)")
	fs.StringVar(&c.From, "sms-from", c.From, "the System Phone `Number` in E.164, e.g. +15551234567 (env GATEHOUSE_SMS_FROM)")
	fs.StringVar(&c.MessagingServiceSID, "twilio-messaging-service-sid", c.MessagingServiceSID, "send through this Messaging Service, MG… (env TWILIO_MESSAGING_SERVICE_SID)")
	fs.StringVar(&c.APIURL, "twilio-api-url", c.APIURL, "base `URL` of Twilio's REST API, if not https://api.twilio.com (env GATEHOUSE_TWILIO_API_URL)")
	fs.StringVar(&c.Region, "sms-region", c.Region, "`region` whose national format numbers without a country code are read in (env GATEHOUSE_SMS_REGION; default US)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, publicURLUsage)
	return &c
}

// smsSettings checks the SMS configuration and returns the Service's SMS settings: SMS off
// when no Twilio setting is given ("Use SMS" then says it is not available, and everything else
// works), else a Twilio gateway, or an error of one line naming what to fix.
func smsSettings(c sms.Config) (backend.SMSConfig, error) {
	if !c.Configured() {
		return backend.SMSConfig{}, nil
	}
	gw, err := sms.NewGateway(c)
	if err != nil {
		return backend.SMSConfig{}, smsConfigError(err)
	}
	return c.Backend(gw), nil
}

// smsVariables names each SMS variable's flag next to it in error messages.
var smsVariables = strings.NewReplacer(
	"TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID (--twilio-account-sid)",
	"TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN (--twilio-auth-token)",
	"GATEHOUSE_SMS_FROM", "GATEHOUSE_SMS_FROM (--sms-from)",
	"TWILIO_MESSAGING_SERVICE_SID", "TWILIO_MESSAGING_SERVICE_SID (--twilio-messaging-service-sid)",
	"GATEHOUSE_PUBLIC_URL", "GATEHOUSE_PUBLIC_URL (--public-url)",
	"GATEHOUSE_TWILIO_API_URL", "GATEHOUSE_TWILIO_API_URL (--twilio-api-url)",
	"GATEHOUSE_SMS_REGION", "GATEHOUSE_SMS_REGION (--sms-region)",
)

// smsConfigError puts the problems of an SMS configuration (one per line) on one line.
func smsConfigError(err error) error {
	var problems []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(strings.TrimPrefix(line, "sms: ")); line != "" {
			problems = append(problems, line)
		}
	}
	return fmt.Errorf("SMS is misconfigured: %s (unset every Twilio setting to run without SMS)", smsVariables.Replace(strings.Join(problems, "; ")))
}

// logSMS says at start-up whether SMS is on, and where Twilio must send incoming texts.
func logSMS(logger *slog.Logger, c sms.Config) {
	if !c.Configured() {
		logger.Info("SMS is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, GATEHOUSE_SMS_FROM and GATEHOUSE_PUBLIC_URL to send codes by text message, or try it with serve --sms-sandbox")
		return
	}
	logger.Info("SMS through Twilio", "system_phone_number", c.From, "messaging_service", c.MessagingServiceSID,
		"incoming_messages_webhook", c.WebhookURL(), "api", cmp.Or(c.APIURL, "https://api.twilio.com"))
}

// startSandbox sets up `serve --sms-sandbox`: it listens on addr, which must be loopback, and
// starts the fake Twilio (smstest) on loopback. cfg then sends through the fake, with its
// credentials and System Phone Number, and its public URL is the local server's at localhost,
// where the sandbox page delivers texts to the webhook. Other Twilio settings are ignored.
func startSandbox(addr string, cfg *sms.Config, logger *slog.Logger) (net.Listener, *smstest.Server, error) {
	if err := checkSandboxAddr(addr); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	// "localhost" could resolve to anything: what counts is where the socket is.
	if err := checkSandboxAddr(ln.Addr().String()); err != nil {
		ln.Close()
		return nil, nil, err
	}
	if cfg.Configured() || cfg.PublicURL != "" {
		logger.Warn("sms sandbox: the Twilio settings and the public URL given are ignored; texts go to a fake Twilio on this machine")
	}
	twilio := smstest.NewServer()
	// The public URL names the server localhost, not its loopback IP: a security key is bound
	// to a host name (an IP is no WebAuthn relying party ID), and the Host check takes
	// localhost over loopback.
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	*cfg = sms.Config{
		AccountSID: twilio.AccountSID, AuthToken: twilio.AuthToken, From: smstest.PhoneNumber,
		PublicURL: "http://" + net.JoinHostPort("localhost", port), APIURL: twilio.URL, Region: cfg.Region,
	}
	logger.Info("sms sandbox: a fake Twilio on this machine receives every text message; none reaches a phone", "twilio_api", twilio.URL)
	return ln, twilio, nil
}

// checkSandboxAddr refuses a listen address that is not loopback for the SMS sandbox: its page
// shows every text message, codes included, to whoever reaches it, with no login.
func checkSandboxAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return cli.UsageError{Msg: fmt.Sprintf("--addr %q: %v", addr, err)}
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return cli.UsageError{Msg: fmt.Sprintf("--sms-sandbox only listens on loopback (e.g. --addr 127.0.0.1:8080), not %q: its page shows every text message to anyone who can reach it", addr)}
}
