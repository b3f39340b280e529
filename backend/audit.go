package backend

import (
	"context"
	"fmt"
	"time"
)

// Audit actions. Every change of an account and every login outcome is recorded.
const (
	AuditLoginSuccess         = "login.success"
	AuditLoginFailure         = "login.failure"       // wrong password or unknown user
	AuditLoginThrottled       = "login.throttled"     // refused: locked or waiting
	AuditAccountLocked        = "account.locked"      // this failure locked the account
	AuditSecondFactorFailure  = "login.2fa_failure"   // a wrong code
	AuditKeyRefused           = "login.key_refused"   // a security key not accepted (secondFactorFailure)
	AuditRecoveryCodeUsed     = "login.recovery_code" // signed in with a recovery code
	AuditLogout               = "logout"              //
	AuditTwoFactorEnrolled    = "2fa.enrolled"        // detail: the method
	AuditTwoFactorDisabled    = "2fa.disabled"        // by the user themselves
	AuditRecoveryRegenerated  = "2fa.recovery_regenerated"
	AuditRecoveryCodesSaved   = "2fa.recovery_saved" // "I have saved these codes"
	AuditSMSEnrollmentStarted = "2fa.sms_started"    // an Authorization Code was shown
	AuditSMSReceived          = "2fa.sms_received"   // its text arrived; detail: the masked sender
	AuditSMSSenderRefused     = "2fa.sms_refused"    // its text came from a number no code can be sent to
	AuditSMSCodeSent          = "login.sms_sent"     // a login code was texted; detail: the masked phone
	AuditSMSCodeFailed        = "login.sms_failed"   // the text could not be sent (the cause is in the log)
	AuditSMSCodeLimited       = "login.sms_limited"  // refused: cooldown or hourly cap
	AuditPasswordChanged      = "password.changed"   // by the user
	AuditUserCreated          = "admin.user_created" // detail: role and requirement
	AuditUserUpdated          = "admin.user_updated" // detail: what changed
	AuditPasswordSet          = "admin.password_set" // an admin set a user's password
	AuditRequireTwoFactor     = "admin.2fa_required" //
	AuditDisableTwoFactor     = "admin.2fa_disabled" // requirement and enrollment cleared
	AuditResetTwoFactor       = "admin.2fa_reset"    // enrollment cleared, requirement kept
	AuditUnlock               = "admin.unlocked"     // an admin lifted a lock

	// An administrator's changes of applications (backend/application.go); the target is
	// the application, by name.
	AuditAppCreated           = "app.created"             // detail: client ID, type, audience, requirement
	AuditAppUpdated           = "app.updated"             // detail: what changed
	AuditAppSecretRegenerated = "app.secret_regenerated"  // detail: client ID
	AuditAppDeleted           = "app.deleted"             // detail: client ID
	AuditSigningKeyRotated    = "app.signing_key_rotated" // the OpenID Connect signing key; detail: the new key's ID

	// Sign-ins to applications (backend/oidc_authorize.go): the actor is the person, the
	// target the application.
	AuditSSOSignIn          = "sso.signin"           // detail: how the session was proven (amr)
	AuditSSORefused         = "sso.refused"          // not in the app's audience
	AuditSSORefreshReplayed = "sso.refresh_replayed" // a used refresh token again: its family revoked
	AuditSSOCodeReplayed    = "sso.code_replayed"    // a used authorization code again: its tokens revoked

	// Back-channel logout (backend/logout_delivery.go): the person whose session ended, the
	// application told; detail: the session's sid (and, given up, the last failure).
	AuditLogoutDelivered = "sso.logout_delivered"
	AuditLogoutGivenUp   = "sso.logout_given_up"

	// `gatehouse database copy` (backend/storecopy), in the database copied into, by "cli";
	// detail: the SQLite file and the rows of each table.
	AuditDatabaseCopied = "database.copied"
)

// auditActionText is what each action reads as, for people: both front ends show these words in
// the audit log instead of the identifiers. TestAuditActionText checks every action has one.
var auditActionText = map[string]string{
	AuditLoginSuccess:         "Logged in",
	AuditLoginFailure:         "Login failed",
	AuditLoginThrottled:       "Login refused: too many attempts",
	AuditAccountLocked:        "Account locked",
	AuditSecondFactorFailure:  "Wrong Two-Factor code",
	AuditKeyRefused:           "Security key not accepted",
	AuditRecoveryCodeUsed:     "Logged in with a recovery code",
	AuditLogout:               "Logged out",
	AuditTwoFactorEnrolled:    "Two-Factor set up",
	AuditTwoFactorDisabled:    "Two-Factor disabled by the user",
	AuditRecoveryRegenerated:  "Recovery codes regenerated",
	AuditRecoveryCodesSaved:   "Recovery codes saved by the user",
	AuditSMSEnrollmentStarted: "SMS setup started",
	AuditSMSReceived:          "Authorization Code text received",
	AuditSMSSenderRefused:     "Authorization Code text refused: not from a phone that can get codes",
	AuditSMSCodeSent:          "Login code sent by text",
	AuditSMSCodeFailed:        "Login code text not sent",
	AuditSMSCodeLimited:       "Login code text refused: too many requests",
	AuditPasswordChanged:      "Password changed by the user",
	AuditUserCreated:          "User created",
	AuditUserUpdated:          "User edited",
	AuditPasswordSet:          "Password set by an administrator",
	AuditRequireTwoFactor:     "Two-Factor required by an administrator",
	AuditDisableTwoFactor:     "Two-Factor disabled by an administrator",
	AuditResetTwoFactor:       "Two-Factor reset by an administrator",
	AuditUnlock:               "Account unlocked by an administrator",
	AuditAppCreated:           "Application created",
	AuditAppUpdated:           "Application edited",
	AuditAppSecretRegenerated: "Application's client secret regenerated",
	AuditAppDeleted:           "Application deleted",
	AuditSigningKeyRotated:    "Sign-in signing key rotated",
	AuditSSOSignIn:            "Signed in to an application",
	AuditSSORefused:           "Sign-in to an application refused: no access",
	AuditSSORefreshReplayed:   "Application token replayed: its tokens revoked",
	AuditSSOCodeReplayed:      "Authorization code replayed: its tokens revoked",
	AuditLogoutDelivered:      "Application told of a logout (back-channel)",
	AuditLogoutGivenUp:        "Back-channel logout given up: the application did not answer",
	AuditDatabaseCopied:       "Installation copied from SQLite",
}

// secondFactorFailure is the audit action of a second factor refused at login by method m:
// a key is not a code anyone got wrong, so its refusal reads as its own.
func secondFactorFailure(m Method) string {
	if m == MethodWebAuthn {
		return AuditKeyRefused
	}
	return AuditSecondFactorFailure
}

// AuditActionText returns an audit action in plain words ("Two-Factor disabled by an
// administrator" for AuditDisableTwoFactor); an action it does not know, as it is.
func AuditActionText(action string) string {
	if t, ok := auditActionText[action]; ok {
		return t
	}
	return action
}

// AuditKind is one choice of the audit log's filter: Key is what a front end sends as
// AuditFilter.Action (the URL's ?action=, the console's query), Label what people read, Actions
// the actions it takes in (each exact, or a prefix ending in ".").
type AuditKind struct {
	Key, Label string
	Actions    []string
}

// AuditKinds are the audit log filter's choices, in the order front ends offer them. "Account
// locks and unlocks" takes in the administrator's Unlock with the locks: whoever looks for a
// lock wants to know whether it was lifted. "Administration" takes in the changes of
// applications, which are administrators' too, and "Applications" offers them alone.
var AuditKinds = []AuditKind{
	{"", "All events", nil},
	{"login.", "Logins", []string{"login."}},
	{"2fa.", "Two-Factor changes by users", []string{"2fa."}},
	{"admin.", "Administration", []string{"admin.", "app."}},
	{"app.", "Applications", []string{"app."}},
	{"sso.", "Sign-ins to applications", []string{"sso."}},
	{"password.", "Password changes", []string{"password."}},
	{"account.", "Account locks and unlocks", []string{"account.", AuditUnlock}},
	{AuditLogout, "Log outs", []string{AuditLogout}},
}

// auditKind is the kind whose key is key.
func auditKind(key string) (AuditKind, bool) {
	for _, k := range AuditKinds {
		if k.Key == key {
			return k, true
		}
	}
	return AuditKind{}, false
}

// TimeLayout is how front ends write a time, everywhere: to the second, in UTC, in one format
// (the audit log, a user's page, the recovery-code sheet).
const TimeLayout = "2006-01-02 15:04:05 MST"

// FormatTime writes t as every front end shows it (TimeLayout).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// AuditPage is one page of the audit log.
type AuditPage struct {
	Events []*AuditEvent
	Total  int
	Offset int
	Limit  int
}

// audit records the event of a change, as part of it: called inside the change's
// Atomically transaction, its error fails the change, which then rolls back. A change and its
// record commit together or not at all, so the log never misses a change that was made, nor
// names one that was not. actor and target may be nil. Names and detail are cut to
// maxAuditText, whatever the caller passes: no one can grow the log by more than that an event.
func (s *Service) audit(ctx context.Context, action string, actor, target *User, detail string) error {
	return s.auditEvent(ctx, action, actor, target, "", detail)
}

// auditEvent is audit with an application as (or beside) the target: app is its name, "" for
// none. An application is never recorded as a user: the log's User column and its username
// filter are about accounts.
func (s *Service) auditEvent(ctx context.Context, action string, actor, target *User, app, detail string) error {
	e := &AuditEvent{Action: action, Detail: clip(detail, maxAuditText), IP: ClientFrom(ctx).IP, TargetApp: clip(app, maxAuditText)}
	if actor != nil {
		e.ActorID, e.ActorName = actor.ID, clip(actor.Username, maxAuditText)
	}
	if target != nil {
		e.TargetID, e.TargetName = target.ID, clip(target.Username, maxAuditText)
	}
	if err := s.store.AddAuditEvent(context.WithoutCancel(ctx), e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// auditBestEffort records an event that is not part of a change: a refusal (a wrong password
// or code, a throttled attempt, the lock it caused), a text sent or not sent, a logout. A
// failure to record is logged, not returned. A refusal is the answer whether or not it was
// recorded: a failing audit insert must not turn "wrong password" into an internal error,
// which would tell a guesser which guesses reached the check and roll back the failure count
// with the step's transaction, so a broken log would lift the throttle. Nor can a record
// unsend a text or keep open a session someone asked to end. Where the refusal counts a
// failure it is still recorded inside the transaction that counts it, so both normally commit
// together; a store that lost the whole transaction fails its commit, and the step with it.
func (s *Service) auditBestEffort(ctx context.Context, action string, actor, target *User, detail string) {
	if err := s.audit(ctx, action, actor, target, detail); err != nil {
		s.log.Error("audit event not recorded", "action", action, "err", err)
	}
}

// throttledAuditEvery is how often a refusal of a throttled or locked login is audited, at
// most, per account.
const throttledAuditEvery = time.Minute

// auditThrottled records a login refused because the account waits or is locked (or an
// unknown name does: those share one target), unless one was recorded for the same target in
// the last throttledAuditEvery. Each refusal used to be a row, kept for the audit log's
// retention: one address flooding a locked account wrote rows without limit (H1). The lock
// itself is audited when it happens (AuditAccountLocked); these rows only say that someone
// kept trying. Two servers, or two refusals at once, may both find none and both record one:
// still a few a minute, and no state outside the store.
func (s *Service) auditThrottled(ctx context.Context, target *User, detail string) {
	recent, _, err := s.store.FindAuditEvents(ctx, AuditFilter{
		Action: AuditLoginThrottled, Username: target.Username, Since: s.now().Add(-throttledAuditEvery), Limit: 1,
	})
	if err != nil {
		s.log.Error("find recent throttled logins", "err", err)
	} else if len(recent) > 0 {
		return
	}
	s.auditBestEffort(ctx, AuditLoginThrottled, nil, target, detail)
}

// AuditLog returns one page of the audit log. Administrators only.
func (s *Service) AuditLog(ctx context.Context, id *Identity, f AuditFilter) (*AuditPage, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	f.Limit = pageLimit(f.Limit)
	if k, ok := auditKind(f.Action); ok && f.Action != "" {
		f.Action, f.Actions = "", k.Actions
	}
	events, total, err := s.store.FindAuditEvents(ctx, f)
	if err != nil {
		return nil, internal("audit log", err)
	}
	return &AuditPage{Events: events, Total: total, Offset: f.Offset, Limit: f.Limit}, nil
}

// pageLimit bounds a requested page size.
func pageLimit(n int) int {
	if n <= 0 || n > 500 {
		return DefaultPageSize
	}
	return n
}
