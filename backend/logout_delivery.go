package backend

import (
	"context"
	"fmt"
	"time"
)

// OpenID Connect Back-Channel Logout 1.0 (issue 13, "Sessions end everywhere"): the rules.
// When a Gatehouse session ends, every application it signed in to that registered a
// back-channel logout URI is sent a signed logout token naming the session (sid), so the
// application ends its own session of the person too. backend/sso builds, signs and POSTs the
// tokens; what is owed, to whom, when to try again and when to give up is decided here.
//
// Which applications. A session "signed in to" an application when the application exchanged
// an authorization code for it (ExchangeCode): it then holds an ID token with the session's
// sid. That exchange records a row (Store.RecordSessionApp) that lives as long as the session,
// whatever happens to the tokens (access tokens expire in minutes, an app need not ask for a
// refresh token); the authorization requests and tokens are purged too early to say later.
//
// When. Every store method that ends sessions goes through revokingStore (sessioncache.go),
// which records a revocation for the session cache in the same transaction; beside it, in the
// same transaction, the same wrapper calls Store.QueueLogoutDeliveries, which makes due the
// user's rows whose session is gone: a logout, an administrator's Disable, Two-Factor disabled
// or reset, a password set (ending other sessions), DeleteUserSessions. Sessions that expire
// are purged by DeleteExpired; PurgeExpired queues theirs in the purge's transaction, so an
// expired session's applications are told too. The rule "a row whose session is gone is owed"
// is the one place: a new way of ending sessions that goes through the store is covered once
// it is in revokingStore's list, and the purge catches any other.
//
// Delivery. Any server sends (rows and signing keys are in the store): it claims due rows
// under a lease, POSTs, and finishes each with its outcome, only while its lease holds. A 2xx
// answer is delivered; anything else is tried again after 1 s, 2 s, 4 s … at most an hour
// apart, and given up 24 hours after the session ended. Both ends are audited; the token never
// is (it is a credential for the application's logout endpoint until it expires).
//
// SSRF: the URIs are set by administrators only (CreateApp, UpdateApp: https, or http on
// loopback), and the sender follows no redirect and reads at most a few KiB of an answer.

const (
	LogoutTokenTTL     = 2 * time.Minute  // a logout token's exp: long enough for a slow receiver, short as the spec advises
	LogoutSendTimeout  = 5 * time.Second  // one POST, connect to last byte
	LogoutGiveUpAfter  = 24 * time.Hour   // after the session ended
	logoutFirstRetry   = time.Second      // after the first failure; doubled after each
	logoutMaxRetry     = time.Hour        // the longest wait between tries
	logoutLease        = 30 * time.Second // a claim; longer than LogoutSendTimeout with room to finish
	logoutBatch        = 20               // rows one claim takes
	logoutFailureLimit = 200              // bytes of a failure kept for the application's page
)

// SessionApp is a session that signed in to an application.
type SessionApp struct {
	SessionHash string
	SID         string
	AppID       int64
	UserID      int64
}

// LogoutDelivery is a logout token owed to an application, as claimed for sending.
type LogoutDelivery struct {
	ID        int64
	AppID     int64
	ClientID  string // the token's aud
	AppName   string // for the audit log
	URI       string // the application's back-channel logout URI, as it is now
	UserID    int64  // the token's sub is Subject(UserID)
	SID       string // the ended session's sid
	EndedAt   time.Time
	Tries     int // failed tries so far
	LastError string
}

// LogoutOutcome is what became of one try.
type LogoutOutcome struct {
	Delivered bool      // the application answered 2xx: the row goes
	GiveUp    bool      // tried for LogoutGiveUpAfter: the row goes
	RetryAt   time.Time // neither: the next try
	Failure   string    // why it failed (an HTTP status or a network error), for the application's page
}

// LogoutStatus is an application's deliveries, for its page.
type LogoutStatus struct {
	Pending     int       // logouts due and not yet delivered
	DeliveredAt time.Time // the last one delivered (zero: none yet)
	FailedAt    time.Time // the last failed try (zero: none)
	Failure     string    // why that try failed
	GivenUpAt   time.Time // the last one given up (zero: none)
}

// LogoutNoURI is the failure of a delivery whose application no longer has a back-channel
// logout URI: it is given up at once.
const LogoutNoURI = "the application has no back-channel logout URI any more"

// LogoutBackoff is how long to wait after the tries-th failed try (1 for the first): 1 s,
// 2 s, 4 s … at most an hour.
func LogoutBackoff(tries int) time.Duration {
	if tries < 1 {
		tries = 1
	}
	if tries > 13 { // 2^12 s > 1 h already; keeps the shift small
		return logoutMaxRetry
	}
	return min(logoutFirstRetry<<(tries-1), logoutMaxRetry)
}

// recordSessionApp notes that the session signed in to the application, in the transaction
// ctx carries (ExchangeCode's).
func (s *Service) recordSessionApp(ctx context.Context, r *AuthRequest) error {
	err := s.store.RecordSessionApp(ctx, SessionApp{SessionHash: r.OwnerHash, SID: r.SID, AppID: r.AppID, UserID: r.UserID})
	return internal("record session application", err)
}

// ClaimLogoutDeliveries leases the logout tokens due now, at most a batch, to this caller:
// lease names the claim (FinishLogoutDelivery needs it), none other sends them until the
// lease ends. Only servers call it (backend/sso's sender).
func (s *Service) ClaimLogoutDeliveries(ctx context.Context) (lease string, ds []*LogoutDelivery, err error) {
	lease = randomHex(16)
	ds, err = s.store.ClaimLogoutDeliveries(ctx, lease, logoutLease, logoutBatch)
	if err != nil {
		return "", nil, internal("claim logout deliveries", err)
	}
	return lease, ds, nil
}

// FinishLogoutDelivery records the outcome of sending d: failure "" is delivered, anything
// else a failed try (to be tried again, or given up 24 hours after the session ended). The
// outcome and its audit event are one transaction. A claim that lost its lease (the server
// was too slow and another took the row) records nothing.
func (s *Service) FinishLogoutDelivery(ctx context.Context, lease string, d *LogoutDelivery, failure string) error {
	now := s.now()
	o := LogoutOutcome{Delivered: failure == ""}
	action, detail := AuditLogoutDelivered, "sid "+d.SID
	if !o.Delivered {
		if len(failure) > logoutFailureLimit {
			failure = failure[:logoutFailureLimit]
		}
		o.Failure = failure
		if now.Sub(d.EndedAt) >= LogoutGiveUpAfter || d.URI == "" {
			o.GiveUp = true
			action = AuditLogoutGivenUp
			detail = fmt.Sprintf("sid %s: given up after %s, the last: %s", d.SID, plural(d.Tries+1, "try", "tries"), failure)
		} else {
			o.RetryAt = now.Add(LogoutBackoff(d.Tries + 1))
		}
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		ok, err := s.store.FinishLogoutDelivery(ctx, d.ID, lease, o)
		if err != nil {
			return internal("finish logout delivery", err)
		}
		if !ok || (!o.Delivered && !o.GiveUp) {
			return nil // a failed try that will be tried again is on the app's page, not in the log
		}
		u := &User{ID: d.UserID, Username: s.username(ctx, d.UserID)}
		return s.auditEvent(ctx, action, u, u, d.AppName, detail)
	})
}

// AppLogoutStatus returns the application's back-channel logout deliveries. Administrators
// only; ENOTFOUND if there is no such application.
func (s *Service) AppLogoutStatus(ctx context.Context, id *Identity, appID int64) (*LogoutStatus, error) {
	if _, err := s.App(ctx, id, appID); err != nil {
		return nil, err
	}
	st, err := s.store.LogoutDeliveryStatus(ctx, appID)
	return st, internal("logout delivery status", err)
}

// Text says the deliveries in a sentence, for the application's page (web and console):
// whether logouts are waiting, and the last failure while any are.
func (st *LogoutStatus) Text(a *App) string {
	when := FormatTime // as every time on the pages
	switch {
	case a.BackchannelLogoutURI == "":
		return "Not used: this application has no back-channel logout URI."
	case st.Pending > 0 && !st.FailedAt.IsZero() && st.FailedAt.After(st.DeliveredAt):
		return fmt.Sprintf("%s waiting. The last try failed at %s: %s. Gatehouse tries again, for up to 24 hours after each session ended.",
			plural(st.Pending, "logout", "logouts"), when(st.FailedAt), st.Failure)
	case st.Pending > 0:
		return fmt.Sprintf("%s waiting to be sent.", plural(st.Pending, "logout", "logouts"))
	case !st.GivenUpAt.IsZero() && st.GivenUpAt.After(st.DeliveredAt):
		return fmt.Sprintf("The last logout was given up at %s after 24 hours of failures (the last: %s).", when(st.GivenUpAt), st.Failure)
	case !st.DeliveredAt.IsZero():
		return "Every logout delivered; the last at " + when(st.DeliveredAt) + "."
	}
	return "No logout sent yet."
}

// plural is "1 logout" or "3 logouts".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
