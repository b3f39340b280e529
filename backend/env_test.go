package backend_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"gatehouse/backend/fakeclock"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"gatehouse/backend"
	"gatehouse/backend/sqlite"
)

var ctx = context.Background()

// t0 is the fake clock's start: the first second of a TOTP time step.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// cheapArgon2 keeps hashing fast where a test is not about the cost parameters.
var cheapArgon2 = backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// A password that passes the policy, and the first administrator's.
const (
	goodPassword  = "correct horse battery staple"
	adminPassword = "admin passphrase for tests"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// countingStore is the real SQLite store, counting how often the Service reads a password hash:
// the Service reads one exactly before it verifies a password against it, so this counts real
// verifications (the dummy verification for unknown and throttled users reads none).
type countingStore struct {
	*sqlite.DB
	hashReads     atomic.Int64
	totpReads     atomic.Int64 // TOTP checks: the Service reads the secret for each
	recoveryReads atomic.Int64 // recovery code checks (and counts of codes left)
}

func (s *countingStore) TOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	s.totpReads.Add(1)
	return s.DB.TOTPSecret(ctx, userID)
}

func (s *countingStore) RecoveryCodes(ctx context.Context, userID int64) ([]backend.RecoveryCode, error) {
	s.recoveryReads.Add(1)
	return s.DB.RecoveryCodes(ctx, userID)
}

func (s *countingStore) PasswordHash(ctx context.Context, userID int64) (string, error) {
	s.hashReads.Add(1)
	return s.DB.PasswordHash(ctx, userID)
}

// env is a Service over a real SQLite file in t.TempDir, with a fake clock and captured logs.
type env struct {
	t      *testing.T
	svc    *backend.Service
	db     *sqlite.DB
	store  *countingStore
	clock  *fakeclock.Clock
	path   string
	logs   *syncBuffer
	verify atomic.Int64 // password verifications, real and dummy (PasswordPolicy.OnVerify)
	key    []byte

	admin      *backend.Identity // a signed-in administrator, "admin"
	adminToken string            // admin's session
	cfg        backend.Config    // what the Service was built from
}

// newEnv starts a Service. edit, if given, changes the configuration first.
func newEnv(t *testing.T, edit ...func(*backend.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: fakeclock.New(t0), logs: &syncBuffer{}}
	e.path = filepath.Join(t.TempDir(), "gatehouse.db")
	db, err := sqlite.Open(e.path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = e.clock.Now
	e.db = db
	e.store = &countingStore{DB: db}
	e.key = make([]byte, backend.SecretKeySize)
	rand.Read(e.key)

	cfg := backend.Config{
		Store:     e.store,
		SecretKey: e.key,
		Now:       e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Passwords: backend.PasswordPolicy{Argon2: cheapArgon2},
	}
	for _, f := range edit {
		f(&cfg)
	}
	onVerify := cfg.Passwords.OnVerify
	cfg.Passwords.OnVerify = func() {
		e.verify.Add(1)
		if onVerify != nil {
			onVerify()
		}
	}
	e.svc, err = backend.New(cfg)
	if err != nil {
		t.Fatalf("backend.New: %v", err)
	}
	e.cfg = cfg

	if _, err := e.svc.CreateFirstAdmin(ctx, backend.NewUser{Username: "admin", Password: adminPassword}); err != nil {
		t.Fatalf("CreateFirstAdmin: %v", err)
	}
	e.adminToken = e.login("admin", adminPassword, backend.StepDone).SessionToken
	e.admin = e.identity(e.adminToken)
	// Confirmed, as the administrator's two-factor and password changes to users need
	// (TestAdminConfirmsPassword tests that); a test that moves the clock on past
	// ReauthWindow confirms again.
	if err := e.svc.ConfirmPassword(ctx, e.admin, adminPassword); err != nil {
		t.Fatalf("ConfirmPassword(admin): %v", err)
	}
	return e
}

// restarted returns a new Service over a new store on the same database file, configured as
// e.svc is: what a restarted process, or a second one on the same data directory, sees.
func (e *env) restarted() *backend.Service {
	e.t.Helper()
	db, err := sqlite.Open(e.path)
	if err != nil {
		e.t.Fatalf("sqlite.Open: %v", err)
	}
	e.t.Cleanup(func() { db.Close() })
	db.Now = e.clock.Now
	cfg := e.cfg
	cfg.Store = db
	svc, err := backend.New(cfg)
	if err != nil {
		e.t.Fatalf("backend.New: %v", err)
	}
	return svc
}

// generousLockout lets a test log in many times without completing the second step: every
// password step counts until the whole login succeeds.
func generousLockout(c *backend.Config) {
	c.Lockout = backend.LockoutPolicy{FreeFailures: 10000, MaxFailures: 10000}
}

// createUser creates a user as the administrator. nu.Password defaults to goodPassword.
func (e *env) createUser(nu backend.NewUser) *backend.User {
	e.t.Helper()
	if nu.Password == "" {
		nu.Password = goodPassword
	}
	u, err := e.svc.CreateUser(ctx, e.admin, nu)
	if err != nil {
		e.t.Fatalf("CreateUser(%s): %v", nu.Username, err)
	}
	return u
}

// login runs the password step and fails the test unless it reaches want.
func (e *env) login(username, password string, want backend.LoginStep) *backend.LoginState {
	e.t.Helper()
	st, err := e.svc.Login(ctx, username, password)
	if err != nil {
		e.t.Fatalf("Login(%s): %v", username, err)
	}
	if st.Step != want {
		e.t.Fatalf("Login(%s): got step %s, want %s", username, st.Step, want)
	}
	return st
}

// signIn logs in a user without a second factor and returns the session's identity.
func (e *env) signIn(username, password string) *backend.Identity {
	e.t.Helper()
	return e.identity(e.login(username, password, backend.StepDone).SessionToken)
}

// identity authenticates a session token.
func (e *env) identity(sessionToken string) *backend.Identity {
	e.t.Helper()
	id, err := e.svc.Authenticate(ctx, sessionToken)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return id
}

// appEnrollment is an enrolled authenticator app: its secret, and the codes handed out.
type appEnrollment struct {
	secret []byte
	codes  []string
	login  *backend.LoginState // set when enrolled at the enroll step of a login
}

// enrollApp enrolls the authenticator app for id (a session, or a login at the enroll step),
// confirming the password first for a session.
func (e *env) enrollApp(id *backend.Identity, password string) *appEnrollment {
	e.t.Helper()
	if id.SignedIn() {
		if err := e.svc.ConfirmPassword(ctx, id, password); err != nil {
			e.t.Fatalf("ConfirmPassword: %v", err)
		}
	}
	en, err := e.svc.BeginAppEnrollment(ctx, id)
	if err != nil {
		e.t.Fatalf("BeginAppEnrollment: %v", err)
	}
	secret := decodeKey(e.t, en.Key)
	res, err := e.svc.ConfirmAppEnrollment(ctx, id, totpCode(e.t, secret, e.clock.Now()))
	if err != nil {
		e.t.Fatalf("ConfirmAppEnrollment: %v", err)
	}
	return &appEnrollment{secret: secret, codes: res.RecoveryCodes, login: res.Login}
}

// enrolledUser creates a user, signs them in and enrolls the app; the enrollment's code is
// then used up.
func (e *env) enrolledUser(username string) (*backend.User, *appEnrollment) {
	e.t.Helper()
	u := e.createUser(backend.NewUser{Username: username})
	app := e.enrollApp(e.signIn(username, goodPassword), goodPassword)
	return u, app
}

// user reads a user back as the administrator.
func (e *env) user(id int64) *backend.User {
	e.t.Helper()
	u, err := e.svc.User(ctx, e.admin, id)
	if err != nil {
		e.t.Fatalf("User(%d): %v", id, err)
	}
	return u
}

// auditEvents returns the audit events with the action (or prefix ending in "."), newest first.
func (e *env) auditEvents(action string) []*backend.AuditEvent {
	e.t.Helper()
	p, err := e.svc.AuditLog(ctx, e.svc.Operator(), backend.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		e.t.Fatalf("AuditLog: %v", err)
	}
	return p.Events
}

// decodeKey reads the key shown for typing (grouped in fours) back into the secret.
func decodeKey(t *testing.T, key string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(key, " ", ""))
	if err != nil {
		t.Fatalf("decode key %q: %v", key, err)
	}
	return b
}

// totpCode is what an authenticator app shows at the time.
func totpCode(t *testing.T, secret []byte, at time.Time) string {
	t.Helper()
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	code, err := totp.GenerateCodeCustom(b32, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// wantEnded fails the test unless err says the login attempt has ended.
func wantEnded(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, backend.ErrLoginEnded) {
		t.Errorf("%s: got error %v, want %v", what, err, backend.ErrLoginEnded)
	}
}

// wantCode fails the test unless err has the code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := backend.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}
