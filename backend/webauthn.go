package backend

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Passkeys and security keys (WebAuthn, issue 14): the third Two-Factor option after the help
// article's two. The ceremonies are github.com/go-webauthn/webauthn's; what it leaves to the
// relying party is here: where the ceremony state lives (the store, bound to the session or
// login attempt that began it, used once), the clone rule (a counter that went backwards is
// refused, not merely reported), and which keys a person may remove.

// WebAuthnCredential is a registered security key or passkey.
type WebAuthnCredential struct {
	ID           int64
	UserID       int64
	CredentialID []byte // the authenticator's credential ID (unique)
	Name         string // the owner's name for it ("YubiKey on my keyring")
	// Record is the library's credential record (webauthn.Credential as JSON): the public key,
	// flags and authenticator data it verifies an assertion against.
	Record         []byte
	SignCount      uint32 // the last signature counter accepted
	BackupEligible bool   // BE at registration; an assertion that says otherwise fails
	BackupState    bool   // BS as last seen
	CreatedAt      time.Time
	LastUsedAt     time.Time // zero: never used to log in
	CloneWarningAt time.Time // zero: its counter never went backwards
}

// WebAuthnCeremony is a registration or login ceremony begun and not yet finished: the
// library's SessionData (its challenge), for the session or login attempt that began it.
type WebAuthnCeremony struct {
	Owner     string // the token hash of the session or login attempt
	Kind      string // CeremonyRegistration or CeremonyLogin
	UserID    int64
	Data      []byte // webauthn.SessionData as JSON
	ExpiresAt time.Time
}

// The kinds of WebAuthnCeremony.
const (
	CeremonyRegistration = "registration"
	CeremonyLogin        = "login"
)

// keyCeremonyTTL is how long a begun ceremony can be finished: the browser's prompt, a touch.
const keyCeremonyTTL = 5 * time.Minute

// MaxKeys is the most security keys an account may have. Each record is kept whole (up to
// tens of KiB) and every ceremony reads them all, so their number is bounded; ten covers a
// person's keys, phones and computers with room to spare.
const MaxKeys = 10

// MaxKeyNameLength is the longest name a key may have, in characters.
const MaxKeyNameLength = 64

// The audit actions of keys.
const (
	AuditKeyAdded        = "2fa.key_added"     // detail: the key's name
	AuditKeyRenamed      = "2fa.key_renamed"   // detail: old and new name
	AuditKeyRemoved      = "2fa.key_removed"   // by the user; detail: the key's name
	AuditAdminKeyRemoved = "admin.key_removed" // by an administrator; detail: the key's name
	AuditKeyCloned       = "login.key_cloned"  // refused: its counter went backwards
)

func init() {
	auditActionText[AuditKeyAdded] = "Security key added"
	auditActionText[AuditKeyRenamed] = "Security key renamed"
	auditActionText[AuditKeyRemoved] = "Security key removed by the user"
	auditActionText[AuditAdminKeyRemoved] = "Security key removed by an administrator"
	auditActionText[AuditKeyCloned] = "Login refused: security key may be copied"
}

// Words the front ends show about keys.
const (
	// KeysNeedJavaScriptText is shown where a key would be used or added and the page has no
	// JavaScript (WebAuthn is a JavaScript API).
	KeysNeedJavaScriptText = "Security keys and passkeys need JavaScript, which is off in this browser. Turn it on, or use another way."
	// KeysInBrowserText is the desktop console's: its window (WebKitGTK) has no WebAuthn.
	KeysInBrowserText = "Security keys and passkeys are added and used in a web browser: this window cannot talk to them. Open Gatehouse's web page to add one."
	// KeyNameHelp is the hint beside the name field.
	KeyNameHelp = "A name to tell it from your other keys, for example “YubiKey on my keyring” or “this laptop”."
	// KeyChoiceText describes the third option on the Setup Two-Factor page.
	KeyChoiceText = "Use a security key (such as a YubiKey) or a passkey on this computer or your phone: touch it, or unlock it with your fingerprint, face or PIN. Nothing to type, and it cannot be used on a fake site."
	// KeyPromptText is shown while the browser asks for the key.
	KeyPromptText = "Follow your browser's prompt: touch your security key, or confirm with your device."
	// KeyAddedNotice is the status bar after a key was added to an account that has Two-Factor.
	KeyAddedNotice = "Security key or passkey added. You can use it at your next login."
	// KeyRenamedNotice is the status bar after a key was renamed.
	KeyRenamedNotice = "Security key or passkey renamed."
	// KeyRemovedNotice is the status bar after a key was removed.
	KeyRemovedNotice = "Security key or passkey removed. Your other sessions have ended."
	// UserKeyRemovedNotice is the user page's status bar after an administrator removed a key.
	UserKeyRemovedNotice = "Security key or passkey removed. The user's sessions have ended."
	// LastKeyRemovedNotice is the Profile's status bar after the last key of a person enrolled
	// with keys went, and Two-Factor with it.
	LastKeyRemovedNotice = "Security key or passkey removed. It was your last one, so Two-Factor Authentication is turned off for your account. Your other sessions have ended."
)

// KeyBrowserErrors are the sentences the pages' script shows when the browser's WebAuthn call
// fails, by the DOMException's name ("" for any other failure, "unsupported" for a browser
// without WebAuthn). The script has no words of its own: the page hands it these, from
// KeyBrowserErrorTexts.
var KeyBrowserErrors = map[string]string{
	"NotAllowedError":   "The security key prompt was cancelled or timed out. Try again.",
	"InvalidStateError": "This security key is registered already for your account. Use another one.",
	"SecurityError":     "This browser refused to use a security key for this address. Open Gatehouse at its usual address and try again.",
	"unsupported":       "This browser cannot use security keys or passkeys. Use another browser, or another way.",
	"":                  "The security key could not be used. Try again.",
}

// KeyBrowserErrorTexts are KeyBrowserErrors for one page: at login (login true) a
// NotAllowedError is also what the browser says when the person chose a key that is not
// registered for the account (it does not tell the page which), so the sentence says both;
// and at a wrong address the sentence names the public URL's origin, where keys work.
func (s *Service) KeyBrowserErrorTexts(login bool) map[string]string {
	texts := make(map[string]string, len(KeyBrowserErrors))
	for name, text := range KeyBrowserErrors {
		texts[name] = text
	}
	if login {
		texts["NotAllowedError"] = "This security key is not registered for your account, or the prompt was cancelled. Try again, or use another way."
	}
	if _, origin, err := keyOrigin(s.public); s.public != "" && err == nil {
		texts["SecurityError"] = "This browser refused to use a security key for this address. Open Gatehouse at " + origin + " and try again."
	}
	return texts
}

var (
	errNoKeys       = Errorf(ECONFLICT, KeysUnavailableText)
	errBadKey       = Errorf(EUNAUTHORIZED, "Your security key was not accepted. Try again, or use another way to log in.")
	errKeyGone      = Errorf(ENOTFOUND, "That security key is not set up for this account.")
	errNoKeyStarted = Errorf(ECONFLICT, "The security key setup has expired or was replaced. Start it again.")
	errKeyUnread    = Errorf(EINVALID, "Your browser's answer from the security key could not be read. Try again.")
	errKeyRejected  = Errorf(EINVALID, "Your security key could not be registered. Try again, or use another key.")
	errKeyTaken     = Errorf(ECONFLICT, "This security key is registered already.")
)

// KeysWebPage is where a person adds a security key in a browser (the desktop console links
// to it): the Profile's key setup under the public URL, "" when the public URL is not set.
func (s *Service) KeysWebPage() string {
	if s.public == "" {
		return ""
	}
	return s.public + "/profile/two-factor/key"
}

// KeysAvailable reports whether keys can be added and used: WebAuthn binds a key to the
// server's name (the relying party ID), so the public URL must be known.
func (s *Service) KeysAvailable() bool { return keysPossible(s.public) }

// relyingParty is the library's WebAuthn for Config.PublicURL (keyOrigin): its host is the
// relying party ID and its origin the one accepted. User verification is preferred (a PIN or
// fingerprint when the key has one, a touch otherwise) and attestation none: who made the key
// is not asked, so no attestation statement identifies it.
func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	if !s.KeysAvailable() {
		return nil, errNoKeys
	}
	rpID, origin, err := keyOrigin(s.public)
	if err != nil {
		return nil, internal("public URL", err)
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         s.issuer,
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
	})
	return w, internal("webauthn", err)
}

// keyOrigin is the relying party ID and the origin of the public URL, as a browser writes them
// (the HTML standard's serialisation of an origin, which the library compares byte for byte
// with the one in the browser's answer): scheme and host in lower case, the scheme's default
// port left out, no path. The public URL is otherwise used as written (OIDC's issuer is
// compared as a string by every client, so it is not rewritten here): only WebAuthn, whose
// origin the browser writes itself, needs the canonical form.
func keyOrigin(public string) (rpID, origin string, err error) {
	u, err := url.Parse(public)
	if err != nil {
		return "", "", err
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if scheme != "https" && scheme != "http" || host == "" {
		return "", "", fmt.Errorf("%q is not an http or https URL with a host", public)
	}
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	origin = scheme + "://" + host
	if strings.Contains(host, ":") { // IPv6
		origin = scheme + "://[" + host + "]"
	}
	if port != "" {
		origin += ":" + port
	}
	return host, origin, nil
}

// keyUser is a user as the library sees one. The user handle is the account's ID (8 bytes,
// big-endian): stable, never reused (IDs are never reused), and no personal information.
type keyUser struct {
	u     *User
	creds []webauthn.Credential
}

func (k keyUser) WebAuthnID() []byte                         { return binary.BigEndian.AppendUint64(nil, uint64(k.u.ID)) }
func (k keyUser) WebAuthnName() string                       { return k.u.Username }
func (k keyUser) WebAuthnDisplayName() string                { return k.u.Name() }
func (k keyUser) WebAuthnCredentials() []webauthn.Credential { return k.creds }

// keys reads the user's credentials and their library records. The counter and the backup
// state are the columns', which UseWebAuthnCredential keeps current.
func (s *Service) keys(ctx context.Context, u *User) ([]*WebAuthnCredential, keyUser, error) {
	rows, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return nil, keyUser{}, internal("webauthn credentials", err)
	}
	k := keyUser{u: u}
	for _, r := range rows {
		var c webauthn.Credential
		if err := json.Unmarshal(r.Record, &c); err != nil {
			return nil, keyUser{}, internal("webauthn record", err)
		}
		c.Authenticator.SignCount = r.SignCount
		k.creds = append(k.creds, c)
	}
	return rows, k, nil
}

// CheckKeyName checks the name a person gives a key: 1 to MaxKeyNameLength characters, no
// control characters. It returns the name trimmed.
func CheckKeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", WithFields(Errorf(EINVALID, "Name this key. %s", KeyNameHelp), FieldKeyName)
	case utf8.RuneCountInString(name) > MaxKeyNameLength:
		return "", WithFields(Errorf(EINVALID, "A key's name is at most %d characters.", MaxKeyNameLength), FieldKeyName)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", WithFields(Errorf(EINVALID, "A key's name cannot contain control characters."), FieldKeyName)
	}
	return name, nil
}

// FieldKeyName is the form field of a key's name.
const FieldKeyName = "key_name"

// BeginKeyRegistration starts adding a security key or passkey for id (a session, from the
// Profile, with a recently confirmed password; or a login at the enroll step). It returns the
// options for navigator.credentials.create (JSON, {"publicKey": …}); the ceremony's state is
// stored for id's session or login attempt, replacing an earlier one, for keyCeremonyTTL. The
// user's keys are excluded: the browser refuses to register one twice.
func (s *Service) BeginKeyRegistration(ctx context.Context, id *Identity) (json.RawMessage, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	if err := id.requireEnroller(); err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	_, ku, err := s.keys(ctx, id.User)
	if err != nil {
		return nil, err
	}
	if len(ku.creds) >= MaxKeys { // checked again, under the row lock, when the key is added
		return nil, errTooManyKeys(len(ku.creds))
	}
	creation, sd, err := rp.BeginRegistration(ku, webauthn.WithExclusions(webauthn.Credentials(ku.creds).CredentialDescriptors()))
	if err != nil {
		return nil, internal("begin registration", err)
	}
	return s.putCeremony(ctx, id.setupOwner(), CeremonyRegistration, id.User.ID, sd, creation, keyCeremonyTTL)
}

// putCeremony stores sd for owner and returns options, the JSON for the browser.
func (s *Service) putCeremony(ctx context.Context, owner, kind string, userID int64, sd *webauthn.SessionData, options any, ttl time.Duration) (json.RawMessage, error) {
	// The store's clock decides expiry (ttl); the library's own check uses the real clock.
	sd.Expires = time.Time{}
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, internal("session data", err)
	}
	if err := s.store.PutWebAuthnCeremony(ctx, &WebAuthnCeremony{Owner: owner, Kind: kind, UserID: userID, Data: data}, ttl); err != nil {
		return nil, internal("put webauthn ceremony", err)
	}
	out, err := json.Marshal(options)
	return out, internal("webauthn options", err)
}

// takeCeremony uses owner's ceremony of the kind, once; nil if there is none for userID.
func (s *Service) takeCeremony(ctx context.Context, owner, kind string, userID int64) (*webauthn.SessionData, error) {
	c, err := s.store.TakeWebAuthnCeremony(ctx, owner, kind)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, internal("take webauthn ceremony", err)
	}
	if c.UserID != userID {
		return nil, nil
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return nil, internal("session data", err)
	}
	return &sd, nil
}

// FinishKeyRegistration completes BeginKeyRegistration with the browser's answer (the
// PublicKeyCredential as JSON) and the name the person gave the key. The ceremony is used up
// whatever the outcome. A user without Two-Factor is enrolled with the key (MethodWebAuthn),
// and gets recovery codes exactly as with the other methods (at the enroll step of a login,
// the login goes on: EnrollmentResult.Login); a user who has Two-Factor gets one more key and
// no new codes (RecoveryCodes nil).
func (s *Service) FinishKeyRegistration(ctx context.Context, id *Identity, name string, response []byte) (*EnrollmentResult, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	if err := id.requireEnroller(); err != nil {
		return nil, err
	}
	name, err := CheckKeyName(name)
	if err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		s.log.Info("security key registration: unreadable answer", "user_id", id.User.ID, "err", err)
		return nil, errKeyUnread
	}
	owner := id.setupOwner()
	sd, err := s.takeCeremony(ctx, owner, CeremonyRegistration, id.User.ID)
	if err != nil {
		return nil, err
	} else if sd == nil {
		return nil, errNoKeyStarted
	}
	_, ku, err := s.keys(ctx, id.User)
	if err != nil {
		return nil, err
	}
	cred, err := rp.CreateCredential(ku, *sd, parsed)
	if err != nil {
		s.log.Info("security key registration refused", "user_id", id.User.ID, "err", describeWebAuthnError(err))
		return nil, errKeyRejected
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return nil, internal("webauthn record", err)
	}
	k := &WebAuthnCredential{UserID: id.User.ID, CredentialID: cred.ID, Name: name, Record: record,
		SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState}
	if !id.User.Enrolled() {
		res, err := s.enable(ctx, id, Enrollment{Method: MethodWebAuthn, Key: k, Owner: owner})
		if ErrorCode(err) == ECONFLICT && err != ErrLoginEnded {
			return nil, errKeyConflict(err)
		}
		return res, err
	}
	// One more key, decided on the row as it is now, locked, not on id.User (read when the
	// request began): an administrator's Disable or Reset Two-Factor committed in between
	// leaves the account without a method, and a key added to it then would come back as a
	// working factor with the next App or SMS enrollment. Such a person is refused, not
	// enrolled with the key: the administrator has just ended their sessions, and enrolling
	// them would undo the administrator's change behind their back. Every key write locks
	// the row first (EnableWebAuthn's UPDATE, RemoveOwnKey, RemoveUserKey, ClearEnrollment's
	// UPDATE), so on PostgreSQL too they run one after another.
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		u, err := s.store.FindUserForUpdate(ctx, id.User.ID)
		if err != nil {
			return internal("find user", err)
		} else if !u.Enrolled() {
			return errKeyEnrollmentGone
		}
		// The cap, counted under the same lock as the insert: two additions racing at
		// MaxKeys-1 cannot both pass.
		rows, err := s.store.WebAuthnCredentials(ctx, u.ID)
		if err != nil {
			return internal("webauthn credentials", err)
		} else if len(rows) >= MaxKeys {
			return errTooManyKeys(len(rows))
		}
		if err := s.store.AddWebAuthnCredential(ctx, k); ErrorCode(err) == ECONFLICT {
			return errKeyTaken
		} else if err != nil {
			return internal("add webauthn credential", err)
		}
		return s.audit(ctx, AuditKeyAdded, u, u, name)
	})
	if err != nil {
		return nil, err
	}
	return &EnrollmentResult{}, nil
}

// errKeyEnrollmentGone refuses one more key to an account whose Two-Factor was turned off or
// reset since the page was shown.
var errKeyEnrollmentGone = Errorf(ECONFLICT, "Two-Factor Authentication was turned off for your account meanwhile, so this key was not added. Reload the page.")

// errTooManyKeys refuses a key beyond MaxKeys.
func errTooManyKeys(n int) error {
	return Errorf(ECONFLICT, "You have %d security keys, the most an account may have. Remove one first.", n)
}

// AddKeyRefusal is why the person of id cannot add a security key here, "" if they can: keys
// are not available on this server, or they have MaxKeys already. Front ends offer "Add a
// security key" only when it is "", and show the sentence otherwise; FinishKeyRegistration
// decides again under the row lock.
func (s *Service) AddKeyRefusal(ctx context.Context, id *Identity) (string, error) {
	if !s.KeysAvailable() {
		return KeysUnavailableText, nil
	}
	rows, err := s.store.WebAuthnCredentials(ctx, id.User.ID)
	if err != nil {
		return "", internal("webauthn credentials", err)
	} else if len(rows) >= MaxKeys {
		return ErrorMessage(errTooManyKeys(len(rows))), nil
	}
	return "", nil
}

// errKeyConflict is what EnableWebAuthn's ECONFLICT means to the person: the key is taken, or
// Two-Factor was set up meanwhile (another tab) and this page is out of date.
func errKeyConflict(err error) error {
	if ErrorMessage(err) == ErrorMessage(errKeyTaken) {
		return errKeyTaken
	}
	return Errorf(ECONFLICT, "Two-Factor Authentication was set up meanwhile, elsewhere. Reload the page.")
}

// describeWebAuthnError is the library's reason, for the log (never the person: it may say
// what a forger should change): its Type and Details only. DevInfo is left out: it carries
// what the browser sent (the challenge, the origin, the relying party), and a stranger's input
// is not logged. A *protocol.Error's Error() is Details alone, so an error wrapping one says
// no more.
func describeWebAuthnError(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Type + ": " + pe.Details
	}
	return err.Error()
}

// LoginHasKeys reports whether the user of the login attempt at StepVerify has a security key,
// to offer it first.
func (s *Service) LoginHasKeys(ctx context.Context, attemptToken string) (bool, error) {
	_, u, err := s.attempt(ctx, attemptToken, StepVerify)
	if err != nil {
		return false, err
	}
	rows, err := s.store.WebAuthnCredentials(ctx, u.ID)
	return len(rows) > 0, internal("webauthn credentials", err)
}

// BeginKeyLogin starts the second step with a security key: the options for
// navigator.credentials.get (JSON, {"publicKey": …}), allowing the user's keys. The challenge
// is stored with the login attempt, replacing an earlier one of it, until the attempt or
// keyCeremonyTTL ends, whichever is first; another attempt's challenge is never accepted.
func (s *Service) BeginKeyLogin(ctx context.Context, attemptToken string) (json.RawMessage, error) {
	a, u, err := s.attempt(ctx, attemptToken, StepVerify)
	if err != nil {
		return nil, err
	}
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	_, ku, err := s.keys(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(ku.creds) == 0 {
		return nil, Errorf(EINVALID, "No security key is set up for this account.")
	}
	assertion, sd, err := rp.BeginLogin(ku, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, internal("begin login", err)
	}
	ttl := min(keyCeremonyTTL, a.ExpiresAt.Sub(s.now()))
	return s.putCeremony(ctx, a.TokenHash, CeremonyLogin, u.ID, sd, assertion, ttl)
}

// VerifyKey is the second step with a security key: the browser's answer to BeginKeyLogin's
// challenge (the PublicKeyCredential as JSON). It is charged to the account's one failure
// counter like a code.
func (s *Service) VerifyKey(ctx context.Context, attemptToken string, response []byte) (*LoginState, error) {
	return s.verify(ctx, attemptToken, string(response), MethodWebAuthn, s.checkKey)
}

// checkKey is the secondFactor of keys. The attempt's challenge is used up first, whatever the
// outcome: an answer is checked against it once (a replayed assertion finds none). The library
// checks the signature, origin, relying party, challenge and the backup-eligible flag against
// the one stored (a key registered as not backup-eligible that says it is now fails), and only
// reports a counter that did not go up (CloneWarning): such a login is refused here, the key
// marked for the administrator and the refusal audited.
func (s *Service) checkKey(ctx context.Context, a *LoginAttempt, u *User, response string) (bool, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return false, err
	}
	sd, err := s.takeCeremony(ctx, a.TokenHash, CeremonyLogin, u.ID)
	if err != nil {
		return false, err
	} else if sd == nil {
		s.log.Info("security key login: no challenge for this attempt", "user_id", u.ID)
		return false, nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		s.log.Info("security key login: unreadable answer", "user_id", u.ID, "err", err)
		return false, nil
	}
	rows, ku, err := s.keys(ctx, u)
	if err != nil {
		return false, err
	}
	cred, err := rp.ValidateLogin(ku, *sd, parsed)
	if err != nil {
		s.log.Info("security key login refused", "user_id", u.ID, "err", describeWebAuthnError(err))
		return false, nil
	}
	var row *WebAuthnCredential
	for _, r := range rows {
		if string(r.CredentialID) == string(cred.ID) {
			row = r
		}
	}
	if row == nil {
		return false, nil
	}
	if cred.Authenticator.CloneWarning {
		// The signature counter did not go up (W3C WebAuthn §7.2 step 21): two copies of the
		// key are in use, or it was replaced. Refused; the administrator sees the warning.
		if err := s.store.MarkWebAuthnCloned(ctx, row.ID); err != nil {
			return false, internal("mark webauthn cloned", err)
		}
		s.auditBestEffort(ctx, AuditKeyCloned, nil, u, row.Name)
		return false, nil
	}
	prev := row.SignCount
	row.SignCount, row.BackupState = cred.Authenticator.SignCount, cred.Flags.BackupState
	if row.Record, err = json.Marshal(cred); err != nil {
		return false, internal("webauthn record", err)
	}
	ok, err := s.store.UseWebAuthnCredential(ctx, row.ID, prev, row)
	return ok, internal("use webauthn credential", err)
}

// SecurityKey is a key as front ends list it.
type SecurityKey struct {
	ID             int64
	Name           string
	AddedAt        time.Time
	LastUsedAt     time.Time // zero: never
	CloneWarningAt time.Time // zero: none
	Keys           int       // how many keys its owner has, this one included
}

// LastUsedText is when the key was last used to log in, in the front ends' words.
func (k SecurityKey) LastUsedText() string {
	if k.LastUsedAt.IsZero() {
		return "Never"
	}
	return FormatTime(k.LastUsedAt)
}

// AddedText is when the key was added.
func (k SecurityKey) AddedText() string { return FormatTime(k.AddedAt) }

// Warning is the administrator's warning about the key, "" if there is none.
func (k SecurityKey) Warning() string {
	if k.CloneWarningAt.IsZero() {
		return ""
	}
	return "Warning: on " + FormatTime(k.CloneWarningAt) + " this key gave a signature counter lower than before, so it may have been copied. That login was refused. Remove the key unless its owner can explain it."
}

// RenameKeyText is the lead of the page that renames key k.
func RenameKeyText(k SecurityKey) string {
	return "A new name for the security key “" + k.Name + "”. It changes nothing else: the key works as before."
}

// lastFactor reports whether removing one of n keys of u removes u's last factor: the only
// key of a person enrolled with keys (RemoveOwnKey and RemoveUserKey then end the enrollment).
func lastFactor(u *User, n int) bool { return n == 1 && u.Method == MethodWebAuthn }

// errLastKeyRequired is RemoveOwnKey's refusal of a required person's last key.
var errLastKeyRequired = Errorf(EFORBIDDEN, "Your administrator requires Two-Factor Authentication for your account, and this is your last security key or passkey, so it cannot be removed. Add another one first.")

// KeyRemoval is what removing a key means, as its confirmation page says it beforehand.
type KeyRemoval struct {
	Confirm string // the sentence: what goes, and what it does to the status
	Allowed bool   // false: the Service refuses it (Confirm then says why)
}

// DescribeKeyRemoval is the removal of u's key k by u themselves (own) or by an administrator,
// worded before the click: the last key of a person enrolled with keys takes the enrollment
// with it, which a required person may not do themselves and an administrator's page names.
func DescribeKeyRemoval(u *User, k SecurityKey, own bool) KeyRemoval {
	last := lastFactor(u, k.Keys)
	switch {
	case own && last && u.TwoFactorRequired:
		return KeyRemoval{Confirm: ErrorMessage(errLastKeyRequired)}
	case own && last:
		return KeyRemoval{Allowed: true, Confirm: "Remove the security key or passkey “" + k.Name + "”? It is your last one, so Two-Factor Authentication will be turned off for your account, and your recovery codes removed."}
	case own:
		return KeyRemoval{Allowed: true, Confirm: "Remove the security key or passkey “" + k.Name + "”? It will no longer work to log in."}
	case last && u.TwoFactorRequired:
		return KeyRemoval{Allowed: true, Confirm: "Remove the security key or passkey “" + k.Name + "” of " + u.Name() + "? It is their last one: their recovery codes go with it, and as Two-Factor Authentication stays required, their status will be " + StatusPending.Label() + ". Their sessions end now."}
	case last:
		return KeyRemoval{Allowed: true, Confirm: "Remove the security key or passkey “" + k.Name + "” of " + u.Name() + "? It is their last one: Two-Factor Authentication will be off for them, and their recovery codes removed. Their sessions end now."}
	}
	return KeyRemoval{Allowed: true, Confirm: "Remove the security key or passkey “" + k.Name + "” of " + u.Name() + "? It will no longer work to log in. Their sessions end now."}
}

// UserKeyRemovedText is the user page's status bar after an administrator removed a key,
// with u as it is now: the status, when the key was the last.
func UserKeyRemovedText(u *User) string {
	if u.Enrolled() {
		return UserKeyRemovedNotice
	}
	return "Security key or passkey removed. It was the user's last one: their status is now " + u.TwoFactorStatus().Label() + ". The user's sessions have ended."
}

func securityKeys(rows []*WebAuthnCredential) []SecurityKey {
	keys := make([]SecurityKey, 0, len(rows))
	for _, r := range rows {
		keys = append(keys, SecurityKey{ID: r.ID, Name: r.Name, AddedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, CloneWarningAt: r.CloneWarningAt, Keys: len(rows)})
	}
	return keys
}

// OwnKeys lists the signed-in user's security keys, oldest first.
func (s *Service) OwnKeys(ctx context.Context, id *Identity) ([]SecurityKey, error) {
	if err := id.requireSignedIn(); err != nil {
		return nil, err
	}
	rows, err := s.store.WebAuthnCredentials(ctx, id.User.ID)
	return securityKeys(rows), internal("webauthn credentials", err)
}

// UserKeys lists a user's security keys for an administrator.
func (s *Service) UserKeys(ctx context.Context, id *Identity, userID int64) ([]SecurityKey, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	rows, err := s.store.WebAuthnCredentials(ctx, userID)
	return securityKeys(rows), internal("webauthn credentials", err)
}

// RenameOwnKey gives one of the signed-in user's keys a new name.
func (s *Service) RenameOwnKey(ctx context.Context, id *Identity, keyID int64, name string) error {
	if err := id.requireSignedIn(); err != nil {
		return err
	}
	name, err := CheckKeyName(name)
	if err != nil {
		return err
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		// Under the user's row lock, as every key write: it waits for a removal racing it.
		if _, err := s.store.FindUserForUpdate(ctx, id.User.ID); err != nil {
			return internal("find user", err)
		}
		k, _, err := s.findKey(ctx, id.User.ID, keyID)
		if err != nil {
			return err
		}
		if err := s.store.RenameWebAuthnCredential(ctx, id.User.ID, keyID, name); err != nil {
			return internal("rename webauthn credential", err)
		}
		return s.audit(ctx, AuditKeyRenamed, id.User, id.User, k.Name+" → "+name)
	})
}

// findKey is the user's key with the ID, errKeyGone if there is none.
func (s *Service) findKey(ctx context.Context, userID, keyID int64) (*WebAuthnCredential, []*WebAuthnCredential, error) {
	rows, err := s.store.WebAuthnCredentials(ctx, userID)
	if err != nil {
		return nil, nil, internal("webauthn credentials", err)
	}
	for _, r := range rows {
		if r.ID == keyID {
			return r, rows, nil
		}
	}
	return nil, rows, errKeyGone
}

// RemoveOwnKey removes one of the signed-in user's keys, with a recently confirmed password.
// Removing the last key of a user enrolled with keys (MethodWebAuthn) removes their last
// factor, and follows DisableOwnTwoFactor's rules: refused (EFORBIDDEN) when an administrator
// requires Two-Factor, otherwise Two-Factor is off. Either way the user's other sessions end,
// in the same transaction: the key may be gone because it was lost.
func (s *Service) RemoveOwnKey(ctx context.Context, id *Identity, keyID int64) error {
	if err := s.requireRecentPassword(id); err != nil {
		return err
	}
	if err := id.requireSignedIn(); err != nil {
		return err
	}
	var u *User
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		if u, err = s.store.FindUserForUpdate(ctx, id.User.ID); err != nil {
			return internal("find user", err)
		}
		k, rows, err := s.findKey(ctx, u.ID, keyID)
		if err != nil {
			return err
		}
		if lastFactor(u, len(rows)) {
			if u.TwoFactorRequired {
				return errLastKeyRequired
			}
			if u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{ClearEnrollment: true}); err != nil {
				return internal("disable two-factor", err)
			}
			if err := s.audit(ctx, AuditTwoFactorDisabled, u, u, "last security key removed: "+k.Name); err != nil {
				return err
			}
		} else {
			if err := s.store.DeleteWebAuthnCredential(ctx, u.ID, keyID); err != nil {
				return internal("delete webauthn credential", err)
			}
			if err := s.audit(ctx, AuditKeyRemoved, u, u, k.Name); err != nil {
				return err
			}
			if u, err = s.store.FindUserForUpdate(ctx, u.ID); err != nil {
				return internal("find user", err)
			}
		}
		return internal("end other sessions", s.store.DeleteUserSessions(ctx, u.ID, id.session.TokenHash))
	})
	if err != nil {
		return err
	}
	*id.User = *u
	return nil
}

// RemoveUserKey is an administrator's removal of a user's key, with a recently confirmed
// password. The user's last key, for a user enrolled with keys, takes their enrollment with it
// as Reset Two-Factor does: the requirement stays, so a required user is "Pending setup on
// next login" again. The user's sessions end, as with every administrator's Two-Factor change.
func (s *Service) RemoveUserKey(ctx context.Context, id *Identity, userID, keyID int64) (*User, error) {
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, err
	}
	var u *User
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		if u, err = s.store.FindUserForUpdate(ctx, userID); err != nil {
			return err
		}
		k, rows, err := s.findKey(ctx, userID, keyID)
		if err != nil {
			return err
		}
		detail := k.Name
		if lastFactor(u, len(rows)) {
			if u, err = s.store.UpdateUser(ctx, userID, UserUpdate{ClearEnrollment: true, EndSessions: true}); err != nil {
				return internal("remove webauthn credential", err)
			}
			detail += "; the last one: status " + u.TwoFactorStatus().Label()
		} else {
			if err := s.store.DeleteWebAuthnCredential(ctx, userID, keyID); err != nil {
				return internal("delete webauthn credential", err)
			}
			if err := s.store.DeleteUserSessions(ctx, userID, ""); err != nil {
				return internal("end sessions", err)
			}
			if u, err = s.store.FindUserForUpdate(ctx, userID); err != nil {
				return internal("find user", err)
			}
		}
		return s.audit(ctx, AuditAdminKeyRemoved, id.actor(), u, detail)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// The key methods that change what a session or login may do go through the revoking store,
// as EnableTwoFactor does (sessioncache.go): every server forgets the user's cached sessions.

func (r *revokingStore) EnableWebAuthn(ctx context.Context, c *WebAuthnCredential, codes []RecoveryCode) error {
	return r.revoking(ctx, false, func(ctx context.Context) (int64, error) {
		return c.UserID, r.Store.EnableWebAuthn(ctx, c, codes)
	})
}

func (r *revokingStore) DeleteWebAuthnCredential(ctx context.Context, userID, id int64) error {
	return r.revoking(ctx, false, func(ctx context.Context) (int64, error) {
		return userID, r.Store.DeleteWebAuthnCredential(ctx, userID, id)
	})
}
