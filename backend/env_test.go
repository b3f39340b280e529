package backend_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/fakeclock"
	"gatehouse/backend/postgres/pgtest"
)

var ctx = context.Background()

// TestMain stops the throwaway PostgreSQL cluster when the tests end, if a test started one
// (GATEHOUSE_TEST_STORE=postgres, or a test run on every store).
func TestMain(m *testing.M) { pgtest.Main(m) }

// t0 is the fake clock's start: the first second of a TOTP time step.
var t0 = backendtest.T0

// cheapArgon2 keeps hashing fast where a test is not about the cost parameters.
var cheapArgon2 = backendtest.CheapArgon2

// A password that passes the policy, and the first administrator's.
const (
	goodPassword  = "correct horse battery staple"
	adminPassword = "admin passphrase for tests"
)

// countingStore is the real store, counting how often the Service reads a password hash:
// the Service reads one exactly before it verifies a password against it, so this counts real
// verifications (the dummy verification for unknown and throttled users reads none).
type countingStore struct {
	backend.Store
	hashReads     atomic.Int64
	totpReads     atomic.Int64 // TOTP checks: the Service reads the secret for each
	recoveryReads atomic.Int64 // recovery code checks (and counts of codes left)
	// afterTakeCeremony, if set, runs after a WebAuthn ceremony is taken: what happens
	// between the check of a key and what the Service then writes.
	afterTakeCeremony func()
}

func (s *countingStore) TakeWebAuthnCeremony(ctx context.Context, owner, kind string) (*backend.WebAuthnCeremony, error) {
	c, err := s.Store.TakeWebAuthnCeremony(ctx, owner, kind)
	if s.afterTakeCeremony != nil {
		s.afterTakeCeremony()
	}
	return c, err
}

func (s *countingStore) TOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	s.totpReads.Add(1)
	return s.Store.TOTPSecret(ctx, userID)
}

func (s *countingStore) RecoveryCodes(ctx context.Context, userID int64) ([]backend.RecoveryCode, error) {
	s.recoveryReads.Add(1)
	return s.Store.RecoveryCodes(ctx, userID)
}

func (s *countingStore) PasswordHash(ctx context.Context, userID int64) (string, error) {
	s.hashReads.Add(1)
	return s.Store.PasswordHash(ctx, userID)
}

// env is a Service over a real store (backendtest: SQLite unless GATEHOUSE_TEST_STORE says otherwise), with a fake clock and captured logs
// (backendtest), the store counting what it reads, and "admin" signed in.
type env struct {
	t      *testing.T
	h      *backendtest.Env
	svc    *backend.Service
	db     backend.Store // the store as opened, without the counting
	store  *countingStore
	clock  *fakeclock.Clock
	logs   *backendtest.Logs
	verify atomic.Int64 // password verifications, real and dummy (PasswordPolicy.OnVerify)
	key    []byte

	admin      *backend.Identity // a signed-in administrator, "admin"
	adminToken string            // admin's session
	cfg        backend.Config    // what the Service was built from
}

// newEnv starts a Service. edit, if given, changes the configuration first.
func newEnv(t *testing.T, edit ...func(*backend.Config)) *env {
	t.Helper()
	return newEnvWith(t, nil, edit...)
}

// newEnvWith is newEnv with more of backendtest's options (SMS).
func newEnvWith(t *testing.T, opts []backendtest.Option, edit ...func(*backend.Config)) *env {
	t.Helper()
	e := &env{t: t}
	opts = append(opts, backendtest.WithConfig(func(c *backend.Config) {
		e.store = &countingStore{Store: c.Store}
		c.Store = e.store
	}))
	for _, f := range edit {
		opts = append(opts, backendtest.WithConfig(f))
	}
	opts = append(opts, backendtest.WithConfig(func(c *backend.Config) {
		onVerify := c.Passwords.OnVerify
		c.Passwords.OnVerify = func() {
			e.verify.Add(1)
			if onVerify != nil {
				onVerify()
			}
		}
	}))
	// The administrator's password is confirmed, as their two-factor and password changes to
	// users need (TestAdminConfirmsPassword tests that); a test that moves the clock on past
	// ReauthWindow confirms again.
	opts = append(opts, backendtest.WithAdmin("admin", adminPassword))
	h := backendtest.New(t, opts...)
	e.h, e.svc, e.db, e.clock, e.logs, e.key, e.cfg = h, h.Service, h.Store, h.Clock, h.Logs, h.Key, h.Config
	e.admin, e.adminToken = h.Admin, h.AdminToken
	return e
}

// restarted returns a new Service over a new store on the same database file, configured as
// e.svc is: what a restarted process, or a second one on the same data directory, sees.
func (e *env) restarted() *backend.Service {
	e.t.Helper()
	return e.h.Reopen()
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
	return backendtest.CreateUser(e.t, e.svc, e.admin, nu)
}

// login runs the password step and fails the test unless it reaches want.
func (e *env) login(username, password string, want backend.LoginStep) *backend.LoginState {
	e.t.Helper()
	return backendtest.Login(e.t, e.svc, username, password, want)
}

// signIn logs in a user without a second factor and returns the session's identity.
func (e *env) signIn(username, password string) *backend.Identity {
	e.t.Helper()
	return backendtest.SignIn(e.t, e.svc, username, password)
}

// identity authenticates a session token.
func (e *env) identity(sessionToken string) *backend.Identity {
	e.t.Helper()
	return backendtest.Authenticate(e.t, e.svc, sessionToken)
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
	app := backendtest.EnrollApp(e.t, e.svc, id, password, e.clock.Now())
	return &appEnrollment{secret: app.Secret, codes: app.RecoveryCodes, login: app.Login}
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
	return backendtest.DecodeKey(t, key)
}

// totpCode is what an authenticator app shows at the time.
func totpCode(t *testing.T, secret []byte, at time.Time) string {
	t.Helper()
	return backendtest.TOTP(t, backendtest.EncodeKey(secret), at)
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
