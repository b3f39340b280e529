// Command gatehouse is the System: accounts, password login and Two-Factor Authentication.
//
//	gatehouse                 the desktop console (a build with the Wails tags)
//	gatehouse serve           the web server
//	gatehouse user …          manage users from the command line (operators, break-glass)
//
// Every command works on one data directory (--data, GATEHOUSE_DATA, default the per-user data
// directory), holding the SQLite database and the server key that seals TOTP secrets.
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
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
	"text/tabwriter"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/datadir"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
	"gatehouse/backend/sqlite"
	"gatehouse/backend/web"
)

func main() {
	// Everything Gatehouse writes is private to its user: the data directory's files, and the
	// desktop console's saved or printed recovery codes.
	datadir.RestrictUmask()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var u usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &u) && u.printed:
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in the command line: exit status 2, like flag's own errors. printed
// says the flag package has already printed it (with the usage), so main does not again.
type usageError struct {
	msg     string
	printed bool
}

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

const usage = `Usage:
  gatehouse [--data DIR]             open the desktop console
  gatehouse serve [flags]            run the web server (gatehouse serve --help)
  gatehouse serve --sms-sandbox      the same, with SMS through a fake Twilio on this machine
  gatehouse user create [flags]      create a user (--help for flags)
  gatehouse user list [flags]        list users and their Two-Factor status
  gatehouse user reset-2fa USERNAME  clear a user's Two-Factor enrollment (the requirement stays)
  gatehouse user unlock USERNAME     lift a lock after too many failed attempts
  gatehouse user set-password USERNAME --password-stdin [--must-change]
  gatehouse user seed --count N [--password-stdin]   add N test users (test and benchmark data only)

Every command takes --data DIR (or GATEHOUSE_DATA): the data directory, default %s.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		return runDesktopCommand(args, stderr)
	case "serve":
		return runServe(ctx, args, stderr)
	case "user":
		return runUser(ctx, args, stdin, stdout, stderr)
	case "help":
		fmt.Fprintf(stdout, usage, defaultDataDir())
		return nil
	}
	fmt.Fprintf(stderr, usage, defaultDataDir())
	return usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
}

// newFlags returns a flag set with the --data flag every command has.
func newFlags(name string, stderr io.Writer, summary string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("GATEHOUSE_DATA", defaultDataDir()), "data `directory` (env GATEHOUSE_DATA)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gatehouse %s\n\nFlags:\n", summary)
		fs.PrintDefaults()
	}
	return fs, data
}

// parse parses args, turning flag errors (already printed) into a usageError.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageError{msg: err.Error(), printed: true}
	}
	return err
}

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
	db  *sqlite.DB
	svc *backend.Service
	log *slog.Logger
}

func (s *system) Close() error { return s.db.Close() }

// open opens the data directory without SMS: for the commands that send no text message.
func open(dataDir string, logger *slog.Logger) (*system, error) {
	return openSystem(dataDir, logger, backend.SMSConfig{})
}

// openSystem opens the data directory: it creates it (0700) and the server key on first use,
// and makes an existing one private (datadir.Prepare). smsCfg is the Service's SMS
// (smsSettings); its zero value turns SMS off. edit, if given, changes the rest of the Service's
// configuration.
func openSystem(dataDir string, logger *slog.Logger, smsCfg backend.SMSConfig, edit ...func(*backend.Config)) (*system, error) {
	tightened, err := datadir.Prepare(dataDir)
	if err != nil {
		return nil, err
	}
	for _, p := range tightened {
		logger.Warn("other users could read this part of the data directory: made it private to this user", "path", p)
	}
	dbPath := filepath.Join(dataDir, "gatehouse.db")
	key, err := loadKey(dataDir, dbPath)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(dbPath)
	if err != nil {
		return nil, err
	}
	cfg := backend.Config{Store: db, SecretKey: key, Logger: logger, SMS: smsCfg}
	for _, f := range edit {
		f(&cfg)
	}
	svc, err := backend.New(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &system{db: db, svc: svc, log: logger}, nil
}

// openCLI opens the data directory for a `user` command, logging to stderr.
func openCLI(dataDir string, stderr io.Writer) (*system, error) {
	return open(dataDir, slog.New(slog.NewTextHandler(stderr, nil)))
}

// loadKey returns the server key that seals TOTP secrets: GATEHOUSE_SECRET_KEY (base64 of 32
// bytes) if set, else the key file in the data directory, created (0600) with the database. A
// database without its key file means the key was lost: refuse rather than make a new key that
// cannot open the secrets already stored.
func loadKey(dataDir, dbPath string) ([]byte, error) {
	if v := os.Getenv("GATEHOUSE_SECRET_KEY"); v != "" {
		return decodeKey(v, "GATEHOUSE_SECRET_KEY")
	}
	path := filepath.Join(dataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		return decodeKey(string(b), path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	if _, err := os.Stat(dbPath); err == nil {
		return nil, fmt.Errorf("the key file %s is missing but the database exists: restore the key file (or set GATEHOUSE_SECRET_KEY); without it enrolled authenticator apps cannot be checked", path)
	}
	key := make([]byte, backend.SecretKeySize)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write key file: %w", err)
	}
	return key, f.Close()
}

func decodeKey(s, source string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != backend.SecretKeySize {
		return nil, fmt.Errorf("%s: want the base64 encoding of %d random bytes (e.g. `head -c %d /dev/urandom | base64`)", source, backend.SecretKeySize, backend.SecretKeySize)
	}
	return key, nil
}

func runDesktopCommand(args []string, stderr io.Writer) error {
	fs, data := newFlags("gatehouse", stderr, "[--data DIR] [SMS flags]   (the desktop console; see also: gatehouse help)")
	smsCfg := smsFlags(fs, "the public base `URL` of the web server (gatehouse serve) that receives Twilio's webhook (env GATEHOUSE_PUBLIC_URL)")
	if err := parse(fs, args); err != nil {
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
		*data = tmp
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	logSMS(logger, *smsCfg)
	sys, err := openSystem(*data, logger, backendSMS)
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

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs, data := newFlags("serve", stderr, "serve [flags]")
	addr := fs.String("addr", envOr("GATEHOUSE_ADDR", "127.0.0.1:8080"), "listen `address` (env GATEHOUSE_ADDR)")
	smsCfg := smsFlags(fs, "the `URL` people and Twilio reach the server at (env GATEHOUSE_PUBLIC_URL; default http://ADDR)")
	sandbox := fs.Bool("sms-sandbox", false, "try SMS without a Twilio account: a fake Twilio on this machine and the /sms-sandbox page (only with a loopback --addr)")
	cert := fs.String("tls-cert", os.Getenv("GATEHOUSE_TLS_CERT"), "TLS certificate `file` (PEM); with --tls-key, serve HTTPS")
	key := fs.String("tls-key", os.Getenv("GATEHOUSE_TLS_KEY"), "TLS private key `file` (PEM)")
	retention := fs.String("audit-retention", envOr("GATEHOUSE_AUDIT_RETENTION", "400"), "keep audit events this many `days`, then delete them (env GATEHOUSE_AUDIT_RETENTION)")
	proxies := fs.String("trusted-proxies", os.Getenv("GATEHOUSE_TRUSTED_PROXIES"), "the reverse proxies in front of the server, `CIDR,...` (e.g. 10.0.0.0/8,127.0.0.1/32; env GATEHOUSE_TRUSTED_PROXIES): only from them are X-Forwarded-For and Forwarded believed")
	if err := parse(fs, args); err != nil {
		return err
	}
	days, err := strconv.Atoi(*retention)
	if err != nil || days < 1 || days > 100*365 {
		return usageError{msg: fmt.Sprintf("--audit-retention (GATEHOUSE_AUDIT_RETENTION) is a number of days from 1 to 36500, got %q", *retention)}
	}
	if fs.NArg() > 0 {
		return usageError{msg: fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	trusted, err := parseTrustedProxies(*proxies)
	if err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return usageError{msg: "--tls-cert and --tls-key go together"}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := web.Config{Logger: logger, Addr: *addr, PublicURL: smsCfg.PublicURL, TLSCert: *cert, TLSKey: *key, TrustedProxies: trusted}
	if *sandbox {
		if *cert != "" {
			return usageError{msg: "--sms-sandbox serves plain HTTP on loopback: leave out --tls-cert and --tls-key"}
		}
		ln, twilio, err := startSandbox(*addr, smsCfg, logger)
		if err != nil {
			return err
		}
		defer twilio.Close()
		defer ln.Close()
		cfg.Listener, cfg.PublicURL, cfg.SMSSandbox = ln, smsCfg.PublicURL, twilio
	}
	backendSMS, err := smsSettings(*smsCfg)
	if err != nil {
		return err
	}
	logSMS(logger, *smsCfg)
	sys, err := openSystem(*data, logger, backendSMS, func(c *backend.Config) {
		c.AuditRetention = time.Duration(days) * 24 * time.Hour
	})
	if err != nil {
		return err
	}
	defer sys.Close()
	logger.Info("data directory", "path", *data)
	cfg.Service = sys.svc
	if smsCfg.Configured() {
		if cfg.SMSWebhook, err = sms.NewWebhook(*smsCfg, sys.svc, logger); err != nil {
			return smsConfigError(err)
		}
	}
	return web.Run(ctx, cfg)
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
				return nil, usageError{msg: fmt.Sprintf("--trusted-proxies: %q is not an address range (CIDR, e.g. 10.0.0.0/8 or 127.0.0.1/32) or an address", f)}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		ranges = append(ranges, p.Masked())
	}
	return ranges, nil
}

// smsFlags adds the SMS flags to fs, each defaulting to its environment variable, and returns
// the configuration they fill in. publicURLUsage is the --public-url flag's help.
func smsFlags(fs *flag.FlagSet, publicURLUsage string) *sms.Config {
	c := sms.ConfigFromEnv(os.Getenv)
	fs.StringVar(&c.AccountSID, "twilio-account-sid", c.AccountSID, "Twilio account `SID`, AC… (env TWILIO_ACCOUNT_SID); setting any Twilio flag turns SMS on")
	fs.StringVar(&c.AuthToken, "twilio-auth-token", c.AuthToken, "Twilio auth `token` (env TWILIO_AUTH_TOKEN; prefer the variable: other users can read command lines)")
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
// credentials and System Phone Number, and its public URL is the local server's, where the
// sandbox page delivers texts to the webhook. Other Twilio settings are ignored.
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
	*cfg = sms.Config{
		AccountSID: twilio.AccountSID, AuthToken: twilio.AuthToken, From: smstest.PhoneNumber,
		PublicURL: "http://" + ln.Addr().String(), APIURL: twilio.URL, Region: cfg.Region,
	}
	logger.Info("sms sandbox: a fake Twilio on this machine receives every text message; none reaches a phone", "twilio_api", twilio.URL)
	return ln, twilio, nil
}

// checkSandboxAddr refuses a listen address that is not loopback for the SMS sandbox: its page
// shows every text message, codes included, to whoever reaches it, with no login.
func checkSandboxAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError{msg: fmt.Sprintf("--addr %q: %v", addr, err)}
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return usageError{msg: fmt.Sprintf("--sms-sandbox only listens on loopback (e.g. --addr 127.0.0.1:8080), not %q: its page shows every text message to anyone who can reach it", addr)}
}

func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(stderr, usage, defaultDataDir())
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, usage, defaultDataDir())
		return usageError{msg: "user: name a subcommand: create, list, reset-2fa, unlock, set-password or seed"}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return userCreate(ctx, args, stdin, stdout, stderr)
	case "list":
		return userList(ctx, args, stdout, stderr)
	case "reset-2fa":
		return userReset2FA(ctx, args, stdout, stderr)
	case "unlock":
		return userUnlock(ctx, args, stdout, stderr)
	case "set-password":
		return userSetPassword(ctx, args, stdin, stdout, stderr)
	case "seed":
		return userSeed(ctx, args, stdin, stdout, stderr)
	}
	return usageError{msg: fmt.Sprintf("user: unknown subcommand %q (create, list, reset-2fa, unlock, set-password, seed)", sub)}
}

// cliContext marks what the command line does as the operator's, for the audit log.
func cliContext(ctx context.Context) context.Context {
	return backend.WithClient(ctx, backend.Client{IP: "cli", UserAgent: "gatehouse cli"})
}

func userCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("user create", stderr, "user create --username U [--name N] [--email E] [--admin] [--require-2fa] [--must-change] --password-stdin")
	username := fs.String("username", "", "the `username` (required)")
	name := fs.String("name", "", "display `name`")
	email := fs.String("email", "", "email `address`")
	admin := fs.Bool("admin", false, "make the user an administrator")
	require := fs.Bool("require-2fa", false, "require Two-Factor Authentication: the user enrolls at first login")
	mustChange := fs.Bool("must-change", false, "the user must choose a new password at first login")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" || !*pwStdin || fs.NArg() > 0 {
		fs.Usage()
		return usageError{msg: "user create needs --username and --password-stdin, and no other arguments"}
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	sys, err := openCLI(*data, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	role := backend.RoleUser
	if *admin {
		role = backend.RoleAdmin
	}
	u, err := sys.svc.CreateUser(cliContext(ctx), sys.svc.Operator(), backend.NewUser{
		Username: *username, DisplayName: *name, Email: *email, Password: password, Role: role,
		RequireTwoFactor: *require, MustChangePassword: *mustChange,
	})
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintf(stdout, "Created %s %q (Two-Factor Authentication: %s).\n", u.Role, u.Username, u.TwoFactorStatus().Label())
	return nil
}

// readPassword reads one line: the password, without its line ending.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError{msg: "no password on standard input (e.g. `printf '%s\\n' \"$PASSWORD\" | gatehouse user create …`)"}
	}
	return line, nil
}

// domainError turns a backend error into what the command line prints.
func domainError(err error) error {
	if backend.ErrorCode(err) == backend.EINTERNAL {
		return err
	}
	return errors.New(backend.ErrorMessage(err))
}

func userList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("user list", stderr, "user list [--search TEXT] [--status STATUS]")
	search := fs.String("search", "", "only users whose username, name or email contains `text`")
	status := fs.String("status", "", `only users with this Two-Factor `+"`status`"+`: "no", "pending" or "enabled" (or the words the list shows)`)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := parseStatus(*status)
	if err != nil {
		return err
	}
	sys, err := openCLI(*data, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tROLE\tSTATUS\tTWO-FACTOR AUTHENTICATION")
	for offset := 0; ; {
		page, err := sys.svc.Users(ctx, sys.svc.Operator(), backend.UserFilter{Search: *search, Status: st, Offset: offset, Limit: 500})
		if err != nil {
			return domainError(err)
		}
		for _, u := range page.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Email, u.Role, sys.svc.AccountState(u).Label(), u.TwoFactorStatus().Label())
		}
		offset += len(page.Users)
		if len(page.Users) == 0 || offset >= page.Total {
			break
		}
	}
	return tw.Flush()
}

func parseStatus(s string) (backend.TwoFactorStatus, error) {
	if s == "" {
		return "", nil
	}
	st, err := backend.ParseTwoFactorStatus(s)
	if err != nil {
		return "", usageError{msg: backend.ErrorMessage(err)}
	}
	return st, nil
}

// oneUsername parses a command that takes flags and exactly one USERNAME, in any order.
func oneUsername(fs *flag.FlagSet, args []string) (string, error) {
	if err := parse(fs, flagsFirst(fs, args)); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", usageError{msg: fmt.Sprintf("%s takes one USERNAME", fs.Name())}
	}
	return fs.Arg(0), nil
}

// flagsFirst moves flags (with their values) before positional arguments, so "cmd NAME --flag"
// parses like "cmd --flag NAME": package flag stops at the first non-flag.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, rest...)
}

func userReset2FA(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userChange(ctx, args, stdout, stderr, "user reset-2fa",
		"user reset-2fa USERNAME   (clears the enrollment; a required user enrolls again at next login)",
		(*backend.Service).ResetTwoFactor,
		func(u *backend.User) string {
			return fmt.Sprintf("Two-Factor Authentication of %q reset; status: %s.", u.Username, u.TwoFactorStatus().Label())
		})
}

func userUnlock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return userChange(ctx, args, stdout, stderr, "user unlock",
		"user unlock USERNAME   (lifts a lock after too many failed attempts)",
		(*backend.Service).UnlockUser,
		func(u *backend.User) string { return fmt.Sprintf("%q is unlocked.", u.Username) })
}

// userChange makes an administrator's change to the user named in args, as the operator, and
// prints what done says of the result.
func userChange(ctx context.Context, args []string, stdout, stderr io.Writer, name, usageLine string,
	change func(*backend.Service, context.Context, *backend.Identity, int64) (*backend.User, error), done func(*backend.User) string) error {
	fs, data := newFlags(name, stderr, usageLine)
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	sys, err := openCLI(*data, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	u, err := sys.svc.UserByUsername(ctx, sys.svc.Operator(), username)
	if err != nil {
		return domainError(err)
	}
	u, err = change(sys.svc, cliContext(ctx), sys.svc.Operator(), u.ID)
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintln(stdout, done(u))
	return nil
}

func userSetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("user set-password", stderr, "user set-password USERNAME --password-stdin [--must-change]")
	pwStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (required)")
	mustChange := fs.Bool("must-change", false, "the user must choose a new password at next login")
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	if !*pwStdin {
		return usageError{msg: "user set-password needs --password-stdin"}
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	sys, err := openCLI(*data, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	u, err := sys.svc.UserByUsername(ctx, sys.svc.Operator(), username)
	if err != nil {
		return domainError(err)
	}
	if err := sys.svc.SetUserPassword(cliContext(ctx), sys.svc.Operator(), u.ID, password, *mustChange); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(stdout, "Password of %q set; their sessions have ended.\n", u.Username)
	return nil
}

// maxSeed bounds user seed --count: enough for any benchmark, and the users go in one transaction.
const maxSeed = 1_000_000

// userSeed adds count test users in one transaction (sqlite.DB.SeedUsers): data for trying the
// administration pages and for the benchmarks (build/bench.sh), not a way to create real
// accounts. It refuses a database that has any user who is not an administrator, so it cannot
// mix invented users into one in use, and running it twice fails instead of doubling the data.
func userSeed(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("user seed", stderr, `user seed --count N [--password-stdin]

Adds N test users in one transaction, for trying the administration pages and for benchmarks
(build/bench.sh): user000000, user000001, … named "Test User 0", … with user000000@example.com, …,
role user, a mix of Two-Factor statuses (every 3rd required, so Pending; every 4th enrolled by SMS
at a fictional +1 202 555 01xx number). They all share one password hash: with --password-stdin
the password read (it must pass the password rules), else a random one nobody knows (set one
later with user set-password). The first user is created as "user create" does; the others are
written directly, with one audit event for them all.

It refuses a database that has any user who is not an administrator: seed a new data directory
(an administrator, from user create --admin, may exist).`)
	count := fs.Int("count", 0, "how many users to add, 1 to 1000000 (required)")
	pwStdin := fs.Bool("password-stdin", false, "read the users' password from the first line of standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *count < 1 || *count > maxSeed || fs.NArg() > 0 {
		fs.Usage()
		return usageError{msg: fmt.Sprintf("user seed needs --count from 1 to %d, and no other arguments", maxSeed)}
	}
	password := rand.Text() + rand.Text()
	if *pwStdin {
		var err error
		if password, err = readPassword(stdin); err != nil {
			return err
		}
	}
	sys, err := openCLI(*data, stderr)
	if err != nil {
		return err
	}
	defer sys.Close()
	ctx = cliContext(ctx)
	op := sys.svc.Operator()
	others, err := sys.svc.Users(ctx, op, backend.UserFilter{Role: backend.RoleUser, Limit: 1})
	if err != nil {
		return domainError(err)
	}
	if others.Total > 0 {
		return fmt.Errorf("user seed makes test data and refuses a database with users who are not administrators (%s has %d): seed a new data directory", *data, others.Total)
	}
	users := make([]*backend.User, *count)
	for i := range users {
		u := &backend.User{Username: fmt.Sprintf("user%06d", i), DisplayName: fmt.Sprintf("Test User %d", i),
			Email: fmt.Sprintf("user%06d@example.com", i), Role: backend.RoleUser, TwoFactorRequired: i%3 == 0}
		if i%4 == 1 {
			u.Method, u.SMSPhone = backend.MethodSMS, fmt.Sprintf("+1202555%04d", 100+i%100)
		}
		users[i] = u
	}
	// The first goes through the Service: the password rules, the real argon2id hash, the
	// audit event. Its hash is then shared by the rest.
	first, err := sys.svc.CreateUser(ctx, op, backend.NewUser{Username: users[0].Username, DisplayName: users[0].DisplayName,
		Email: users[0].Email, Password: password, Role: backend.RoleUser, RequireTwoFactor: users[0].TwoFactorRequired})
	if err != nil {
		return domainError(err)
	}
	hash, err := sys.db.PasswordHash(ctx, first.ID)
	if err != nil {
		return err
	}
	if err := sys.db.SeedUsers(ctx, users[1:], hash); err != nil {
		return domainError(err)
	}
	if len(users) > 1 {
		e := &backend.AuditEvent{Action: backend.AuditUserCreated, ActorName: op.User.Username, IP: backend.ClientFrom(ctx).IP,
			Detail: fmt.Sprintf("user seed: %d more test users, %s to %s, sharing %s's password", len(users)-1, users[1].Username, users[len(users)-1].Username, first.Username)}
		if err := sys.db.AddAuditEvent(ctx, e); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Added %d test users, %s to %s.\n", len(users), users[0].Username, users[len(users)-1].Username)
	return nil
}
