// Package backendtest is the set-up every package's tests share, as net/http/httptest is for
// HTTP: a real store on a new data directory in t.TempDir (closed when the test ends), a random
// server key, a fake clock (backend/fakeclock) standing at a TOTP step boundary, captured logs,
// and a backend.Service over them with cheap argon2id parameters. Options change the Service's
// configuration, sign in a first administrator, and wire SMS through a fake Twilio
// (backend/sms/smstest) behind the real gateway and webhook. Helpers log users in, enroll an
// authenticator app and compute the codes an app shows at the fake time.
//
//	e := backendtest.New(t, backendtest.WithAdmin("admin", "admin passphrase"))
//	u := backendtest.CreateUser(t, e.Service, e.Admin, backend.NewUser{…})
//
// The store is chosen by a StoreKind, a name and a function that opens the store of a data
// directory. Stores lists them, SQLite and PostgreSQL (a throwaway cluster per test binary,
// a database per data directory); New uses SQLite unless WithStore (or GATEHOUSE_TEST_STORE)
// names another, and EachStore runs a test once on each. Every test built on New can run on
// every store: GATEHOUSE_TEST_STORE=postgres go test ./backend/ runs backend's on PostgreSQL.
// A test that looks at what a store holds beneath its methods (no secret in clear, a purged
// row gone) asks Env.Contents and Env.CountRows, which each kind answers its own way.
//
// The package imports backend and its subpackages, so backend's internal tests (package
// backend) cannot use it; its external tests (package backend_test) and every other package's
// tests do.
package backendtest

import (
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/sms"
	"gatehouse/backend/sms/smstest"
)

// T0 is where the fake clock starts: the first second of a TOTP time step, so that a code
// computed at the start stays valid for the whole step.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// CheapArgon2 keeps password hashing fast where a test is not about its cost.
var CheapArgon2 = backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// Env is a System for one test: a store, a Service over it, and what they were made from.
type Env struct {
	T     testing.TB
	Kind  StoreKind
	Dir   string        // the data directory (SQLite: its gatehouse.db; PostgreSQL: the key of its database)
	Store backend.Store // the store as opened, before WithConfig wrapped it, if it did
	Key   []byte        // the server key
	// Clock is the fake clock of the Service and the store; nil with WithRealClock.
	Clock  *fakeclock.Clock
	Logs   *Logs        // everything Logger wrote, debug level up (none WithoutLogs)
	Logger *slog.Logger // the Service's logger (and the webhook's)
	// Config is what Service was built from, after every WithConfig.
	Config  backend.Config
	Service *backend.Service

	// With WithSMS: the fake Twilio the Service sends through, and the configuration of the
	// real gateway (its API URL is Twilio's) and of the webhook (Webhook).
	Twilio *smstest.Server
	SMS    sms.Config

	// With WithAdmin: the first administrator's session, its password confirmed.
	Admin      *backend.Identity
	AdminToken string

	closeMu sync.Mutex
	closers []func() error
}

// An Option changes what New builds.
type Option func(*options)

type options struct {
	kind      *StoreKind
	dir       string
	key       []byte
	realClock bool
	noLogs    bool
	edits     []func(*backend.Config)
	sms       bool
	publicURL string
	smsEdits  []func(*sms.Config)
	admin     *[2]string
}

// WithStore opens a store of kind k instead of the default one.
func WithStore(k StoreKind) Option { return func(o *options) { o.kind = &k } }

// InDataDir opens the store of the data directory dir with the server key key instead of a new
// directory and key: a directory that processes started by the test share (DataDir makes one).
func InDataDir(dir string, key []byte) Option {
	return func(o *options) { o.dir, o.key = dir, key }
}

// WithRealClock gives the Service and the store the real time instead of the fake clock: for
// a Service that shares its data with processes on the real clock, and for benchmarks.
func WithRealClock() Option { return func(o *options) { o.realClock = true } }

// WithoutLogs formats every log line and drops it, keeping nothing in Logs: for benchmarks,
// whose figures Logs' lock would touch, and fuzzing, whose millions of inputs it would keep.
func WithoutLogs() Option { return func(o *options) { o.noLogs = true } }

// WithConfig changes the Service's configuration before it is built; edits run in order,
// after SMS is wired in.
func WithConfig(edit func(*backend.Config)) Option {
	return func(o *options) { o.edits = append(o.edits, edit) }
}

// WithSMS turns SMS on as main does it, against a fake Twilio: the real Twilio gateway sends to
// Env.Twilio, and the webhook (Webhook) checks what is signed over publicURL. edit, if given,
// changes the SMS configuration before the gateway is made.
func WithSMS(publicURL string, edit ...func(*sms.Config)) Option {
	return func(o *options) { o.sms, o.publicURL, o.smsEdits = true, publicURL, append(o.smsEdits, edit...) }
}

// WithAdmin creates the first administrator, signs them in (Env.Admin, Env.AdminToken) and
// confirms their password, as the administrator's changes to other users need.
func WithAdmin(username, password string) Option {
	return func(o *options) { o.admin = &[2]string{username, password} }
}

// New builds the System for tb; everything it opens is closed when tb ends.
func New(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	e := &Env{T: tb, Dir: o.dir, Key: o.key, Logs: &Logs{}}
	if o.kind != nil {
		e.Kind = *o.kind
	} else {
		e.Kind = defaultStore(tb)
	}
	if e.Dir == "" {
		e.Dir = tb.TempDir()
		if remove := e.Kind.Remove; remove != nil {
			// Registered before Close, so it runs after the stores are closed.
			dir := e.Dir
			tb.Cleanup(func() {
				if err := remove(dir); err != nil {
					tb.Errorf("remove the %s store of %s: %v", e.Kind.Name, dir, err)
				}
			})
		}
	}
	tb.Cleanup(e.Close)
	if e.Key == nil {
		e.Key = make([]byte, backend.SecretKeySize)
		rand.Read(e.Key)
	}
	var now func() time.Time
	if !o.realClock {
		e.Clock = fakeclock.New(T0)
		now = e.Clock.Now
	}
	if o.noLogs {
		e.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	} else {
		e.Logger = slog.New(slog.NewTextHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.Store = e.OpenStore()

	cfg := backend.Config{
		Store:     e.Store,
		SecretKey: e.Key,
		Now:       now,
		Logger:    e.Logger,
		Passwords: backend.PasswordPolicy{Argon2: CheapArgon2},
	}
	if o.sms {
		e.Twilio = smstest.NewServer()
		e.closers = append(e.closers, func() error { e.Twilio.Close(); return nil })
		e.SMS = SMSConfig(e.Twilio, o.publicURL)
		for _, f := range o.smsEdits {
			f(&e.SMS)
		}
		gw, err := sms.NewGateway(e.SMS)
		if err != nil {
			tb.Fatalf("sms.NewGateway: %v", err)
		}
		cfg.SMS = e.SMS.Backend(gw)
	}
	for _, f := range o.edits {
		f(&cfg)
	}
	svc, err := backend.New(cfg)
	if err != nil {
		tb.Fatalf("backend.New: %v", err)
	}
	e.Config, e.Service = cfg, svc

	if o.admin != nil {
		name, password := o.admin[0], o.admin[1]
		if _, err := svc.CreateFirstAdmin(tb.Context(), backend.NewUser{Username: name, Password: password}); err != nil {
			tb.Fatalf("CreateFirstAdmin(%s): %v", name, err)
		}
		e.AdminToken = Login(tb, svc, name, password, backend.StepDone).SessionToken
		e.Admin = Authenticate(tb, svc, e.AdminToken)
		if err := svc.ConfirmPassword(tb.Context(), e.Admin, password); err != nil {
			tb.Fatalf("ConfirmPassword(%s): %v", name, err)
		}
	}
	return e
}

// OpenStore opens another store on e's data directory, as another process would; it is closed
// with e.
func (e *Env) OpenStore() backend.Store {
	e.T.Helper()
	var now func() time.Time
	if e.Clock != nil {
		now = e.Clock.Now
	}
	st, closeStore, err := e.Kind.Open(e.Dir, now)
	if err != nil {
		e.T.Fatalf("open the %s store: %v", e.Kind.Name, err)
	}
	e.closeMu.Lock()
	e.closers = append(e.closers, closeStore)
	e.closeMu.Unlock()
	return st
}

// Reopen is another process on the same data, or this one restarted: a new store opened on
// the data directory, and a new Service over it configured as Service is (the same clock, key,
// logs and SMS; a store wrapped by WithConfig is not wrapped again). Whatever Service keeps in
// memory, the new one does not have.
func (e *Env) Reopen() *backend.Service {
	e.T.Helper()
	cfg := e.Config
	cfg.Store = e.OpenStore()
	svc, err := backend.New(cfg)
	if err != nil {
		e.T.Fatalf("backend.New: %v", err)
	}
	return svc
}

// Webhook is the real inbound SMS webhook (WithSMS) handing texts to svc, e.Service or one
// from Reopen; serve it at sms.WebhookPath of the public URL given to WithSMS.
func (e *Env) Webhook(svc *backend.Service) *sms.Webhook {
	e.T.Helper()
	wh, err := sms.NewWebhook(e.SMS, svc, e.Logger)
	if err != nil {
		e.T.Fatalf("sms.NewWebhook: %v", err)
	}
	return wh
}

// Code is the code an authenticator app holding key (as shown for typing) shows at the fake
// clock's time.
func (e *Env) Code(key string) string {
	e.T.Helper()
	return TOTP(e.T, key, e.Clock.Now())
}

// Close closes the stores and the fake Twilio now, before the test ends: for a test that hands
// the data directory to another process. It is safe to call more than once.
func (e *Env) Close() {
	e.closeMu.Lock()
	closers := e.closers
	e.closers = nil
	e.closeMu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]() // as a process ending: what it did not commit is not there
	}
}
