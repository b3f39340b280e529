// Package sso adapts zitadel/oidc's OpenID Provider (`op`) to backend.Service: its Storage is
// the Service's methods and nothing else (no SQL, no state in memory but a 30-second cache of
// the signing keys), so every rule stays in backend and every server on one store serves the
// same provider.
package sso

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/backend"
)

// storage implements op.Storage on the Service.
type storage struct {
	svc      *backend.Service
	loginURL string // the hand-off page, e.g. https://gatehouse.example.com/oidc/login
	now      func() time.Time

	mu      sync.Mutex
	keysAt  time.Time
	signing *backend.ActiveKey
	public  []backend.PublicKey
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

// keyCache is how long a server keeps the signing keys it read: after a rotation on another
// server it signs with the old key for this long at most, which the JWKS still publishes.
const keyCache = 30 * time.Second

// oidcError turns a Service error into the protocol's: EINVALID is invalid_request with the
// Service's sentence, an ended token or used code invalid_grant, EFORBIDDEN access_denied,
// ETOOMANY temporarily_unavailable, anything else a server error (logged by the library,
// generic to the client).
func oidcError(err error) error {
	switch backend.ErrorCode(err) {
	case backend.EINVALID:
		return oidc.ErrInvalidRequest().WithDescription("%s", backend.ErrorMessage(err))
	case backend.EUNAUTHORIZED:
		return oidc.ErrInvalidGrant().WithDescription("%s", backend.ErrorMessage(err))
	case backend.EFORBIDDEN:
		return oidc.ErrAccessDenied().WithDescription("%s", backend.ErrorMessage(err))
	case backend.ETOOMANY:
		// RFC 6749 §4.1.2.1's temporarily_unavailable, which the library has no constructor for.
		return &oidc.Error{ErrorType: "temporarily_unavailable", Description: backend.ErrorMessage(err)}
	}
	return err
}

// authRequest is a backend.AuthRequest as op sees it.
type authRequest struct{ r *backend.AuthRequest }

func (a *authRequest) GetID() string          { return a.r.ID }
func (a *authRequest) GetACR() string         { return "" }
func (a *authRequest) GetAMR() []string       { return a.r.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.r.AuthTime }
func (a *authRequest) GetClientID() string    { return a.r.ClientID }
func (a *authRequest) GetNonce() string       { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.r.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.r.Scopes }
func (a *authRequest) GetState() string       { return a.r.State }
func (a *authRequest) GetSubject() string     { return a.r.Subject() }
func (a *authRequest) Done() bool             { return a.r.Done }
func (a *authRequest) sid() string            { return a.r.SID }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return oidc.ResponseType(a.r.ResponseType)
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode {
	return oidc.ResponseMode(a.r.ResponseMode)
}
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: oidc.CodeChallengeMethodS256}
}

// refreshRequest is a refresh token's row as op sees it.
type refreshRequest struct {
	t      *backend.OIDCToken
	scopes []string
}

func (r *refreshRequest) GetAMR() []string            { return r.t.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.t.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.t.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.t.Subject() }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }
func (r *refreshRequest) sid() string                 { return r.t.SID }

func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	ar, err := s.svc.BeginAuthorization(ctx, backend.AuthRequestInput{
		ClientID: r.ClientID, RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce, ResponseType: string(r.ResponseType),
		ResponseMode: string(r.ResponseMode), Scopes: r.Scopes, CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod),
		Prompt: r.Prompt, MaxAge: r.MaxAge,
	})
	if err != nil {
		return nil, oidcError(err)
	}
	return &authRequest{ar}, nil
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.svc.AuthRequest(ctx, id)
	if err != nil {
		return nil, oidcError(err)
	}
	return &authRequest{r}, nil
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.svc.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("%s", backend.ErrorMessage(err))
	}
	return &authRequest{r}, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return oidcError(s.svc.SaveAuthCode(ctx, id, code))
}

// DeleteAuthRequest does nothing: the library calls it after the tokens are made, too late to
// decide anything. The code was used up in CreateAccessToken / CreateAccessAndRefreshTokens,
// and the request's row stays until it expires, so that a second use is refused as used.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	t, err := s.svc.ExchangeCode(ctx, ar.r, false)
	if err != nil {
		return "", time.Time{}, oidcError(err)
	}
	return t.AccessID, libraryExpiry(t), nil
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, _ string) (string, string, time.Time, error) {
	var t *backend.IssuedTokens
	var err error
	switch r := req.(type) {
	case *authRequest:
		t, err = s.svc.ExchangeCode(ctx, r.r, true)
	case *refreshRequest:
		t, err = s.svc.RotateRefresh(ctx, r.t, r.scopes)
	default:
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	if err != nil {
		return "", "", time.Time{}, oidcError(err)
	}
	return t.AccessID, t.Refresh, libraryExpiry(t), nil
}

// libraryExpiry is the access token's expiry on the library's clock (time.Now, which it signs
// ID tokens with and computes expires_in from): the Service's clock may be another (a test's).
func libraryExpiry(t *backend.IssuedTokens) time.Time { return time.Now().Add(backend.AccessTokenTTL) }

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.svc.RefreshRequest(ctx, token)
	if err != nil {
		return nil, op.ErrInvalidRefreshToken
	}
	return &refreshRequest{t: t, scopes: t.Scopes}, nil
}

// TerminateSession is not used: RP-initiated logout goes through TerminateSessionFromRequest.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// TerminateSessionFromRequest ends nothing: the library's end_session endpoint answers a GET,
// and Gatehouse changes no state on GET. It sends the browser to the logout confirmation page,
// whose POST ends the session.
func (s *storage) TerminateSessionFromRequest(_ context.Context, r *op.EndSessionRequest) (string, error) {
	return LogoutConfirmURL(r.ClientID, r.RedirectURI), nil
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	if err := s.svc.RevokeToken(ctx, tokenOrID, clientID); err != nil {
		if backend.ErrorCode(err) == backend.EFORBIDDEN {
			return oidc.ErrInvalidClient().WithDescription("%s", backend.ErrorMessage(err))
		}
		return oidc.ErrServerError()
	}
	return nil
}

// GetRefreshTokenInfo lets the revocation endpoint revoke a refresh token: RevokeToken then
// gets the token itself back and finds it by its hash.
func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := s.svc.RefreshRequest(ctx, token)
	if err != nil || t.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.Subject(), token, nil
}

// keys returns the signing key and the published ones, read again every keyCache.
func (s *storage) keys(ctx context.Context) (*backend.ActiveKey, []backend.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signing != nil && s.now().Sub(s.keysAt) < keyCache {
		return s.signing, s.public, nil
	}
	k, err := s.svc.SigningKey(ctx)
	if err != nil {
		return nil, nil, err
	}
	pub, err := s.svc.PublishedKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.signing, s.public, s.keysAt = k, pub, s.now()
	return k, pub, nil
}

// forget drops the cached keys (after a rotation on this server).
func (s *storage) forget() {
	s.mu.Lock()
	s.signing = nil
	s.mu.Unlock()
}

type signingKey struct{ k *backend.ActiveKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.k.Private }
func (k signingKey) ID() string                                  { return k.k.KID }

type publicKey struct{ k backend.PublicKey }

func (k publicKey) ID() string                         { return k.k.KID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k.Key }

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, _, err := s.keys(ctx)
	if err != nil {
		return nil, err
	}
	return signingKey{k}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	_, pub, err := s.keys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(pub))
	for _, k := range pub {
		out = append(out, publicKey{k})
	}
	return out, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	a, err := s.svc.ClientApp(ctx, clientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("%s", backend.ErrorMessage(err))
	}
	return &client{a: a, loginURL: s.loginURL}, nil
}

// AuthorizeClientIDSecret checks a confidential app's secret against its stored SHA-256, in
// constant time (backend.App.CheckSecret).
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	a, err := s.svc.ClientApp(ctx, clientID)
	if err != nil || !a.CheckSecret(secret) {
		return oidc.ErrInvalidClient().WithDescription("The client ID or secret is wrong.")
	}
	return nil
}

// SetUserinfoFromScopes adds nothing: the ID token's claims come from SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the user's claims, and the session's sid, in the ID token.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	u, err := s.svc.SubjectUser(ctx, req.GetSubject())
	if err != nil {
		return oidcError(err)
	}
	setClaims(ui, u, scopes)
	if r, ok := req.(interface{ sid() string }); ok && r.sid() != "" {
		// The library has IDTokenClaims.SessionID but never sets it; claims set here land in
		// the token.
		ui.AppendClaims("sid", r.sid())
	}
	return nil
}

// setClaims fills in the standard claims the scopes allow. email_verified is true: the
// address was entered by an administrator, not claimed by its owner.
func setClaims(ui *oidc.UserInfo, u *backend.User, scopes []string) {
	ui.Subject = backend.Subject(u.ID)
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.PreferredUsername = u.Username
		ui.Name = u.DisplayName
		if ui.Name == "" {
			ui.Name = u.Username
		}
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		ui.Email, ui.EmailVerified = u.Email, true
	}
}

// SetUserinfoFromToken answers the userinfo endpoint for a live access token (its session
// live too).
func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	t, u, err := s.svc.TokenUser(ctx, tokenID)
	if err != nil {
		return oidcError(err)
	}
	if t.Subject() != subject {
		return oidc.ErrInvalidGrant()
	}
	setClaims(ui, u, t.Scopes)
	return nil
}

// SetIntrospectionFromToken answers token introspection (RFC 7662) for an access token the
// library decrypted: the client has authenticated already (the library refuses one without
// client_secret_basic, 401), and the token is active only while TokenUser says it is live and
// it was issued to that client (IntrospectToken). Any error is active:false: the library then
// says nothing more. Refresh tokens are not the library's encrypted access tokens, so it never
// reaches here for one: they introspect as active:false (they are for the app's own token
// requests, not for a resource server to accept).
func (s *storage) SetIntrospectionFromToken(ctx context.Context, ir *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, u, err := s.svc.IntrospectToken(ctx, tokenID, clientID)
	if err != nil {
		return err
	}
	if t.Subject() != subject {
		return oidc.ErrInvalidGrant()
	}
	ui := new(oidc.UserInfo)
	setClaims(ui, u, t.Scopes)
	ir.SetUserInfo(ui)
	ir.Scope = t.Scopes
	ir.ClientID = t.ClientID
	ir.Audience = []string{t.ClientID}
	ir.TokenType = oidc.BearerToken
	ir.Expiration = oidc.FromTime(t.ExpiresAt)
	ir.IssuedAt = oidc.FromTime(t.CreatedAt)
	ir.AuthTime = oidc.FromTime(t.AuthTime)
	ir.AuthenticationMethodsReferences = t.AMR
	ir.Issuer = op.IssuerFromContext(ctx)
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT client authentication is not offered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not offered")
}

func (s *storage) Health(ctx context.Context) error { return s.svc.Ready(ctx) }

// client is a backend.App as op sees it.
type client struct {
	a        *backend.App
	loginURL string
}

func (c *client) GetID() string          { return c.a.ClientID }
func (c *client) RedirectURIs() []string { return c.a.RedirectURIs }

// PostLogoutRedirectURIs are the app's redirect URIs: an app may send people back to one of
// its own sign-in addresses after "Log out" (checked again by the logout page's POST).
func (c *client) PostLogoutRedirectURIs() []string    { return c.a.RedirectURIs }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.a.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic // the library takes client_secret_post too (Config.AuthMethodPost)
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string           { return c.loginURL + "?authRequestID=" + id }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return backend.IDTokenTTL }

// DevMode stays false: with it the library would accept redirect URIs loosely.
func (c *client) DevMode() bool                        { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IsScopeAllowed(string) bool           { return false }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
