package backend

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// An App (application) is one of the company's other applications that trusts a Gatehouse
// login: an OpenID Connect relying party now, a forward-auth domain later (issue 13). It is
// administered like a user: by administrators, every change audited. This part holds what an
// administrator registers; the protocol endpoints that read it come next.
type App struct {
	ID       int64
	ClientID string // random, stable, not secret: OpenID Connect's client_id
	Name     string // unique, compared case-insensitively (ASCII), as usernames are
	// Public apps (a single-page or native app) cannot keep a secret: they have none and
	// must use PKCE. Confidential ones authenticate with their secret, of which the store
	// keeps only SecretHash. Fixed at creation.
	Public     bool
	SecretHash string // hex SHA-256 of the secret (appSecretHash); "" for a public app
	// RedirectURIs are where a sign-in may return to, matched exactly (no prefix, no
	// wildcard): each absolute https, or http on loopback (CheckRedirectURI).
	RedirectURIs []string
	// Domains are the host names it protects through forward-auth (CheckDomain), each
	// protected by this application alone.
	Domains          []string
	Audience         AppAudience // who may sign in to it
	RequireTwoFactor bool        // "Require Two-Factor": no sign-in without a second factor
	// BackchannelLogoutURI, if set, is told when a session that signed in to the app ends
	// (OpenID Connect Back-Channel Logout 1.0).
	BackchannelLogoutURI string
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// AppAudience is who may sign in to an application.
type AppAudience string

// The audiences.
const (
	AudienceEveryone AppAudience = "everyone" // every enabled user
	AudienceAdmins   AppAudience = "admins"   // administrators only
)

// AppAudiences are the audiences in the order front ends offer them.
var AppAudiences = []AppAudience{AudienceEveryone, AudienceAdmins}

// Valid reports whether a is a known audience.
func (a AppAudience) Valid() bool { return slices.Contains(AppAudiences, a) }

// Label is the audience as people read it.
func (a AppAudience) Label() string {
	switch a {
	case AudienceEveryone:
		return "Everyone"
	case AudienceAdmins:
		return "Administrators only"
	}
	return string(a)
}

// TypeLabel is whether the app keeps a secret, as people read it.
func (a *App) TypeLabel() string {
	if a.Public {
		return "Public (no secret, PKCE)"
	}
	return "Confidential (client secret)"
}

// The fields of the application forms, as Error.Fields names them (the name is FieldName).
const (
	FieldRedirectURIs         = "redirect_uris"
	FieldAudience             = "audience"
	FieldBackchannelLogoutURI = "backchannel_logout_uri"
)

// The limits of an application's fields: front ends put them on their fields.
const (
	MaxAppNameLength   = 100  // characters, one line
	MaxRedirectURIs    = 10   // redirect URIs per application
	MaxRedirectURISize = 2000 // bytes per URI (what every browser carries in a Location)
)

// AppPasswordReason is why the application forms ask for the administrator's own password:
// an application's redirect URIs and secret decide where sign-ins, and so access to every
// account, are sent.
const AppPasswordReason = "Changes to applications need your own password: they decide where sign-ins are sent."

// NewApp is the "New Application" form.
type NewApp struct {
	Name                 string
	RedirectURIs         []string
	Domains              []string // "Protected domains" (forward-auth)
	Public               bool
	Audience             AppAudience // AudienceEveryone if empty
	RequireTwoFactor     bool
	BackchannelLogoutURI string
}

// AppChanges is "Edit this Application": nil fields stay as they are.
type AppChanges struct {
	Name                 *string
	RedirectURIs         *[]string
	Domains              *[]string
	Audience             *AppAudience
	RequireTwoFactor     *bool
	BackchannelLogoutURI *string
}

// AppUpdate is a change of an application's stored fields: nil fields stay as they are. The
// Service decides what may change; the store stores it.
type AppUpdate struct {
	Name                 *string
	SecretHash           *string
	RedirectURIs         *[]string
	Domains              *[]string
	Audience             *AppAudience
	RequireTwoFactor     *bool
	BackchannelLogoutURI *string
}

// AppFilter selects a page of applications, ordered by name.
type AppFilter struct {
	Offset int
	Limit  int // 0 means the default page size
}

// AppPage is one page of the application list.
type AppPage struct {
	Apps   []*App
	Total  int
	Offset int
	Limit  int
}

// ParseURIList splits what a form's "one per line" field holds into URIs: one per line (or
// separated by spaces, which no URI contains), blank lines dropped. Checking them is
// CreateApp's and UpdateApp's.
func ParseURIList(s string) []string { return strings.Fields(s) }

// checkAppName says what is wrong with an application's name (tidied), or returns nil.
func checkAppName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "Enter a name for the application.")
	}
	if utf8.RuneCountInString(name) > MaxAppNameLength || !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n\t") {
		return Errorf(EINVALID, "The application's name must be at most %d characters on one line.", MaxAppNameLength)
	}
	return nil
}

// checkRedirectURIs says what is wrong with a list of redirect URIs, each of them, or returns nil.
func checkRedirectURIs(uris []string) error {
	if len(uris) == 0 {
		return Errorf(EINVALID, "Enter at least one redirect URI (where the application receives its sign-ins) or one protected domain.")
	}
	if len(uris) > MaxRedirectURIs {
		return Errorf(EINVALID, "An application has at most %d redirect URIs, not %d.", MaxRedirectURIs, len(uris))
	}
	var problems []string
	for i, u := range uris {
		if err := CheckRedirectURI(u); err != nil {
			problems = append(problems, ErrorMessage(err))
		} else if slices.Contains(uris[:i], u) {
			problems = append(problems, fmt.Sprintf("The redirect URI %s is listed twice.", quoteURI(u)))
		}
	}
	if len(problems) > 0 {
		return Errorf(EINVALID, "%s", strings.Join(problems, " "))
	}
	return nil
}

// CheckRedirectURI says why u may not be a redirect URI, or returns nil. The provider matches
// redirect URIs exactly (OAuth 2.0 Security BCP, RFC 9700 §4.1.3: no patterns), so a URI must
// be one exact, absolute address: https, or http only on this machine's loopback (RFC 8252
// §7.3, native apps), where no one on the network can see the code; no fragment (RFC 6749
// §3.1.2), no wildcard, no user:password@.
func CheckRedirectURI(u string) error { return checkAppURI("redirect URI", u) }

// checkAppURI checks an address Gatehouse sends something to on the app's behalf: a redirect
// URI, the back-channel logout URI. what names it in the message.
func checkAppURI(what, u string) error {
	q := quoteURI(u)
	if len(u) > MaxRedirectURISize {
		return Errorf(EINVALID, "The %s %s is longer than %d bytes.", what, q, MaxRedirectURISize)
	}
	if strings.Contains(u, "*") {
		return Errorf(EINVALID, "The %s %s contains a wildcard (*): give each address exactly.", what, q)
	}
	p, err := url.Parse(u)
	if err != nil || !utf8.ValidString(u) || strings.ContainsAny(u, " \t\r\n\x00") {
		return Errorf(EINVALID, "The %s %s is not a valid URL.", what, q)
	}
	if !p.IsAbs() || p.Host == "" || p.Opaque != "" {
		return Errorf(EINVALID, "The %s %s must be an absolute URL, such as https://app.example.com/callback.", what, q)
	}
	if p.Fragment != "" || strings.Contains(u, "#") {
		return Errorf(EINVALID, "The %s %s must not have a fragment (#…).", what, q)
	}
	if p.User != nil {
		return Errorf(EINVALID, "The %s %s must not contain a user name or password.", what, q)
	}
	switch p.Scheme {
	case "https":
	case "http":
		if !loopbackHost(p.Hostname()) {
			return Errorf(EINVALID, "The %s %s must use https: http is allowed only for localhost, 127.0.0.1 and [::1].", what, q)
		}
	default:
		return Errorf(EINVALID, "The %s %s must use https (or http on localhost).", what, q)
	}
	return nil
}

// loopbackHost reports whether host is this machine: localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// quoteURI quotes u for a message, shortened: a message quotes what was typed, not 2000 bytes of it.
func quoteURI(u string) string {
	if utf8.RuneCountInString(u) > 80 {
		u = string([]rune(u)[:77]) + "…"
	}
	return fmt.Sprintf("%q", u)
}

// checkBackchannelURI says what is wrong with a back-channel logout URI, or returns nil; ""
// (none) is fine.
func checkBackchannelURI(u string) error {
	if u == "" {
		return nil
	}
	return checkAppURI("back-channel logout URI", u)
}

func checkAudience(a AppAudience) error {
	if !a.Valid() {
		return Errorf(EINVALID, "Who may use the application must be %q or %q.", AudienceEveryone, AudienceAdmins)
	}
	return nil
}

// tidyNewApp trims what was typed and fills in the default audience.
func tidyNewApp(na NewApp) NewApp {
	na.Name = strings.TrimSpace(na.Name)
	na.RedirectURIs = tidyURIs(na.RedirectURIs)
	na.Domains = tidyDomains(na.Domains)
	na.BackchannelLogoutURI = strings.TrimSpace(na.BackchannelLogoutURI)
	if na.Audience == "" {
		na.Audience = AudienceEveryone
	}
	return na
}

// tidyURIs trims each URI and drops the empty ones.
func tidyURIs(uris []string) []string {
	out := []string{}
	for _, u := range uris {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// CheckNewApp reports what is wrong with a new application as CreateApp would, without
// creating it: EINVALID naming every bad field at once. It does not look up whether the name
// is taken.
func CheckNewApp(na NewApp) error {
	return checkNewApp(tidyNewApp(na))
}

func checkNewApp(na NewApp) error {
	uris := checkRedirectURIs(na.RedirectURIs)
	if len(na.RedirectURIs) == 0 && len(na.Domains) > 0 {
		uris = nil // a forward-auth application needs no redirect URI
	}
	return fieldChecks(
		fieldCheck{FieldName, checkAppName(na.Name)},
		fieldCheck{FieldRedirectURIs, uris},
		fieldCheck{FieldDomains, checkDomains(na.Domains)},
		fieldCheck{FieldAudience, checkAudience(na.Audience)},
		fieldCheck{FieldBackchannelLogoutURI, checkBackchannelURI(na.BackchannelLogoutURI)},
	)
}

// tidyAppChanges trims ch's fields and checks them: the form's own mistakes (EINVALID, every
// bad field at once).
func tidyAppChanges(ch AppChanges) (AppChanges, error) {
	var checks []fieldCheck
	if ch.Name != nil {
		name := strings.TrimSpace(*ch.Name)
		ch.Name = &name
		checks = append(checks, fieldCheck{FieldName, checkAppName(name)})
	}
	if ch.Domains != nil {
		ds := tidyDomains(*ch.Domains)
		ch.Domains = &ds
		checks = append(checks, fieldCheck{FieldDomains, checkDomains(ds)})
	}
	if ch.RedirectURIs != nil {
		uris := tidyURIs(*ch.RedirectURIs)
		ch.RedirectURIs = &uris
		if err := checkRedirectURIs(uris); err != nil && (len(uris) > 0 || ch.Domains == nil || len(*ch.Domains) == 0) {
			checks = append(checks, fieldCheck{FieldRedirectURIs, err})
		}
	}
	if ch.Audience != nil {
		checks = append(checks, fieldCheck{FieldAudience, checkAudience(*ch.Audience)})
	}
	if ch.BackchannelLogoutURI != nil {
		u := strings.TrimSpace(*ch.BackchannelLogoutURI)
		ch.BackchannelLogoutURI = &u
		checks = append(checks, fieldCheck{FieldBackchannelLogoutURI, checkBackchannelURI(u)})
	}
	return ch, fieldChecks(checks...)
}

// appUpdate turns ch, tidied and checked, into the update of cur it makes, and says what it
// changes for the audit log: only the fields whose value differs.
func appUpdate(cur *App, ch AppChanges) (AppUpdate, []string) {
	var upd AppUpdate
	var changed []string
	if ch.Name != nil && *ch.Name != cur.Name {
		upd.Name, changed = ch.Name, append(changed, "name")
	}
	if ch.RedirectURIs != nil && !slices.Equal(*ch.RedirectURIs, cur.RedirectURIs) {
		upd.RedirectURIs, changed = ch.RedirectURIs, append(changed, "redirect URIs")
	}
	if ch.Domains != nil && !slices.Equal(*ch.Domains, cur.Domains) {
		upd.Domains, changed = ch.Domains, append(changed, "protected domains: "+strings.Join(*ch.Domains, " "))
	}
	if ch.Audience != nil && *ch.Audience != cur.Audience {
		upd.Audience, changed = ch.Audience, append(changed, "who may use it: "+ch.Audience.Label())
	}
	if ch.RequireTwoFactor != nil && *ch.RequireTwoFactor != cur.RequireTwoFactor {
		upd.RequireTwoFactor, changed = ch.RequireTwoFactor, append(changed, "Require Two-Factor: "+yesNo(*ch.RequireTwoFactor))
	}
	if ch.BackchannelLogoutURI != nil && *ch.BackchannelLogoutURI != cur.BackchannelLogoutURI {
		upd.BackchannelLogoutURI, changed = ch.BackchannelLogoutURI, append(changed, "back-channel logout URI")
	}
	return upd, changed
}

// newClientID draws a client ID: "gh-" and 16 base32 characters (80 random bits). It is not
// a secret, only a name no one can pick: unique and never reused.
func newClientID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return "gh-" + strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// newAppSecret draws a client secret, 32 bytes from crypto/rand (base64url, 43 characters),
// and its hash, all the store keeps.
func newAppSecret() (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, appSecretHash(secret)
}

// appSecretHash is the stored form of a client secret: hex SHA-256. Not argon2id, as for
// passwords: a password is weak and must be slow to guess from its hash, but a 256-bit random
// secret cannot be guessed from a fast hash either (2^256 tries), and argon2id's 19 MiB and
// tens of milliseconds on every token request would hand anyone who can reach the token
// endpoint a lever on the server's memory and CPU.
func appSecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CheckSecret reports whether secret is a's client secret, in constant time; false for a
// public app, which has none.
func (a *App) CheckSecret(secret string) bool {
	if a.Public || a.SecretHash == "" || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(appSecretHash(secret)), []byte(a.SecretHash)) == 1
}

// appConflictField is the field a store's refusal of an application is about: a domain another
// application protects (the stores' message names "protected domain"), else the name.
func appConflictField(err error) string {
	if strings.Contains(ErrorMessage(err), "protected domain") {
		return FieldDomains
	}
	return FieldName
}

// errAppNotFound is the answer for every application ID that names none.
var errAppNotFound = Errorf(ENOTFOUND, "There is no such application.")

// CreateApp registers an application and returns it with its client secret (confidential
// apps; "" for public ones): the only time the secret is shown, since the store keeps only
// its hash. Administrators only, with a recently confirmed password; the form's mistakes are
// reported first (EINVALID with every bad field), a name in use is ECONFLICT.
func (s *Service) CreateApp(ctx context.Context, id *Identity, na NewApp) (*App, string, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, "", err
	}
	na = tidyNewApp(na)
	if err := checkNewApp(na); err != nil {
		return nil, "", err
	}
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, "", err
	}
	a := &App{
		ClientID: newClientID(), Name: na.Name, Public: na.Public, RedirectURIs: na.RedirectURIs, Domains: na.Domains,
		Audience: na.Audience, RequireTwoFactor: na.RequireTwoFactor, BackchannelLogoutURI: na.BackchannelLogoutURI,
	}
	var secret string
	if !na.Public {
		secret, a.SecretHash = newAppSecret()
	}
	defer s.domains.clear()
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.CreateApp(ctx, a); err != nil {
			return WithFields(internal("create application", err), appConflictField(err))
		}
		detail := fmt.Sprintf("client ID %s, %s, who may use it: %s, Require Two-Factor: %s",
			a.ClientID, map[bool]string{true: "public", false: "confidential"}[a.Public], a.Audience.Label(), yesNo(a.RequireTwoFactor))
		if len(a.Domains) > 0 {
			detail += ", protected domains: " + strings.Join(a.Domains, " ")
		}
		return s.auditApp(ctx, AuditAppCreated, id, a, detail)
	})
	if err != nil {
		return nil, "", err
	}
	return a, secret, nil
}

// Apps returns one page of the applications, ordered by name. Administrators only.
func (s *Service) Apps(ctx context.Context, id *Identity, f AppFilter) (*AppPage, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	f.Offset = max(f.Offset, 0)
	f.Limit = pageLimit(f.Limit)
	apps, total, err := s.store.FindApps(ctx, f)
	if err != nil {
		return nil, internal("find applications", err)
	}
	return &AppPage{Apps: apps, Total: total, Offset: f.Offset, Limit: f.Limit}, nil
}

// App returns one application. ENOTFOUND if there is none. Administrators only.
func (s *Service) App(ctx context.Context, id *Identity, appID int64) (*App, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	a, err := s.store.FindAppByID(ctx, appID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errAppNotFound
	}
	return a, internal("find application", err)
}

// AppByRef returns the application whose client ID, or name (case-insensitive), is ref: how
// the command line names one. ENOTFOUND if there is none. Administrators only.
func (s *Service) AppByRef(ctx context.Context, id *Identity, ref string) (*App, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	ref = strings.TrimSpace(ref)
	a, err := s.store.FindAppByClientID(ctx, ref)
	if ErrorCode(err) == ENOTFOUND {
		a, err = s.store.FindAppByName(ctx, ref)
	}
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "There is no application %q.", ref)
	}
	return a, internal("find application", err)
}

// errAppUnchanged answers an "Edit this Application" form that is the app as it is.
var errAppUnchanged = Errorf(ECONFLICT, "Nothing to change: the application already has these settings.")

// UpdateApp applies "Edit this Application": the fields of ch that differ from the app as
// stored, and only those are audited. A form that changes nothing writes nothing: ECONFLICT.
// Administrators only, with a recently confirmed password; EINVALID (every bad field) first.
func (s *Service) UpdateApp(ctx context.Context, id *Identity, appID int64, ch AppChanges) (*App, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	ch, err := tidyAppChanges(ch)
	if err != nil {
		return nil, err
	}
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, err
	}
	var a *App
	defer s.domains.clear()
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		cur, err := s.store.FindAppForUpdate(ctx, appID)
		if ErrorCode(err) == ENOTFOUND {
			return errAppNotFound
		} else if err != nil {
			return internal("find application", err)
		}
		upd, changed := appUpdate(cur, ch)
		if len(changed) == 0 {
			return errAppUnchanged
		}
		if a, err = s.store.UpdateApp(ctx, appID, upd); err != nil {
			return WithFields(internal("update application", err), appConflictField(err))
		}
		return s.auditApp(ctx, AuditAppUpdated, id, a, strings.Join(changed, ", "))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RegenerateAppSecret gives a confidential application a new client secret and returns it:
// the only time it is shown. The old secret stops working at once. ECONFLICT for a public
// app, which has none. Administrators only, with a recently confirmed password.
func (s *Service) RegenerateAppSecret(ctx context.Context, id *Identity, appID int64) (*App, string, error) {
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, "", err
	}
	secret, hash := newAppSecret()
	var a *App
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		cur, err := s.store.FindAppForUpdate(ctx, appID)
		if ErrorCode(err) == ENOTFOUND {
			return errAppNotFound
		} else if err != nil {
			return internal("find application", err)
		}
		if cur.Public {
			return Errorf(ECONFLICT, "%s is a public application: it has no secret to regenerate.", cur.Name)
		}
		if a, err = s.store.UpdateApp(ctx, appID, AppUpdate{SecretHash: &hash}); err != nil {
			return internal("regenerate secret", err)
		}
		return s.auditApp(ctx, AuditAppSecretRegenerated, id, a, "client ID "+a.ClientID)
	})
	if err != nil {
		return nil, "", err
	}
	return a, secret, nil
}

// DeleteApp removes an application: sign-ins to it stop. Administrators only, with a recently
// confirmed password. ENOTFOUND if there is no such application.
func (s *Service) DeleteApp(ctx context.Context, id *Identity, appID int64) (*App, error) {
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, err
	}
	var a *App
	defer s.domains.clear()
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		a, err = s.store.FindAppForUpdate(ctx, appID)
		if ErrorCode(err) == ENOTFOUND {
			return errAppNotFound
		} else if err != nil {
			return internal("find application", err)
		}
		if err := s.store.DeleteApp(ctx, appID); err != nil {
			return internal("delete application", err)
		}
		return s.auditApp(ctx, AuditAppDeleted, id, a, "client ID "+a.ClientID)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// auditApp records an administrator's change of application a: the target is the
// application, by name (no user ID).
func (s *Service) auditApp(ctx context.Context, action string, id *Identity, a *App, detail string) error {
	return s.auditEvent(ctx, action, id.actor(), nil, a.Name, detail)
}

// DeleteAppConfirmation is the sentence that asks before an application is deleted.
func DeleteAppConfirmation(a *App) string {
	return fmt.Sprintf("Delete %s? People can no longer sign in to it through Gatehouse, and its client ID and secret stop working. This cannot be undone.", a.Name)
}

// RegenerateSecretConfirmation is the sentence that asks before an application's secret is replaced.
func RegenerateSecretConfirmation(a *App) string {
	return fmt.Sprintf("Regenerate the client secret of %s? The current secret stops working at once: the application must be given the new one.", a.Name)
}

// SecretShownOnce is what front ends say beside a client secret just made.
const SecretShownOnce = "Copy this client secret now and give it to the application: it is shown only this once. Gatehouse keeps only a hash of it; if it is lost, regenerate it."

// AppCreatedNotice, AppUpdatedNotice and AppDeletedNotice are the status bar's sentences after
// those changes.
func AppCreatedNotice(a *App) string { return fmt.Sprintf("Application %s created.", a.Name) }

// AppUpdatedNotice is the status bar's sentence after "Edit this Application".
func AppUpdatedNotice(a *App) string { return fmt.Sprintf("Application %s saved.", a.Name) }

// AppDeletedNotice is the status bar's sentence after an application was deleted.
func AppDeletedNotice(a *App) string { return fmt.Sprintf("Application %s deleted.", a.Name) }

// AppSecretRegeneratedNotice is the status bar's sentence after a new secret was made.
func AppSecretRegeneratedNotice(a *App) string {
	return fmt.Sprintf("A new client secret for %s was made; the old one no longer works.", a.Name)
}
