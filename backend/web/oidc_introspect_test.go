package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gatehouse/backend"
)

// introspection is what /oidc/introspect answers (RFC 7662 §2.2).
type introspection struct {
	Active   bool     `json:"active"`
	Sub      string   `json:"sub"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Exp      int64    `json:"exp"`
	Username string   `json:"username"`
	Aud      []string `json:"aud"`
	AMR      []string `json:"amr"`
}

// introspect posts token to the introspection endpoint as an application's resource server
// does: client_secret_basic, no Origin.
func (o *oidcEnv) introspect(clientID, secret, token string) (int, introspection, string) {
	o.t.Helper()
	req, _ := http.NewRequest("POST", o.ts.URL+"/oidc/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	var ir introspection
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(b.String()), &ir); err != nil {
			o.t.Fatalf("introspection answer %q: %v", b.String(), err)
		}
	}
	return res.StatusCode, ir, b.String()
}

// TestOIDCIntrospection: RFC 7662 token introspection through the real handler tree, at the
// address discovery names: a confidential app's access token is active with who, which app,
// when it expires and its scopes, for that app only; a wrong secret or no client
// authentication is 401; an unknown, expired, revoked token or one whose session ended is
// active:false, as is a refresh token.
func TestOIDCIntrospection(t *testing.T) {
	o := newOIDCEnv(t)
	ctx := t.Context()
	alice := o.user("alice", backend.RoleUser, false)
	_, cfg := o.app("Wiki", nil)
	_, other := o.app("Chat", nil)
	_, spa := o.app("Spa", func(na *backend.NewApp) { na.Public = true })

	var disc struct {
		Introspection string   `json:"introspection_endpoint"`
		AuthMethods   []string `json:"introspection_endpoint_auth_methods_supported"`
	}
	if err := o.prov.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.Introspection != o.ts.URL+"/oidc/introspect" || !slices.Contains(disc.AuthMethods, "client_secret_basic") {
		t.Fatalf("discovery: introspection at %q with %v, want %s/oidc/introspect with client_secret_basic", disc.Introspection, disc.AuthMethods, o.ts.URL)
	}

	c := o.client()
	c.signIn("alice")
	tokens := func() *oauth2.Token {
		t.Helper()
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(ctx, o.code(c, cfg, v, "s", "n"), oauth2.VerifierOption(v))
		if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v, %+v", err, tok)
		}
		return tok
	}
	tok := tokens()
	status, ir, body := o.introspect(cfg.ClientID, cfg.ClientSecret, tok.AccessToken)
	wantExp := o.clock.Now().Add(backend.AccessTokenTTL).Unix()
	if status != http.StatusOK || !ir.Active || ir.Sub != strconv.FormatInt(alice.ID, 10) || ir.ClientID != cfg.ClientID ||
		ir.Username != "alice" || !slices.Equal(ir.Aud, []string{cfg.ClientID}) || !slices.Equal(ir.AMR, []string{"pwd"}) ||
		ir.Exp < wantExp-5 || ir.Exp > wantExp+5 || !slices.Equal(strings.Fields(ir.Scope), cfg.Scopes) {
		t.Fatalf("introspection of alice's access token: %d %s\nwant active, sub %d, client_id %s, exp ≈%d, scope %v",
			status, body, alice.ID, cfg.ClientID, wantExp, cfg.Scopes)
	}

	inactive := func(name string, clientID, secret, token string) {
		t.Helper()
		status, ir, body := o.introspect(clientID, secret, token)
		if status != http.StatusOK || ir.Active || strings.Contains(body, `"sub"`) {
			t.Errorf("%s: %d %s, want 200 {\"active\":false} and nothing more", name, status, body)
		}
	}
	refused := func(name string, clientID, secret, token string) {
		t.Helper()
		if status, _, body := o.introspect(clientID, secret, token); status != http.StatusUnauthorized || strings.Contains(body, `"active"`) {
			t.Errorf("%s: %d %s, want 401", name, status, body)
		}
	}
	refused("a wrong secret", cfg.ClientID, "wrong", tok.AccessToken)
	refused("no client authentication", "", "", tok.AccessToken)
	refused("an unknown client", "no-such-client", "x", tok.AccessToken)
	refused("a public client (no secret to authenticate with)", spa.ClientID, "", tok.AccessToken)
	inactive("another application's credentials", other.ClientID, other.ClientSecret, tok.AccessToken)
	inactive("a refresh token", cfg.ClientID, cfg.ClientSecret, tok.RefreshToken)
	inactive("an unknown token", cfg.ClientID, cfg.ClientSecret, "not-a-token")
	inactive("a tampered token", cfg.ClientID, cfg.ClientSecret, tok.AccessToken[:len(tok.AccessToken)-2]+"xx")

	// Expired: inactive once AccessTokenTTL has passed (the session itself still live).
	o.clock.Advance(backend.AccessTokenTTL + time.Second)
	inactive("an expired access token", cfg.ClientID, cfg.ClientSecret, tok.AccessToken)

	// Revoked (RFC 7009, the refresh token revokes its family): inactive.
	tok = tokens()
	if _, ir, _ := o.introspect(cfg.ClientID, cfg.ClientSecret, tok.AccessToken); !ir.Active {
		t.Fatal("a new access token is not active")
	}
	if r := o.post(o.ts.URL+"/oidc/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"},
		"client_id": {cfg.ClientID}, "client_secret": {cfg.ClientSecret}}); r.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.body)
	}
	inactive("an access token whose family was revoked", cfg.ClientID, cfg.ClientSecret, tok.AccessToken)

	// The session ended (Logout): inactive at once, though the token has not expired.
	tok = tokens()
	if _, ir, _ := o.introspect(cfg.ClientID, cfg.ClientSecret, tok.AccessToken); !ir.Active {
		t.Fatal("a new access token is not active")
	}
	c.post("/logout", nil)
	inactive("an access token after Logout", cfg.ClientID, cfg.ClientSecret, tok.AccessToken)
}
