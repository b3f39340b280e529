package backend

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Config configures a Service. Zero durations and policies take the defaults below.
type Config struct {
	Store     Store
	SecretKey []byte           // 32 bytes; seals TOTP secrets (AES-256-GCM). Never stored in the database.
	Now       func() time.Time // the clock; time.Now if nil
	Logger    *slog.Logger     // slog.Default() if nil
	Issuer    string           // shown in authenticator apps; "Gatehouse" if empty
	PublicURL string           // where people log in, e.g. https://gatehouse.example.com; named on recovery-code sheets if set

	IdleTimeout     time.Duration // a session unused this long ends; default 30 min
	AbsoluteTimeout time.Duration // a session ends this long after login; default 12 h
	AttemptTTL      time.Duration // a login attempt (between password and second factor) lives this long; default 10 min
	ReauthWindow    time.Duration // a confirmed password allows 2FA changes this long; default 10 min

	// AuditRetention is how long audit events are kept: PurgeExpired deletes older ones, so
	// that the log, which anyone can add to by failing to log in, cannot grow without bound.
	// Default 400 days (a year and a bit, for yearly reviews).
	AuditRetention time.Duration

	Lockout   LockoutPolicy
	Passwords PasswordPolicy
	SMS       SMSConfig // text messages; the zero value turns SMS off

	SessionCache SessionCacheConfig // the cache of checked sessions (sessioncache.go)
}

// DefaultAuditRetention is Config.AuditRetention's default.
const DefaultAuditRetention = 400 * 24 * time.Hour

// Service is the whole product's rules: login flow, enrollment, recovery, administration. Both
// front ends call it; neither decides anything it decides.
type Service struct {
	store  Store
	now    func() time.Time
	log    *slog.Logger
	issuer string
	public string // Config.PublicURL
	sealer *sealer
	// secretKey is the server key: OIDCCryptoKey derives the provider library's key from it.
	secretKey []byte

	idleTimeout     time.Duration
	absoluteTimeout time.Duration
	attemptTTL      time.Duration
	reauthWindow    time.Duration
	auditRetention  time.Duration
	lockout         LockoutPolicy
	passwords       *passwords
	sms             smsSettings
	codeKey         []byte // hashes SMS codes (newCodeKey)
	nameKey         []byte // hashes unknown usernames (newNameKey)
	sessions        *sessionCache
	domains         *domainCache // forward-auth: the application of each host (forwardauth.go)
}

// New returns a Service over cfg.Store. The database keeps the check value of the first
// server key used with it (KeyCheckValue, stored by the first New on it); New refuses another
// key with ErrWrongServerKey.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("backend: no store")
	}
	sl, err := newSealer(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	if err := checkKey(cfg.Store, cfg.SecretKey); err != nil {
		return nil, err
	}
	sms, err := newSMSSettings(cfg.SMS)
	if err != nil {
		return nil, err
	}
	cache := newSessionCache(cfg.SessionCache)
	s := &Service{
		store:           &revokingStore{Store: cfg.Store, cache: cache},
		sessions:        cache,
		domains:         newDomainCache(),
		now:             cfg.Now,
		log:             cfg.Logger,
		issuer:          cfg.Issuer,
		public:          strings.TrimRight(cfg.PublicURL, "/"),
		sealer:          sl,
		secretKey:       append([]byte(nil), cfg.SecretKey...),
		idleTimeout:     orDefault(cfg.IdleTimeout, 30*time.Minute),
		absoluteTimeout: orDefault(cfg.AbsoluteTimeout, 12*time.Hour),
		attemptTTL:      orDefault(cfg.AttemptTTL, 10*time.Minute),
		reauthWindow:    orDefault(cfg.ReauthWindow, 10*time.Minute),
		auditRetention:  orDefault(cfg.AuditRetention, DefaultAuditRetention),
		lockout:         cfg.Lockout.withDefaults(),
		passwords:       newPasswords(cfg.Passwords),
		sms:             sms,
		codeKey:         newCodeKey(cfg.SecretKey),
		nameKey:         newNameKey(cfg.SecretKey),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.issuer == "" {
		s.issuer = "Gatehouse"
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Client describes who is calling, for the audit log: the front end puts it in the context.
type Client struct {
	IP        string
	UserAgent string
}

type clientKey struct{}

// WithClient returns a context carrying c, each field cut to a small size: both are whatever
// the caller's client sent, and reach the store (sessions, login attempts, the audit log)
// before anyone has signed in.
func WithClient(ctx context.Context, c Client) context.Context {
	c.IP, c.UserAgent = clip(c.IP, maxClientIP), clip(c.UserAgent, maxUserAgent)
	return context.WithValue(ctx, clientKey{}, c)
}

// Sizes, in bytes, of what a client that has not signed in can have the store keep: no request
// can grow a table by more than a few hundred bytes a row (issue 9, F1).
const (
	maxClientIP  = 64  // an IPv6 address with a zone is at most 45 or so
	maxUserAgent = 256 // real ones are under 200
	maxAuditText = 256 // an audit event's names and detail
)

// clip returns s cut to at most n bytes, at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ClientFrom returns the Client in ctx, or the zero Client.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// newToken returns a random token of 256 bits for a client to hold, and the hash under which the
// store keeps it: a stolen database holds no usable token.
func newToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// hashToken hashes a token for storage and lookup. Tokens are 256-bit random, so an unsalted
// SHA-256 is enough: there is nothing to guess.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// internal wraps an unexpected error with context; ErrorCode reports it as EINTERNAL.
func internal(what string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
