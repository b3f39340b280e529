package sso

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"gatehouse/backend"
)

// The provider's paths: the discovery document at the issuer's root (OpenID Connect Discovery
// §4), everything else under /oidc/.
const (
	DiscoveryPath   = "/.well-known/openid-configuration"
	Prefix          = "/oidc/"
	AuthorizePath   = "/oidc/authorize"
	CallbackPath    = "/oidc/authorize/callback"
	TokenPath       = "/oidc/token"
	UserinfoPath    = "/oidc/userinfo"
	KeysPath        = "/oidc/keys"
	EndSessionPath  = "/oidc/end_session"
	RevokePath      = "/oidc/revoke"
	IntrospectPath  = "/oidc/introspect" // RFC 7662, for an application's resource servers
	LoginPath       = "/oidc/login"      // the hand-off to a Gatehouse login (the web server's)
	LogoutPath      = "/oidc/logout"     // RP-initiated logout's confirmation page (the web server's)
	loginIDParam    = "authRequestID"
	callbackIDParam = "id"
)

// Provider is the OpenID Provider: an http.Handler for the library's endpoints.
type Provider struct {
	op     *op.Provider
	st     *storage
	svc    *backend.Service
	issuer string
	log    *slog.Logger
}

// Config configures a Provider.
type Config struct {
	Service *backend.Service
	Issuer  string // the server's public URL, e.g. https://gatehouse.example.com (no trailing /)
	Logger  *slog.Logger
	Now     func() time.Time // the key cache's clock; time.Now if nil
}

// New builds the provider. The issuer must be https, or http on loopback (tests, trying it
// out): the library refuses other http issuers.
func New(cfg Config) (*Provider, error) {
	issuer := strings.TrimRight(cfg.Issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("sso: the issuer %q is not an absolute http(s) URL", cfg.Issuer)
	}
	var opts []op.Option
	if u.Scheme == "http" {
		if !loopback(u.Hostname()) {
			return nil, fmt.Errorf("sso: the issuer %q must use https (http only on localhost)", cfg.Issuer)
		}
		opts = append(opts, op.WithAllowInsecure())
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger != nil {
		opts = append(opts, op.WithLogger(cfg.Logger))
	}
	st := &storage{svc: cfg.Service, loginURL: issuer + LoginPath, now: cfg.Now}
	opConfig := &op.Config{
		CryptoKey:                cfg.Service.OIDCCryptoKey(),
		DefaultLogoutRedirectURI: LogoutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		// Every server with a provider sends back-channel logout tokens, with sid, while it
		// serves (StartLogoutDelivery, run by web.Run; logout.go).
		BackChannelLogoutSupported:        true,
		BackChannelLogoutSessionSupported: true,
		SupportedUILocales:                []language.Tag{language.English},
		SupportedScopes:                   []string{"openid", "profile", "email", "offline_access"},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "amr", "sid", "azp",
			"preferred_username", "name", "email", "email_verified"},
	}
	opts = append(opts, op.WithCustomEndpoints(op.NewEndpoint(AuthorizePath), op.NewEndpoint(TokenPath),
		op.NewEndpoint(UserinfoPath), op.NewEndpoint(RevokePath), op.NewEndpoint(EndSessionPath), op.NewEndpoint(KeysPath)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(IntrospectPath)))
	p, err := op.NewProvider(opConfig, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("sso: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{op: p, st: st, svc: cfg.Service, issuer: issuer, log: log}, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ServeHTTP serves the library's endpoints. The library's userinfo endpoint also takes the
// access token from the URL's query (RFC 6750 §2.3), where it ends up in the logs of every
// proxy on the way and in browser history; Gatehouse refuses that, and takes it only from
// the Authorization header or a POST body (RFC 6750 §2.1, §2.2; RFC 9700 §4.3.2).
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == UserinfoPath {
		if r.URL.Query().Has("access_token") {
			op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription(
				"The access token is not accepted in the URL: send it in the Authorization header (Bearer) or in a POST body."), nil)
			return
		}
		w = &userinfoWriter{ResponseWriter: w}
	}
	p.op.ServeHTTP(w, r)
}

// userinfoWriter answers 401 where the library's userinfo endpoint answers 403. The library
// gives 403 for every error of Storage.SetUserinfoFromToken, and ours are all an access token
// that no longer works: expired, revoked, its session ended, its user disabled (TokenUser).
// RFC 6750 §3.1 makes that invalid_token, 401, which is what tells an application to sign the
// person in again rather than that they lack a permission.
type userinfoWriter struct{ http.ResponseWriter }

func (w *userinfoWriter) WriteHeader(code int) {
	if code == http.StatusForbidden {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		code = http.StatusUnauthorized
	}
	w.ResponseWriter.WriteHeader(code)
}

// CallbackURL is where the browser goes once the request is complete: the library's callback,
// which mints the code and redirects to the app.
func (p *Provider) CallbackURL(ctx context.Context, reqID string) string {
	return op.AuthCallbackURL(p.op)(ctx, reqID)
}

// AuthorizeError sends the browser back to the application of ar with an error (one of
// backend's SSOLoginRequired, SSOInteractionRequired, SSOAccessDenied) at its redirect URI,
// with its state, in its response mode: the answer to a prompt=none request that would need
// the person (OpenID Connect Core §3.1.2.6).
func (p *Provider) AuthorizeError(w http.ResponseWriter, r *http.Request, ar *backend.AuthRequest, code, description string) {
	var e *oidc.Error
	switch code {
	case backend.SSOLoginRequired:
		e = oidc.ErrLoginRequired()
	case backend.SSOInteractionRequired:
		e = oidc.ErrInteractionRequired()
	default:
		e = oidc.ErrAccessDenied()
	}
	op.AuthRequestError(w, r, &authRequest{ar}, e.WithDescription("%s", description), p.op)
}

// ForgetKeys drops this server's cached signing keys (after a rotation it made).
func (p *Provider) ForgetKeys() { p.st.forget() }

// LoginRequestID is the request a hand-off URL (LoginPath) names.
func LoginRequestID(r *http.Request) string { return r.URL.Query().Get(loginIDParam) }

// CallbackRequestID is the request a callback URL (CallbackPath) names.
func CallbackRequestID(r *http.Request) string { return r.URL.Query().Get(callbackIDParam) }

// LoginURL is the hand-off page for a request.
func LoginURL(reqID string) string {
	return LoginPath + "?" + loginIDParam + "=" + url.QueryEscape(reqID)
}

// LogoutConfirmURL is the logout confirmation page for an app's RP-initiated logout: the app's
// client ID and where it asked to go afterwards ("" for none).
func LogoutConfirmURL(clientID, redirect string) string {
	q := url.Values{}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	if redirect != "" && redirect != LogoutPath {
		q.Set("post_logout_redirect_uri", redirect)
	}
	if len(q) == 0 {
		return LogoutPath
	}
	return LogoutPath + "?" + q.Encode()
}
