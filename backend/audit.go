package backend

import (
	"context"
)

// Audit actions. Every change of an account and every login outcome is recorded.
const (
	AuditLoginSuccess         = "login.success"
	AuditLoginFailure         = "login.failure"       // wrong password or unknown user
	AuditLoginThrottled       = "login.throttled"     // refused: locked or waiting
	AuditAccountLocked        = "account.locked"      // this failure locked the account
	AuditSecondFactorFailure  = "login.2fa_failure"   // a wrong code
	AuditRecoveryCodeUsed     = "login.recovery_code" // signed in with a recovery code
	AuditLogout               = "logout"              //
	AuditTwoFactorEnrolled    = "2fa.enrolled"        // detail: the method
	AuditTwoFactorDisabled    = "2fa.disabled"        // by the user themselves
	AuditRecoveryRegenerated  = "2fa.recovery_regenerated"
	AuditSMSEnrollmentStarted = "2fa.sms_started"    // an Authorization Code was shown
	AuditSMSReceived          = "2fa.sms_received"   // its text arrived; detail: the masked sender
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
)

// auditActionText is what each action reads as, for people: both front ends show these words in
// the audit log instead of the identifiers. TestAuditActionText checks every action has one.
var auditActionText = map[string]string{
	AuditLoginSuccess:         "Logged in",
	AuditLoginFailure:         "Login failed",
	AuditLoginThrottled:       "Login refused: too many attempts",
	AuditAccountLocked:        "Account locked",
	AuditSecondFactorFailure:  "Wrong Two-Factor code",
	AuditRecoveryCodeUsed:     "Logged in with a recovery code",
	AuditLogout:               "Logged out",
	AuditTwoFactorEnrolled:    "Two-Factor set up",
	AuditTwoFactorDisabled:    "Two-Factor disabled by the user",
	AuditRecoveryRegenerated:  "Recovery codes regenerated",
	AuditSMSEnrollmentStarted: "SMS setup started",
	AuditSMSReceived:          "Authorization Code text received",
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
}

// AuditActionText returns an audit action in plain words ("Two-Factor disabled by an
// administrator" for AuditDisableTwoFactor); an action it does not know, as it is.
func AuditActionText(action string) string {
	if t, ok := auditActionText[action]; ok {
		return t
	}
	return action
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Events []*AuditEvent
	Total  int
	Offset int
	Limit  int
}

// audit records an event. actor and target may be nil. Names and detail are cut to
// maxAuditText, whatever the caller passes: no one can grow the log by more than that an
// event. A failure to record is logged, not
// returned: the action it describes has already happened.
func (s *Service) audit(ctx context.Context, action string, actor, target *User, detail string) {
	e := &AuditEvent{Action: action, Detail: clip(detail, maxAuditText), IP: ClientFrom(ctx).IP}
	if actor != nil {
		e.ActorID, e.ActorName = actor.ID, clip(actor.Username, maxAuditText)
	}
	if target != nil {
		e.TargetID, e.TargetName = target.ID, clip(target.Username, maxAuditText)
	}
	if err := s.store.AddAuditEvent(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit event not recorded", "action", action, "err", err)
	}
}

// AuditLog returns one page of the audit log. Administrators only.
func (s *Service) AuditLog(ctx context.Context, id *Identity, f AuditFilter) (*AuditPage, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	f.Limit = pageLimit(f.Limit)
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
