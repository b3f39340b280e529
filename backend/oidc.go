package backend

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Gatehouse as an OpenID Connect provider (issue 13, part 2): the rules. The protocol itself
// (discovery, JWKS, the token endpoint's grammar, signing) is zitadel/oidc's `op`, adapted in
// backend/sso; every decision it asks of its storage is one of the Service methods below, and
// every state it needs is in the store: a server restarted between the authorize request and
// the token request, or another server on the same store, carries on.

// The lifetimes of what the provider issues.
const (
	AuthRequestTTL   = 10 * time.Minute           // an authorization request, from /oidc/authorize to the code's exchange
	AuthCodeTTL      = time.Minute                // the code, once issued (the request's row keeps its expiry, capped)
	AccessTokenTTL   = 5 * time.Minute            // opaque access tokens: short, so that an ended session ends them soon
	IDTokenTTL       = 5 * time.Minute            // ID tokens
	SigningKeyKeep   = IDTokenTTL + 5*time.Minute // a retired key stays published this long
	maxAuthParam     = 512                        // bytes of state, nonce, scope, response_type or response_mode (F1 of the review: an unauthenticated request's row stays small)
	subjectPrefix    = ""                         // sub is the user's ID as a decimal string (stable across renames)
	signingKeyBits   = 2048
	SigningAlgorithm = "RS256" // the one algorithm every relying party must support (OpenID Connect Core §15.1)
)

// The amr values (RFC 8176) a session's login records. "recovery" (a recovery code) is not in
// RFC 8176, which allows values agreed between the parties (§2); the README lists it.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRSMS      = "sms"
	AMRRecovery = "recovery"
	AMRMFA      = "mfa"
	// AMRKey is a security key or passkey (WebAuthn): RFC 8176's "hwk", proof of possession
	// of a key in hardware, as the WebAuthn specification's own amr guidance uses it.
	AMRKey = "hwk"
)

// amrFor is how a login proved who it was: the password, and the second factor if one was
// given (method; recovery for a recovery code).
func amrFor(method Method, recovery bool) []string {
	switch {
	case recovery:
		return []string{AMRPassword, AMRRecovery, AMRMFA}
	case method == MethodApp:
		return []string{AMRPassword, AMROTP, AMRMFA}
	case method == MethodSMS:
		return []string{AMRPassword, AMRSMS, AMRMFA}
	case method == MethodWebAuthn:
		return []string{AMRPassword, AMRKey, AMRMFA}
	}
	return []string{AMRPassword}
}

// hasMFA reports whether amr says a second factor was given.
func hasMFA(amr []string) bool { return slices.Contains(amr, AMRMFA) }

// AuthRequest is one OpenID Connect authorization request, from /oidc/authorize until its code
// is exchanged (or it expires). The store keeps only the hash of the code.
type AuthRequest struct {
	ID            string // random, 128 bits, hex: it travels in URLs
	AppID         int64
	ClientID      string
	RedirectURI   string // exactly one of the app's
	State         string
	Nonce         string
	Scopes        []string
	ResponseType  string
	ResponseMode  string
	CodeChallenge string // S256 (the only method accepted); "" for none (confidential apps only)
	// Prompt holds the prompt values Gatehouse acts on (PromptLogin, PromptNone); MaxAge is
	// max_age (OpenID Connect Core §3.1.2.1), negative for none: prompt=login is max_age 0.
	Prompt []string
	MaxAge time.Duration
	// FamilyID is the token family the code was exchanged for: a code presented again
	// revokes it (RFC 6749 §4.1.2).
	FamilyID string

	// Once it is complete (AuthorizeApp): the session it was completed for (its token hash),
	// the only one its code is issued to, who signed in and how the login was proven. While
	// it waits for a login, the login holds it (LoginResume), not the other way round.
	OwnerHash  string
	UserID     int64
	SID        string
	AMR        []string
	AuthTime   time.Time
	Done       bool
	CodeIssued bool
	CodeUsed   bool

	CreatedAt time.Time
	ExpiresAt time.Time
}

// Subject is the request's sub claim: the user's ID.
func (r *AuthRequest) Subject() string {
	if r.UserID == 0 {
		return ""
	}
	return Subject(r.UserID)
}

// Subject is a user's sub claim: the user's ID as a decimal string. Usernames can be changed by
// an administrator; the ID never changes and is never reused, so it is the stable subject
// OpenID Connect Core §2 asks for.
func Subject(userID int64) string { return subjectPrefix + strconv.FormatInt(userID, 10) }

// The kinds of tokens the store keeps (their hashes).
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// OIDCToken is an access or refresh token issued to an app, bound to the session that signed
// in: it stops working when that session ends. The store keeps only its hash.
type OIDCToken struct {
	Hash        string // hex SHA-256 of the token (access tokens: of their ID)
	Kind        string // TokenAccess or TokenRefresh
	FamilyID    string // every token descended from one code shares it (a replay revokes them all)
	AppID       int64
	ClientID    string
	UserID      int64
	SessionHash string
	SID         string
	Scopes      []string
	AMR         []string
	AuthTime    time.Time
	UsedAt      time.Time // refresh tokens: when rotated (zero: unused)
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Subject is the token's sub claim.
func (t *OIDCToken) Subject() string { return Subject(t.UserID) }

// SigningKey is one of the provider's RS256 keys. The private key is sealed with the server
// key; the public one is published in the JWKS while the key is current, and for
// SigningKeyKeep after it was retired (what an ID token signed just before needs).
type SigningKey struct {
	KID       string
	Alg       string
	Sealed    []byte // PKCS #8 private key, sealed (AD "oidc-key:"+KID)
	Public    []byte // PKIX public key (DER)
	CreatedAt time.Time
	RetiredAt time.Time // zero: the current key
}

// ActiveKey is a signing key ready to use.
type ActiveKey struct {
	KID     string
	Private *rsa.PrivateKey
}

// PublicKey is a key of the JWKS.
type PublicKey struct {
	KID string
	Key *rsa.PublicKey
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// OIDCCryptoKey is the key the provider library encrypts its opaque access tokens and codes
// with: derived from the server key (HKDF-SHA256), so every server on the store has the same one
// and none of them stores it.
func (s *Service) OIDCCryptoKey() [32]byte {
	var k [32]byte
	b, err := hkdf.Key(sha256.New, s.secretKey, nil, "gatehouse oidc op", 32)
	if err != nil {
		panic(err) // only for a length HKDF cannot give; 32 it can
	}
	copy(k[:], b)
	return k
}

// AuthRequestInput is what /oidc/authorize was asked.
type AuthRequestInput struct {
	ClientID, RedirectURI, State, Nonce, ResponseType, ResponseMode string
	Scopes                                                          []string
	CodeChallenge, CodeChallengeMethod                              string
	Prompt                                                          []string
	MaxAge                                                          *uint // nil: none
}

// The prompt values Gatehouse acts on (OpenID Connect Core §3.1.2.1). consent and
// select_account need nothing: first-party applications have no consent screen, and the
// login form is where another account is chosen.
const (
	PromptNone  = "none"
	PromptLogin = "login"
)

// MaxPendingAuthRequests is how many authorization requests of one application may wait,
// unexpired and not complete (those a login under way resumes among them):
// /oidc/authorize stores one for anyone who asks, signed in or not, so without a bound a
// stranger could fill the store at the network's speed. Per application rather than overall,
// so that a flood aimed at one client ID (every app's login link shows its own) refuses new
// sign-ins to that application alone while it lasts; the total stays under this many times
// the number of applications, which administrators decide. With state and nonce at most
// maxAuthParam bytes a row is under 2 KB: a few MB per application at worst. A company's
// people starting sign-ins to one app within AuthRequestTTL stay far below it.
const MaxPendingAuthRequests = 2000

// errTooManyPending is the refusal when an application has MaxPendingAuthRequests waiting.
var errTooManyPending = Errorf(ETOOMANY, "Too many sign-ins to this application are waiting to be finished. Try again in a few minutes.")

// s256Challenge is the form of an S256 code_challenge: BASE64URL(SHA256(verifier)) without
// padding, always 43 characters (RFC 7636 §4.2).
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// maxAgeLimit caps a max_age: a longer one than a session can live asks nothing more.
const maxAgeLimit = 400 * 24 * time.Hour

// errNoSuchClient is the answer for a client_id that names no application.
var errNoSuchClient = Errorf(EINVALID, "There is no application with this client ID.")

// ClientApp returns the application with the client ID; EINVALID if there is none.
func (s *Service) ClientApp(ctx context.Context, clientID string) (*App, error) {
	if clientID == "" || len(clientID) > 100 {
		return nil, errNoSuchClient
	}
	a, err := s.store.FindAppByClientID(ctx, clientID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errNoSuchClient
	}
	return a, internal("find application", err)
}

// BeginAuthorization stores an authorization request once it passes Gatehouse's rules: the
// app exists, the redirect URI is exactly one of its own (RFC 9700 §4.1.3: no patterns, no
// trailing-slash leniency), PKCE is S256 only (RFC 9700 §2.1.1: "plain" offers no protection
// against a code seen in transit) and required of public apps, and no parameter is larger than
// maxAuthParam (the code_challenge exactly the S256 form). EINVALID, storing nothing,
// otherwise. Nobody has to be signed in to ask, so the application's requests that wait for a
// login are bounded (MaxPendingAuthRequests): ETOOMANY, storing nothing, beyond it.
func (s *Service) BeginAuthorization(ctx context.Context, in AuthRequestInput) (*AuthRequest, error) {
	a, err := s.ClientApp(ctx, in.ClientID)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(a.RedirectURIs, in.RedirectURI) {
		return nil, Errorf(EINVALID, "The redirect_uri is not one of the application's redirect URIs.")
	}
	for _, p := range []struct{ name, v string }{{"state", in.State}, {"nonce", in.Nonce}, {"scope", strings.Join(in.Scopes, " ")},
		{"response_mode", in.ResponseMode}, {"response_type", in.ResponseType}} {
		if len(p.v) > maxAuthParam {
			return nil, Errorf(EINVALID, "The %s parameter is too long: at most %d bytes.", p.name, maxAuthParam)
		}
		if !storableText(p.v) {
			return nil, Errorf(EINVALID, "The %s parameter is not valid text.", p.name)
		}
	}
	if in.CodeChallenge != "" && !s256Challenge.MatchString(in.CodeChallenge) {
		return nil, Errorf(EINVALID, "The code_challenge must be the S256 form: 43 characters of base64url (RFC 7636 §4.2).")
	}
	switch {
	case in.CodeChallenge == "" && a.Public:
		return nil, Errorf(EINVALID, "A public application must use PKCE: send a code_challenge with code_challenge_method S256.")
	case in.CodeChallenge != "" && in.CodeChallengeMethod != "S256":
		return nil, Errorf(EINVALID, "The code_challenge_method must be S256: plain is not accepted.")
	case in.CodeChallenge == "" && in.CodeChallengeMethod != "":
		return nil, Errorf(EINVALID, "A code_challenge_method was sent without a code_challenge.")
	}
	if !slices.Contains(in.Scopes, "openid") {
		return nil, Errorf(EINVALID, "The scope must include openid.")
	}
	now := s.now()
	r := &AuthRequest{
		ID: randomHex(16), AppID: a.ID, ClientID: a.ClientID, RedirectURI: in.RedirectURI, State: in.State, Nonce: in.Nonce,
		Scopes: in.Scopes, ResponseType: in.ResponseType, ResponseMode: in.ResponseMode, CodeChallenge: in.CodeChallenge,
		MaxAge: -1, ExpiresAt: now.Add(AuthRequestTTL),
	}
	for _, p := range in.Prompt {
		if (p == PromptNone || p == PromptLogin) && !slices.Contains(r.Prompt, p) {
			r.Prompt = append(r.Prompt, p)
		}
	}
	if slices.Contains(r.Prompt, PromptNone) && len(in.Prompt) > 1 {
		return nil, Errorf(EINVALID, "The prompt value none cannot be combined with others.")
	}
	if in.MaxAge != nil {
		r.MaxAge = time.Duration(min(*in.MaxAge, uint(maxAgeLimit/time.Second))) * time.Second
	}
	if slices.Contains(r.Prompt, PromptLogin) {
		r.MaxAge = 0
	}
	err = s.store.CreateAuthRequest(ctx, r, MaxPendingAuthRequests)
	if ErrorCode(err) == ETOOMANY {
		s.log.Warn("authorization requests waiting for a login at their bound", "app", a.Name, "max", MaxPendingAuthRequests)
		return nil, errTooManyPending
	} else if err != nil {
		return nil, internal("create auth request", err)
	}
	return r, nil
}

// needsFreshLogin reports whether r asks for a login newer than sess's (prompt=login, or a
// max_age its login is older than): the person logs in again, as for a step-up. A session
// that began after the request did is the login it asked for, however quick.
func (s *Service) needsFreshLogin(r *AuthRequest, sess *Session) bool {
	if r.MaxAge < 0 || !sess.CreatedAt.Before(r.CreatedAt) {
		return false
	}
	return s.now().Sub(sess.CreatedAt) > r.MaxAge || r.MaxAge == 0
}

// storableText reports whether s is valid UTF-8 without NUL or other control characters but
// tab: what both stores keep as text, and what a protocol parameter can be.
func storableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// errAuthRequestGone is the answer for an authorization request that expired, was used, or
// never was.
var errAuthRequestGone = Errorf(EINVALID, "This sign-in has expired or was already used. Go back to the application and sign in again.")

// AuthRequest returns the authorization request while it has not expired.
func (s *Service) AuthRequest(ctx context.Context, id string) (*AuthRequest, error) {
	if id == "" || len(id) > 64 {
		return nil, errAuthRequestGone
	}
	r, err := s.store.FindAuthRequest(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errAuthRequestGone
	} else if err != nil {
		return nil, internal("find auth request", err)
	}
	if !s.now().Before(r.ExpiresAt) {
		return nil, errAuthRequestGone
	}
	return r, nil
}

// AuthRequestByCode returns the request whose code this is, while the code is unused and
// unexpired. It only reads: the provider library calls it before it authenticates the client,
// so using the code up here would let anyone who saw a code burn it without the secret. The
// code is used up by ExchangeCode, in the transaction that stores the tokens.
func (s *Service) AuthRequestByCode(ctx context.Context, code string) (*AuthRequest, error) {
	if code == "" || len(code) > 4096 {
		return nil, errAuthRequestGone
	}
	r, err := s.store.FindAuthRequestByCode(ctx, hashToken(code))
	if ErrorCode(err) == ENOTFOUND {
		return nil, errAuthRequestGone
	} else if err != nil {
		return nil, internal("find auth request", err)
	}
	if r.CodeUsed {
		s.codeReplayed(ctx, r)
		return nil, errAuthRequestGone
	}
	if !s.now().Before(r.ExpiresAt) {
		return nil, errAuthRequestGone
	}
	return r, nil
}

// codeReplayed revokes the tokens issued for a code that was presented again, and audits it:
// the code was seen by someone else, or the app is broken, and either way the tokens it gave
// may be in the wrong hands (RFC 6749 §4.1.2: "SHOULD revoke … all tokens previously issued
// based on that authorization code"; RFC 9700 §4.2.4).
func (s *Service) codeReplayed(ctx context.Context, r *AuthRequest) {
	var n int64
	if r.FamilyID != "" {
		var err error
		if n, err = s.store.RevokeOIDCFamily(ctx, r.FamilyID); err != nil {
			s.log.Error("revoke token family", "err", err)
		}
	}
	s.codeReplayAudit(ctx, r, fmt.Sprintf("a used authorization code was presented again: %d tokens issued for it revoked", n))
}

// codeReplayAudit records a replayed code of r.
func (s *Service) codeReplayAudit(ctx context.Context, r *AuthRequest, detail string) {
	s.auditSSO(ctx, AuditSSOCodeReplayed, &User{ID: r.UserID, Username: s.username(ctx, r.UserID)}, s.appName(ctx, r.ClientID), detail)
}

// SaveAuthCode stores the hash of the code the library minted for a complete request, once.
func (s *Service) SaveAuthCode(ctx context.Context, id, code string) error {
	ok, err := s.store.SetAuthCode(ctx, id, hashToken(code))
	if err != nil {
		return internal("save auth code", err)
	} else if !ok {
		return errAuthRequestGone
	}
	return nil
}

// IssuedTokens is what a token request gets: the access token's ID (the library encrypts it
// with OIDCCryptoKey into the opaque token the app holds) and, if asked for, a refresh token.
type IssuedTokens struct {
	AccessID  string
	Refresh   string
	ExpiresAt time.Time
}

// newTokenSet draws an access token (and a refresh token) for the session behind src.
func (s *Service) newTokenSet(src OIDCToken, family string, refresh bool, sessionEnd time.Time) (*IssuedTokens, []*OIDCToken) {
	now := s.now()
	out := &IssuedTokens{AccessID: randomHex(32), ExpiresAt: now.Add(AccessTokenTTL)}
	access := src
	access.Hash, access.Kind, access.FamilyID, access.UsedAt, access.ExpiresAt = hashToken(out.AccessID), TokenAccess, family, time.Time{}, out.ExpiresAt
	rows := []*OIDCToken{&access}
	if refresh {
		tok, hash := newToken()
		out.Refresh = tok
		rt := src
		rt.Hash, rt.Kind, rt.FamilyID, rt.UsedAt, rt.ExpiresAt = hash, TokenRefresh, family, time.Time{}, sessionEnd
		rows = append(rows, &rt)
	}
	return out, rows
}

// ExchangeCode issues the tokens of a complete request's code, using the code up: the code's
// conditional UPDATE and the tokens' INSERT are one transaction (Store.ExchangeCode), so of
// any number of concurrent exchanges of one code exactly one gets tokens. The provider
// libraries read a code, mint tokens and delete the code only then, which lets two requests
// that read it at once both succeed; the decision is here instead. The session that signed in
// must still be live.
//
// The application's rules are checked again as they are now (appStillAllows): an app made
// administrators-only or Require Two-Factor, or a user demoted, between the login and the
// exchange gets no tokens. A code that loses to an earlier exchange was used twice: the
// store revokes the winner's tokens (RFC 6749 §4.1.2), and the replay is audited.
func (s *Service) ExchangeCode(ctx context.Context, r *AuthRequest, refresh bool) (*IssuedTokens, error) {
	sess, u, err := s.liveSession(ctx, r.OwnerHash)
	if err != nil {
		return nil, err
	}
	src := OIDCToken{AppID: r.AppID, ClientID: r.ClientID, UserID: r.UserID, SessionHash: r.OwnerHash, SID: r.SID,
		Scopes: r.Scopes, AMR: r.AMR, AuthTime: r.AuthTime}
	if u.ID != r.UserID {
		return nil, errTokenEnded
	}
	if err := s.appStillAllows(ctx, &src, u); err != nil {
		return nil, err
	}
	out, rows := s.newTokenSet(src, randomHex(16), refresh, sess.CreatedAt.Add(s.absoluteTimeout))
	// The exchange and the note that this session signed in to the app (whom its end must
	// tell: backend/logout_delivery.go) are one transaction; a replay's revocation of the
	// code's tokens commits too.
	var ok, replayed bool
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		var err error
		ok, replayed, err = s.store.ExchangeCode(ctx, r.ID, rows)
		if err != nil {
			return internal("exchange code", err)
		} else if !ok {
			return nil
		}
		return s.recordSessionApp(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	if replayed {
		s.codeReplayAudit(ctx, r, "the code was exchanged twice at once: the tokens issued for it were revoked")
	}
	if !ok {
		return nil, errAuthRequestGone
	}
	return out, nil
}

// errTokenEnded is the answer for a token that is unknown, expired, used, revoked, or whose
// session has ended.
var errTokenEnded = Errorf(EUNAUTHORIZED, "The token has expired or was revoked.")

// liveSession returns the session with the token hash and its user while the session is
// live: not ended, not timed out, its user enabled. Tokens issued to apps are bound to it.
func (s *Service) liveSession(ctx context.Context, hash string) (*Session, *User, error) {
	if hash == "" {
		return nil, nil, errTokenEnded
	}
	sess, u, err := s.store.FindSession(ctx, hash)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, errTokenEnded
	} else if err != nil {
		return nil, nil, internal("find session", err)
	}
	now := s.now()
	if s.sessionOver(sess, u, sess.LastSeenAt, now) {
		return nil, nil, errTokenEnded
	}
	return sess, u, nil
}

// RefreshRequest returns the refresh token's row while it can be rotated: unused, unexpired,
// its session live. A refresh token presented again after it was rotated is a replay (it was
// stolen, or the app is broken): the whole family of tokens descended from its code is
// revoked at once and the replay audited (RFC 9700 §4.14.2).
func (s *Service) RefreshRequest(ctx context.Context, token string) (*OIDCToken, error) {
	if token == "" || len(token) > 200 {
		return nil, errTokenEnded
	}
	t, err := s.store.FindOIDCToken(ctx, hashToken(token))
	if ErrorCode(err) == ENOTFOUND || (err == nil && t.Kind != TokenRefresh) {
		return nil, errTokenEnded
	} else if err != nil {
		return nil, internal("find token", err)
	}
	if !t.UsedAt.IsZero() {
		s.refreshReplayed(ctx, t)
		return nil, errTokenEnded
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, errTokenEnded
	}
	_, u, err := s.liveSession(ctx, t.SessionHash)
	if err != nil {
		return nil, err
	}
	if err := s.appStillAllows(ctx, t, u); err != nil {
		return nil, err
	}
	return t, nil
}

// appStillAllows checks a token against its application's rules as they are now, the rules
// AuthorizeApp applied when it was issued: the application is still there, the user still in
// its audience (an administrator demoted, or the app made administrators-only, keeps no
// access), and a session not proven with a second factor holds no token of an application
// that requires one now. errTokenEnded otherwise.
func (s *Service) appStillAllows(ctx context.Context, t *OIDCToken, u *User) error {
	a, err := s.store.FindAppByID(ctx, t.AppID)
	if ErrorCode(err) == ENOTFOUND {
		return errTokenEnded
	} else if err != nil {
		return internal("find application", err)
	}
	if (a.Audience == AudienceAdmins && u.Role != RoleAdmin) || (a.RequireTwoFactor && !hasMFA(t.AMR)) {
		return errTokenEnded
	}
	return nil
}

// refreshReplayed revokes the family of a replayed refresh token and audits it.
func (s *Service) refreshReplayed(ctx context.Context, t *OIDCToken) {
	n, err := s.store.RevokeOIDCFamily(ctx, t.FamilyID)
	if err != nil {
		s.log.Error("revoke token family", "err", err)
	}
	s.auditSSO(ctx, AuditSSORefreshReplayed, &User{ID: t.UserID, Username: s.username(ctx, t.UserID)}, s.appName(ctx, t.ClientID),
		fmt.Sprintf("a used refresh token was presented again: %d tokens of its family revoked", n))
}

// RotateRefresh exchanges a refresh token for a new access and refresh token: the old one's
// conditional UPDATE and the new ones' INSERT are one transaction (Store.RotateRefreshToken),
// so of concurrent rotations of one token exactly one succeeds; a rotation that loses to an
// earlier one is a replay and revokes the family. scopes are the ones asked for (a subset).
func (s *Service) RotateRefresh(ctx context.Context, old *OIDCToken, scopes []string) (*IssuedTokens, error) {
	sess, _, err := s.liveSession(ctx, old.SessionHash)
	if err != nil {
		return nil, err
	}
	// An app refreshing its tokens is the person using it: the session counts as in use.
	if err := s.store.TouchSession(ctx, old.SessionHash); err != nil {
		return nil, internal("touch session", err)
	}
	src := *old
	src.Scopes = scopes
	out, rows := s.newTokenSet(src, old.FamilyID, true, sess.CreatedAt.Add(s.absoluteTimeout))
	ok, replayed, err := s.store.RotateRefreshToken(ctx, old.Hash, rows)
	if err != nil {
		return nil, internal("rotate refresh token", err)
	}
	if replayed {
		s.auditSSO(ctx, AuditSSORefreshReplayed, &User{ID: old.UserID, Username: s.username(ctx, old.UserID)}, s.appName(ctx, old.ClientID),
			"a refresh token was used twice at once: its family was revoked")
	}
	if !ok {
		return nil, errTokenEnded
	}
	return out, nil
}

// username is the user's name for an audit event, "" if it cannot be read.
func (s *Service) username(ctx context.Context, id int64) string {
	u, err := s.store.FindUserByID(ctx, id)
	if err != nil {
		return ""
	}
	return u.Username
}

// appName is the name of the app with the client ID, for an audit event; the client ID if it
// is gone.
func (s *Service) appName(ctx context.Context, clientID string) string {
	a, err := s.store.FindAppByClientID(ctx, clientID)
	if err != nil {
		return clientID
	}
	return a.Name
}

// TokenUser returns the user of a live access token (its ID, as the library decrypted it) for
// the userinfo endpoint: the token unexpired, its session live.
func (s *Service) TokenUser(ctx context.Context, accessID string) (*OIDCToken, *User, error) {
	if accessID == "" || len(accessID) > 200 {
		return nil, nil, errTokenEnded
	}
	t, err := s.store.FindOIDCToken(ctx, hashToken(accessID))
	if ErrorCode(err) == ENOTFOUND || (err == nil && t.Kind != TokenAccess) {
		return nil, nil, errTokenEnded
	} else if err != nil {
		return nil, nil, internal("find token", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, nil, errTokenEnded
	}
	_, u, err := s.liveSession(ctx, t.SessionHash)
	if err != nil {
		return nil, nil, err
	}
	if err := s.appStillAllows(ctx, t, u); err != nil {
		return nil, nil, err
	}
	return t, u, nil
}

// IntrospectToken is token introspection (RFC 7662) for the application clientID, which has
// authenticated: the access token (its ID) is active only while TokenUser would answer for it
// (unexpired, not revoked, its session live, the application's rules still met) and only for
// the application it was issued to. RFC 7662 §2.2 lets the server answer inactive for a token
// the caller may not learn about; another application's token is that, or any client could
// read the sessions behind tokens it collected. errTokenEnded otherwise.
func (s *Service) IntrospectToken(ctx context.Context, accessID, clientID string) (*OIDCToken, *User, error) {
	t, u, err := s.TokenUser(ctx, accessID)
	if err != nil {
		return nil, nil, err
	}
	if clientID == "" || t.ClientID != clientID {
		return nil, nil, errTokenEnded
	}
	return t, u, nil
}

// SubjectUser returns the user whose sub claim this is; EUNAUTHORIZED if there is none or
// they are disabled.
func (s *Service) SubjectUser(ctx context.Context, sub string) (*User, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(sub, subjectPrefix), 10, 64)
	if err != nil || id <= 0 {
		return nil, errTokenEnded
	}
	u, err := s.store.FindUserByID(ctx, id)
	if ErrorCode(err) == ENOTFOUND || (err == nil && u.Disabled) {
		return nil, errTokenEnded
	}
	return u, internal("find user", err)
}

// RevokeToken revokes a token an app holds (RFC 7009), with every token of its family: a
// refresh token, or an access token by its ID. Only the app it was issued to may revoke it; an
// unknown token is no error (RFC 7009 §2.2).
func (s *Service) RevokeToken(ctx context.Context, tokenOrID, clientID string) error {
	if tokenOrID == "" || len(tokenOrID) > 200 {
		return nil
	}
	t, err := s.store.FindOIDCToken(ctx, hashToken(tokenOrID))
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return internal("find token", err)
	}
	if t.ClientID != clientID {
		return Errorf(EFORBIDDEN, "The token was not issued to this application.")
	}
	_, err = s.store.RevokeOIDCFamily(ctx, t.FamilyID)
	return internal("revoke token", err)
}

// SigningKey returns the current signing key, creating the first one if there is none: in a
// transaction that stores it only if there is still none, so servers starting at once on one
// store end up with the same key.
func (s *Service) SigningKey(ctx context.Context) (*ActiveKey, error) {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, internal("signing keys", err)
	}
	if len(keys) == 0 || !keys[0].RetiredAt.IsZero() {
		k, err := s.newSigningKey()
		if err != nil {
			return nil, err
		}
		if _, err := s.store.PutSigningKey(ctx, k, true); err != nil {
			return nil, internal("put signing key", err)
		}
		if keys, err = s.store.SigningKeys(ctx); err != nil {
			return nil, internal("signing keys", err)
		}
	}
	return s.openKey(keys[0])
}

func (s *Service) newSigningKey() (*SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	kid := randomHex(8)
	return &SigningKey{KID: kid, Alg: SigningAlgorithm, Sealed: s.sealer.seal([]byte("oidc-key:"+kid), der), Public: pub}, nil
}

func (s *Service) openKey(k *SigningKey) (*ActiveKey, error) {
	der, err := s.sealer.open([]byte("oidc-key:"+k.KID), k.Sealed)
	if err != nil {
		return nil, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse signing key: %w", err)
	}
	rk, ok := priv.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not RSA", k.KID)
	}
	return &ActiveKey{KID: k.KID, Private: rk}, nil
}

// PublishedKeys are the keys of the JWKS: the current one, and those retired less than
// SigningKeyKeep ago, long enough for every ID token they signed to expire.
func (s *Service) PublishedKeys(ctx context.Context) ([]PublicKey, error) {
	keys, err := s.store.SigningKeys(ctx)
	if err != nil {
		return nil, internal("signing keys", err)
	}
	now := s.now()
	var out []PublicKey
	for _, k := range keys {
		if !k.RetiredAt.IsZero() && now.Sub(k.RetiredAt) >= SigningKeyKeep {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(k.Public)
		if err != nil {
			return nil, fmt.Errorf("parse public key %s: %w", k.KID, err)
		}
		if rk, ok := pub.(*rsa.PublicKey); ok {
			out = append(out, PublicKey{KID: k.KID, Key: rk})
		}
	}
	return out, nil
}

// RotateSigningKey makes a new signing key current; the old one stays published until the ID
// tokens it signed have expired (SigningKeyKeep), then PurgeExpired drops it. Administrators
// (the command line) only; audited. It returns the new key's ID.
func (s *Service) RotateSigningKey(ctx context.Context, id *Identity) (string, error) {
	if err := id.requireAdmin(); err != nil {
		return "", err
	}
	k, err := s.newSigningKey()
	if err != nil {
		return "", err
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.store.PutSigningKey(ctx, k, false); err != nil {
			return internal("put signing key", err)
		}
		return s.audit(ctx, AuditSigningKeyRotated, id.actor(), nil, "new key "+k.KID+"; the old one stays published for "+SigningKeyKeep.String())
	})
	if err != nil {
		return "", err
	}
	return k.KID, nil
}

// purgeOIDC removes what the provider no longer needs (PurgeExpired).
func (s *Service) purgeOIDC(ctx context.Context, now time.Time) error {
	return internal("purge oidc", s.store.DeleteExpiredOIDC(ctx, now, now.Add(-SigningKeyKeep)))
}
