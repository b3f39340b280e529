package backend

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Forward-auth (issue 13, part 3): a reverse proxy in front of an application that has no
// OpenID Connect of its own (nginx auth_request, Caddy forward_auth, Traefik ForwardAuth) asks
// Gatehouse, on every request, whether the browser's session may see the page it asked for.
// An application protects one or more domains (App.Domains); each domain belongs to one
// application, whose "Require Two-Factor" and Audience then apply to it.

// FieldDomains is the application forms' "Protected domains" field, as Error.Fields names it.
const FieldDomains = "domains"

// MaxAppDomains is how many domains one application protects at most.
const MaxAppDomains = 20

// maxHostLength is the longest DNS name (RFC 1035 §2.3.4).
const maxHostLength = 253

// CheckDomain says why d may not be a protected domain, or returns nil. A domain is a host
// name, lower case (tidyDomains lowers it), with at most one leading "*." that stands for
// exactly one more label, as in a TLS certificate: "*.tools.example.com" covers
// "wiki.tools.example.com", not "tools.example.com" nor "a.b.tools.example.com". No scheme,
// port, path or IP address: the rule is about names, the proxy's to route.
func CheckDomain(d string) error {
	q := quoteURI(d)
	if d == "" {
		return Errorf(EINVALID, "A protected domain is empty.")
	}
	if strings.Contains(d, "://") || strings.ContainsAny(d, "/?#@") {
		return Errorf(EINVALID, "The protected domain %s must be a host name only, such as app.example.com: no scheme, path or user.", q)
	}
	if strings.Contains(d, ":") {
		return Errorf(EINVALID, "The protected domain %s must not have a port: it covers the host on every port.", q)
	}
	name := strings.TrimPrefix(d, "*.")
	if strings.Contains(name, "*") {
		return Errorf(EINVALID, "The protected domain %s may have a wildcard only as its first label (*.example.com).", q)
	}
	if d != strings.ToLower(d) {
		return Errorf(EINVALID, "The protected domain %s must be lower case.", q)
	}
	if len(d) > maxHostLength || !validHostName(name) {
		return Errorf(EINVALID, "The protected domain %s is not a valid host name (letters, digits and hyphens, in labels separated by dots).", q)
	}
	if name != d && !strings.Contains(name, ".") {
		return Errorf(EINVALID, "The protected domain %s is too wide: a wildcard needs at least two labels after it (*.example.com).", q)
	}
	return nil
}

// validHostName reports whether name is a DNS host name of lower-case LDH labels (RFC 1123
// §2.1), not all digits at the end (an IPv4 address is not a name).
func validHostName(name string) bool {
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

// tidyDomains trims and lower-cases each domain and drops the empty ones.
func tidyDomains(ds []string) []string {
	out := []string{}
	for _, d := range ds {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			out = append(out, strings.TrimSuffix(d, "."))
		}
	}
	return out
}

// checkDomains says what is wrong with an application's list of domains, each of them, or
// returns nil. Whether another application protects one already is the store's answer
// (ECONFLICT).
func checkDomains(ds []string) error {
	if len(ds) > MaxAppDomains {
		return Errorf(EINVALID, "An application protects at most %d domains, not %d.", MaxAppDomains, len(ds))
	}
	var problems []string
	for i, d := range ds {
		if err := CheckDomain(d); err != nil {
			problems = append(problems, ErrorMessage(err))
		} else if slices.Contains(ds[:i], d) {
			problems = append(problems, fmt.Sprintf("The protected domain %s is listed twice.", quoteURI(d)))
		}
	}
	if len(problems) > 0 {
		return Errorf(EINVALID, "%s", strings.Join(problems, " "))
	}
	return nil
}

// domainKeys are the entries of app_domains that may protect host, most specific first: the
// host itself, then the wildcard one label up.
func domainKeys(host string) []string {
	keys := []string{host}
	if i := strings.IndexByte(host, '.'); i > 0 && strings.Contains(host[i+1:], ".") {
		keys = append(keys, "*."+host[i+1:])
	}
	return keys
}

// ForwardStep is the answer of a forward-auth check (ForwardAuth).
type ForwardStep string

// The answers of a forward-auth check.
const (
	// ForwardAllow: the session may see the page; the proxy passes the request on with the
	// person's headers.
	ForwardAllow ForwardStep = "allow"
	// ForwardLogin: no session (or it ended): log in, then back to the page.
	ForwardLogin ForwardStep = "login"
	// ForwardTwoFactor: the domain's application requires Two-Factor and this session was
	// not proven with it: the Gatehouse login page says so and starts the step-up (for a
	// person without Two-Factor, the article's forced enrollment), then back to the page.
	ForwardTwoFactor ForwardStep = "two_factor"
)

// ForwardDecision is ForwardAuth's answer.
type ForwardDecision struct {
	Step ForwardStep
	App  *App
	User *User // ForwardAllow and ForwardTwoFactor: who is signed in
	// TwoFactor reports whether the session was proven with a second factor (ForwardAllow).
	TwoFactor bool
	// URL is the page asked for, as it may be returned to after a login: checked by
	// CheckReturnURL, in its canonical form.
	URL string
}

// ForwardAuth decides whether the browser holding the session token (""
// for none) may see the page at requested, the URL the proxy forwards: one rule for nginx,
// Caddy and Traefik. EINVALID when requested is not a URL that may be returned to;
// EFORBIDDEN when its host is protected by no application, or when the person is outside the
// application's Audience (NoAccessMessage).
//
// It writes nothing: the session is checked through the session cache (Authenticate, which
// batches last uses) and the domain's application through domainCache. Every request to a
// protected application passes here, so a write per check would make a burst of page loads
// a burst of writes.
func (s *Service) ForwardAuth(ctx context.Context, token, requested string) (*ForwardDecision, error) {
	u, a, err := s.returnURL(ctx, requested)
	if err != nil {
		return nil, err
	}
	d := &ForwardDecision{App: a, URL: u}
	if token == "" {
		d.Step = ForwardLogin
		return d, nil
	}
	id, err := s.Authenticate(ctx, token)
	if ErrorCode(err) == EUNAUTHORIZED {
		d.Step = ForwardLogin
		return d, nil
	} else if err != nil {
		return nil, err
	}
	return s.forwardDecide(id, d)
}

// forwardDecide is what ForwardAuth and ForwardReturn answer for a signed-in identity.
func (s *Service) forwardDecide(id *Identity, d *ForwardDecision) (*ForwardDecision, error) {
	d.User = id.User
	if d.App.Audience == AudienceAdmins && id.User.Role != RoleAdmin {
		return nil, Errorf(EFORBIDDEN, "%s", NoAccessMessage(d.App.Name))
	}
	d.TwoFactor = sessionProvedTwoFactor(id)
	if d.App.RequireTwoFactor && !d.TwoFactor {
		d.Step = ForwardTwoFactor
		return d, nil
	}
	d.Step = ForwardAllow
	return d, nil
}

// ForwardTwoFactorMessage is what the login page says to a signed-in person sent back by an
// application that requires Two-Factor their login did not give.
func ForwardTwoFactorMessage(a *App) string {
	return a.Name + " requires Two-Factor Authentication. Set it up now to continue; you will then be taken back to it."
}

// ForwardStepUpMessage is what the login page says to a person sent back by an application
// that requires Two-Factor their session was not proven with: one who has it logs in again
// with it; one who has none logs in again to set it up (a password given lately).
func ForwardStepUpMessage(a *App, u *User) string {
	if u.Enrolled() {
		return a.Name + " requires Two-Factor Authentication: log in again with your second factor to continue."
	}
	return a.Name + " requires Two-Factor Authentication: log in again to set it up."
}

// sessionProvedTwoFactor reports whether id's session was proven with a second factor: its
// login's amr says so (signIn), as for a sign-in to an OpenID Connect application. A session
// in which the person enrolled from the Profile was not: the application asks for a login
// with the new factor (ForwardTwoFactor, then the login page again).
func sessionProvedTwoFactor(id *Identity) bool { return id.session != nil && hasMFA(id.session.AMR) }

// CheckReturnURL reports whether a browser may be sent to raw after a login: an absolute
// https URL (http only when Gatehouse itself is served over http, Config.PublicURL) whose
// host is a protected domain, returning it in its canonical form with the application that
// protects it. Anything else is EINVALID: no open redirect. The checks refuse what parsers
// read differently (a browser and Go's net/url): backslashes, whitespace and control
// characters, user information (https://app.example.com@evil), scheme-relative (//evil) and
// relative URLs, percent-encoding or anything but letters, digits, hyphens and dots in the
// host; a host is then protected only if it is an entry of app_domains, exactly or by its
// wildcard, so https://app.example.com.evil.com is not app.example.com.
func (s *Service) CheckReturnURL(ctx context.Context, raw string) (string, *App, error) {
	return s.returnURL(ctx, raw)
}

var errReturnURL = Errorf(EINVALID, "That address is not a page of an application Gatehouse protects.")

func (s *Service) returnURL(ctx context.Context, raw string) (string, *App, error) {
	if raw == "" || len(raw) > MaxRedirectURISize || strings.ContainsAny(raw, "\\\t\r\n \x00") {
		return "", nil, errReturnURL
	}
	for _, c := range []byte(raw) {
		if c < 0x21 || c >= 0x7f {
			return "", nil, errReturnURL
		}
	}
	p, err := url.Parse(raw)
	if err != nil || p.Opaque != "" || p.User != nil || !p.IsAbs() || p.Host == "" {
		return "", nil, errReturnURL
	}
	switch p.Scheme {
	case "https":
	case "http":
		if !strings.HasPrefix(s.public, "http://") {
			return "", nil, errReturnURL
		}
	default:
		return "", nil, errReturnURL
	}
	host := p.Hostname()
	if strings.Contains(p.Host, "[") || host != strings.ToLower(host) || !validHostName(host) || len(host) > maxHostLength {
		return "", nil, errReturnURL
	}
	if port := p.Port(); port != "" && (strings.Trim(port, "0123456789") != "" || len(port) > 5) {
		return "", nil, errReturnURL
	}
	a, err := s.appForHost(ctx, host)
	if ErrorCode(err) == ENOTFOUND {
		return "", nil, Errorf(EFORBIDDEN, "%s is not protected by Gatehouse: no application lists it among its protected domains.", host)
	} else if err != nil {
		return "", nil, err
	}
	p.Fragment, p.RawFragment = "", ""
	return p.String(), a, nil
}

// appForHost is the application protecting host, from the domain cache or the store.
func (s *Service) appForHost(ctx context.Context, host string) (*App, error) {
	if a, ok := s.domains.get(host, s.now()); ok {
		if a == nil {
			return nil, errAppNotFound
		}
		return a, nil
	}
	gen := s.domains.generation()
	a, err := s.store.FindAppByDomain(ctx, domainKeys(host)...)
	if ErrorCode(err) == ENOTFOUND {
		s.domains.put(gen, host, nil, s.now())
		return nil, errAppNotFound
	} else if err != nil {
		return nil, internal("find application by domain", err)
	}
	s.domains.put(gen, host, a, s.now())
	return a, nil
}

// ForwardReturn is the login page's answer for a signed-in person who was sent to it by a
// forward-auth check with the page they asked for (raw): the same decision as ForwardAuth's
// for this session (ForwardAllow: send them back to URL; ForwardTwoFactor: the step-up).
func (s *Service) ForwardReturn(ctx context.Context, id *Identity, raw string) (*ForwardDecision, error) {
	if err := id.requireSignedIn(); err != nil {
		return nil, err
	}
	u, a, err := s.returnURL(ctx, raw)
	if err != nil {
		return nil, err
	}
	return s.forwardDecide(id, &ForwardDecision{App: a, URL: u})
}

// BeginForwardEnrollment is the step-up of ForwardTwoFactor for a person without Two-Factor:
// a login attempt at the enroll step (the article's forced enrollment, the same pages, no way
// around it) with the page to return to bound to it. The enrollment ends in a new session,
// proven with the new factor, and TakeResume sends the person back. ECONFLICT for a person
// who has Two-Factor already.
func (s *Service) BeginForwardEnrollment(ctx context.Context, id *Identity, raw string) (*LoginState, error) {
	d, err := s.ForwardReturn(ctx, id, raw)
	if err != nil {
		return nil, err
	}
	if d.Step != ForwardTwoFactor || id.User.Enrolled() {
		return nil, Errorf(ECONFLICT, "Two-Factor Authentication is set up already: go back to %s.", d.App.Name)
	}
	// As for OpenID Connect (AuthorizeApp): a session sets up its second factor only with a
	// password given lately; front ends then ask for the login again (NeedsPasswordConfirmation).
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	return s.forceEnrollment(ctx, id.User, LoginResume{URL: d.URL})
}

// domainCache keeps, for each host a forward-auth check asked about, the application that
// protects it (nil: none), for at most domainCacheTTL. Application changes on this server
// clear it at once (CreateApp, UpdateApp, DeleteApp); one made on another server is seen
// within domainCacheTTL, as a session revoked there is within a second.
type domainCache struct {
	mu      sync.RWMutex
	entries map[string]domainEntry
	gen     uint64
}

type domainEntry struct {
	app     *App
	expires time.Time
}

const (
	domainCacheTTL  = time.Second
	domainCacheSize = 10_000
)

func newDomainCache() *domainCache { return &domainCache{entries: map[string]domainEntry{}} }

func (c *domainCache) get(host string, now time.Time) (*App, bool) {
	c.mu.RLock()
	e, ok := c.entries[host]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.app, true
}

func (c *domainCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put keeps host's application unless the cache was cleared since gen was read (the read may
// predate the change that cleared it).
func (c *domainCache) put(gen uint64, host string, a *App, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= domainCacheSize {
		clear(c.entries)
	}
	c.entries[host] = domainEntry{app: a, expires: now.Add(domainCacheTTL)}
}

func (c *domainCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}
