package sso

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"gatehouse/backend"
)

// The back-channel logout sender (OpenID Connect Back-Channel Logout 1.0): every server runs
// one while it serves (web.Run), claiming the logout tokens owed (backend/logout_delivery.go
// decides what is owed and what becomes of a failure) and POSTing each to its application.
// Several servers on one store share the work: a claim leases rows to one of them.
//
// The URIs it POSTs to are set by administrators only, and validated when they are (https,
// or http on loopback): this is a server-side request to an address an administrator chose.
// It follows no redirect (a 3xx is a failure) and reads at most logoutBodyLimit of an answer.

const (
	// logoutEvery is how often a server looks for logout tokens due: a logout reaches the
	// applications within about this.
	logoutEvery = 2 * time.Second
	// logoutBodyLimit is what is read of an answer (to reuse the connection), the rest dropped.
	logoutBodyLimit = 4 << 10
	// logoutTokenType is the logout token's JOSE typ (Back-Channel Logout 1.0 §2.4: explicit
	// typing, so it cannot be taken for an ID token).
	logoutTokenType = "logout+jwt"
	// BackchannelLogoutEvent is the one member of a logout token's events claim (§2.4).
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
)

// logoutClient sends logout tokens: a short timeout, no redirects followed.
var logoutClient = &http.Client{
	Timeout:       backend.LogoutSendTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// LogoutToken returns the signed logout token for d: iss, aud = [client ID], iat, exp
// (LogoutTokenTTL), jti, sid, sub and the back-channel logout event; no nonce (§2.4 forbids
// one). It is signed with the current signing key, the one the JWKS publishes.
func (p *Provider) LogoutToken(ctx context.Context, d *backend.LogoutDelivery) (string, error) {
	k, _, err := p.st.keys(ctx)
	if err != nil {
		return "", err
	}
	now := p.st.now()
	claims := oidc.NewLogoutTokenClaims(p.issuer, backend.Subject(d.UserID), oidc.Audience{d.ClientID},
		now.Add(backend.LogoutTokenTTL), newJTI(), d.SID, 0)
	claims.IssuedAt = oidc.FromTime(now) // the library stamps time.Now; the provider's clock is the Service's
	// op.SignerFromKey's signer with the logout token's typ instead of "JWT".
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: &jose.JSONWebKey{Key: k.Private, KeyID: k.KID}},
		(&jose.SignerOptions{}).WithType(logoutTokenType))
	if err != nil {
		return "", fmt.Errorf("logout token signer: %w", err)
	}
	return crypto.Sign(claims, signer)
}

// newJTI is a logout token's unique ID (the receiver may reject a jti it has seen): 128
// random bits.
func newJTI() string { return rand.Text() }

// DeliverLogouts sends the logout tokens due now, once: it claims a batch, POSTs them at once
// (each bounded by LogoutSendTimeout) and records each outcome. It returns how many it sent.
// The loop (StartLogoutDelivery) calls it; tests call it to step through retries.
func (p *Provider) DeliverLogouts(ctx context.Context) (int, error) {
	lease, ds, err := p.svc.ClaimLogoutDeliveries(ctx)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() {
			failure := p.sendLogout(ctx, d)
			// The outcome is recorded even if the server is stopping: the POST is done.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := p.svc.FinishLogoutDelivery(fctx, lease, d, failure); err != nil {
				p.log.Error("back-channel logout: record outcome", "app", d.AppName, "err", err)
			}
		})
	}
	wg.Wait()
	return len(ds), nil
}

// sendLogout POSTs d's logout token and returns why it failed, "" if it was delivered (2xx).
func (p *Provider) sendLogout(ctx context.Context, d *backend.LogoutDelivery) string {
	if d.URI == "" {
		return backend.LogoutNoURI
	}
	tok, err := p.LogoutToken(ctx, d)
	if err != nil {
		p.log.Error("back-channel logout: sign token", "app", d.AppName, "err", err)
		return "the logout token could not be signed"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URI, strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return "the back-channel logout URI is not a valid URL"
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := logoutClient.Do(req)
	if err != nil {
		// The error names the URI and the network failure; the token is in the body, not in it.
		return err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, logoutBodyLimit))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return ""
}

// StartLogoutDelivery runs DeliverLogouts every logoutEvery until stop is called, which waits
// for the round in flight (each POST is bounded by LogoutSendTimeout).
func (p *Provider) StartLogoutDelivery() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(logoutEvery)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			_, err := p.DeliverLogouts(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil && !failing {
				p.log.Error("back-channel logout: cannot claim deliveries", "err", err)
			}
			failing = err != nil
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}
