package backendtest

import (
	"context"
	"sync/atomic"
	"time"

	"gatehouse/backend"
)

// CountingStore passes every call to Store and counts them: Writes counts the calls of the
// methods that may write (every method but the reads: Find…, Count…, Ping, KeyCheck and the
// other lookups; Atomically itself is not counted, what runs inside it is), Reads the others.
// A test that some path writes nothing (the forward-auth check) wraps the Service's store in
// one (WithConfig).
type CountingStore struct {
	backend.Store
	Writes atomic.Int64
	Reads  atomic.Int64
}

var _ backend.Store = (*CountingStore)(nil)

// Atomically runs fn in the store's transaction; the calls inside are counted.
func (cs *CountingStore) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	return cs.Store.Atomically(ctx, fn)
}

func (cs *CountingStore) Ping(ctx context.Context) error {
	cs.Reads.Add(1)
	return cs.Store.Ping(ctx)
}

func (cs *CountingStore) CreateUser(ctx context.Context, u *backend.User, passwordHash string) error {
	cs.Writes.Add(1)
	return cs.Store.CreateUser(ctx, u, passwordHash)
}

func (cs *CountingStore) SeedUsers(ctx context.Context, users []*backend.User, passwordHash string) error {
	cs.Writes.Add(1)
	return cs.Store.SeedUsers(ctx, users, passwordHash)
}

func (cs *CountingStore) FindUserByID(ctx context.Context, id int64) (*backend.User, error) {
	cs.Reads.Add(1)
	return cs.Store.FindUserByID(ctx, id)
}

func (cs *CountingStore) FindUserForUpdate(ctx context.Context, id int64) (*backend.User, error) {
	cs.Reads.Add(1)
	return cs.Store.FindUserForUpdate(ctx, id)
}

func (cs *CountingStore) FindUserByUsername(ctx context.Context, username string) (*backend.User, error) {
	cs.Reads.Add(1)
	return cs.Store.FindUserByUsername(ctx, username)
}

func (cs *CountingStore) FindUsers(ctx context.Context, f backend.UserFilter) ([]*backend.User, int, error) {
	cs.Reads.Add(1)
	return cs.Store.FindUsers(ctx, f)
}

func (cs *CountingStore) CountUsersByStatus(ctx context.Context) (backend.StatusCounts, error) {
	cs.Reads.Add(1)
	return cs.Store.CountUsersByStatus(ctx)
}

func (cs *CountingStore) CountEnabledAdmins(ctx context.Context) (int, error) {
	cs.Reads.Add(1)
	return cs.Store.CountEnabledAdmins(ctx)
}

func (cs *CountingStore) UpdateUser(ctx context.Context, id int64, upd backend.UserUpdate) (*backend.User, error) {
	cs.Writes.Add(1)
	return cs.Store.UpdateUser(ctx, id, upd)
}

func (cs *CountingStore) PasswordHash(ctx context.Context, userID int64) (string, error) {
	cs.Reads.Add(1)
	return cs.Store.PasswordHash(ctx, userID)
}

func (cs *CountingStore) SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, endSessionsExcept *string) error {
	cs.Writes.Add(1)
	return cs.Store.SetPassword(ctx, userID, hash, mustChange, endSessionsExcept)
}

func (cs *CountingStore) UpdateFailures(ctx context.Context, userID int64, fn func(f *backend.Failures, now time.Time) error) error {
	cs.Writes.Add(1)
	return cs.Store.UpdateFailures(ctx, userID, fn)
}

func (cs *CountingStore) UpdateUnknownFailures(ctx context.Context, nameHash string, fn func(f *backend.Failures, now time.Time) error) error {
	cs.Writes.Add(1)
	return cs.Store.UpdateUnknownFailures(ctx, nameHash, fn)
}

func (cs *CountingStore) BeginAppEnrollment(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.PendingAppEnrollment, error) {
	cs.Writes.Add(1)
	return cs.Store.BeginAppEnrollment(ctx, owner, userID, sealed, ttl)
}

func (cs *CountingStore) FindAppEnrollment(ctx context.Context, owner string) (*backend.PendingAppEnrollment, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAppEnrollment(ctx, owner)
}

func (cs *CountingStore) TOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	cs.Reads.Add(1)
	return cs.Store.TOTPSecret(ctx, userID)
}

func (cs *CountingStore) EnableTwoFactor(ctx context.Context, userID int64, e backend.Enrollment, codes []backend.RecoveryCode) error {
	cs.Writes.Add(1)
	return cs.Store.EnableTwoFactor(ctx, userID, e, codes)
}

func (cs *CountingStore) ConsumeTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.ConsumeTOTPStep(ctx, userID, step)
}

func (cs *CountingStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []backend.RecoveryCode) error {
	cs.Writes.Add(1)
	return cs.Store.ReplaceRecoveryCodes(ctx, userID, codes)
}

func (cs *CountingStore) RecoveryCodes(ctx context.Context, userID int64) ([]backend.RecoveryCode, error) {
	cs.Reads.Add(1)
	return cs.Store.RecoveryCodes(ctx, userID)
}

func (cs *CountingStore) UseRecoveryCode(ctx context.Context, codeID int64) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.UseRecoveryCode(ctx, codeID)
}

func (cs *CountingStore) PutRecoverySheet(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.RecoverySheet, error) {
	cs.Writes.Add(1)
	return cs.Store.PutRecoverySheet(ctx, owner, userID, sealed, ttl)
}

func (cs *CountingStore) FindRecoverySheet(ctx context.Context, owner string) (*backend.RecoverySheet, error) {
	cs.Reads.Add(1)
	return cs.Store.FindRecoverySheet(ctx, owner)
}

func (cs *CountingStore) MoveRecoverySheet(ctx context.Context, owner, newOwner string, sealed []byte) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.MoveRecoverySheet(ctx, owner, newOwner, sealed)
}

func (cs *CountingStore) DeleteRecoverySheet(ctx context.Context, owner string) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.DeleteRecoverySheet(ctx, owner)
}

func (cs *CountingStore) DeleteOwned(ctx context.Context, owner string) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteOwned(ctx, owner)
}

func (cs *CountingStore) CreateLoginAttempt(ctx context.Context, a *backend.LoginAttempt) error {
	cs.Writes.Add(1)
	return cs.Store.CreateLoginAttempt(ctx, a)
}

func (cs *CountingStore) FindLoginAttempt(ctx context.Context, tokenHash string) (*backend.LoginAttempt, error) {
	cs.Reads.Add(1)
	return cs.Store.FindLoginAttempt(ctx, tokenHash)
}

func (cs *CountingStore) ReplaceLoginAttempt(ctx context.Context, oldTokenHash string, a *backend.LoginAttempt) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.ReplaceLoginAttempt(ctx, oldTokenHash, a)
}

func (cs *CountingStore) DeleteLoginAttempt(ctx context.Context, tokenHash string) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteLoginAttempt(ctx, tokenHash)
}

func (cs *CountingStore) CompleteLogin(ctx context.Context, attemptTokenHash string, s *backend.Session) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.CompleteLogin(ctx, attemptTokenHash, s)
}

func (cs *CountingStore) CreateSession(ctx context.Context, s *backend.Session) error {
	cs.Writes.Add(1)
	return cs.Store.CreateSession(ctx, s)
}

func (cs *CountingStore) FindSession(ctx context.Context, tokenHash string) (*backend.Session, *backend.User, error) {
	cs.Reads.Add(1)
	return cs.Store.FindSession(ctx, tokenHash)
}

func (cs *CountingStore) TouchSession(ctx context.Context, tokenHash string) error {
	cs.Writes.Add(1)
	return cs.Store.TouchSession(ctx, tokenHash)
}

func (cs *CountingStore) SetSessionReauth(ctx context.Context, tokenHash string) error {
	cs.Writes.Add(1)
	return cs.Store.SetSessionReauth(ctx, tokenHash)
}

func (cs *CountingStore) DeleteSession(ctx context.Context, tokenHash string) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteSession(ctx, tokenHash)
}

func (cs *CountingStore) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteUserSessions(ctx, userID, except)
}

func (cs *CountingStore) DeleteExpired(ctx context.Context, idleBefore, createdBefore, attemptsBefore time.Time) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteExpired(ctx, idleBefore, createdBefore, attemptsBefore)
}

func (cs *CountingStore) PutFlash(ctx context.Context, tokenHash, sessionHash, notice string, ttl time.Duration) error {
	cs.Writes.Add(1)
	return cs.Store.PutFlash(ctx, tokenHash, sessionHash, notice, ttl)
}

func (cs *CountingStore) TakeFlash(ctx context.Context, tokenHash, sessionHash string) (notice string, ok bool, err error) {
	cs.Writes.Add(1)
	return cs.Store.TakeFlash(ctx, tokenHash, sessionHash)
}

func (cs *CountingStore) BeginSMSEnrollment(ctx context.Context, owner string, userID int64, codeHash string, sealedCode []byte, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	cs.Writes.Add(1)
	return cs.Store.BeginSMSEnrollment(ctx, owner, userID, codeHash, sealedCode, ttl)
}

func (cs *CountingStore) AttachSMSPhone(ctx context.Context, codeHash, phone string, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	cs.Writes.Add(1)
	return cs.Store.AttachSMSPhone(ctx, codeHash, phone, ttl)
}

func (cs *CountingStore) RefuseSMSSender(ctx context.Context, codeHash string) (*backend.PendingSMSEnrollment, error) {
	cs.Writes.Add(1)
	return cs.Store.RefuseSMSSender(ctx, codeHash)
}

func (cs *CountingStore) FindSMSEnrollment(ctx context.Context, owner string) (*backend.PendingSMSEnrollment, error) {
	cs.Reads.Add(1)
	return cs.Store.FindSMSEnrollment(ctx, owner)
}

func (cs *CountingStore) RecordInboundSMS(ctx context.Context, messageSID, sender string, window time.Duration) (fresh bool, recent int, err error) {
	cs.Writes.Add(1)
	return cs.Store.RecordInboundSMS(ctx, messageSID, sender, window)
}

func (cs *CountingStore) ReserveSMSCode(ctx context.Context, c *backend.SMSCode, ttl, cooldown time.Duration, perHour int) (retryAt time.Time, err error) {
	cs.Writes.Add(1)
	return cs.Store.ReserveSMSCode(ctx, c, ttl, cooldown, perHour)
}

func (cs *CountingStore) DeleteSMSCode(ctx context.Context, id int64) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteSMSCode(ctx, id)
}

func (cs *CountingStore) SMSCodeWaiting(ctx context.Context, attemptHash string) (bool, error) {
	cs.Reads.Add(1)
	return cs.Store.SMSCodeWaiting(ctx, attemptHash)
}

func (cs *CountingStore) LatestSMSCode(ctx context.Context, attemptHash string) (*backend.SMSCode, error) {
	cs.Reads.Add(1)
	return cs.Store.LatestSMSCode(ctx, attemptHash)
}

func (cs *CountingStore) ConsumeSMSCode(ctx context.Context, attemptHash, codeHash string) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.ConsumeSMSCode(ctx, attemptHash, codeHash)
}

func (cs *CountingStore) DeleteExpiredSMS(ctx context.Context, before time.Time) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteExpiredSMS(ctx, before)
}

func (cs *CountingStore) AddSetupLink(ctx context.Context, tokenHash string, ttl time.Duration, keep int) (time.Time, error) {
	cs.Writes.Add(1)
	return cs.Store.AddSetupLink(ctx, tokenHash, ttl, keep)
}

func (cs *CountingStore) DeleteSetupLinks(ctx context.Context) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteSetupLinks(ctx)
}

func (cs *CountingStore) SetupLinkValid(ctx context.Context, tokenHash string) (bool, error) {
	cs.Reads.Add(1)
	return cs.Store.SetupLinkValid(ctx, tokenHash)
}

func (cs *CountingStore) UseSetupLink(ctx context.Context, tokenHash string) (bool, error) {
	cs.Writes.Add(1)
	return cs.Store.UseSetupLink(ctx, tokenHash)
}

func (cs *CountingStore) KeyCheck(ctx context.Context, check []byte) ([]byte, error) {
	cs.Reads.Add(1)
	return cs.Store.KeyCheck(ctx, check)
}

func (cs *CountingStore) AddAuditEvent(ctx context.Context, e *backend.AuditEvent) error {
	cs.Writes.Add(1)
	return cs.Store.AddAuditEvent(ctx, e)
}

func (cs *CountingStore) FindAuditEvents(ctx context.Context, f backend.AuditFilter) ([]*backend.AuditEvent, int, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAuditEvents(ctx, f)
}

func (cs *CountingStore) DeleteAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	cs.Writes.Add(1)
	return cs.Store.DeleteAuditEvents(ctx, before)
}

func (cs *CountingStore) CreateApp(ctx context.Context, a *backend.App) error {
	cs.Writes.Add(1)
	return cs.Store.CreateApp(ctx, a)
}

func (cs *CountingStore) FindAppByID(ctx context.Context, id int64) (*backend.App, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAppByID(ctx, id)
}

func (cs *CountingStore) FindAppForUpdate(ctx context.Context, id int64) (*backend.App, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAppForUpdate(ctx, id)
}

func (cs *CountingStore) FindAppByClientID(ctx context.Context, clientID string) (*backend.App, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAppByClientID(ctx, clientID)
}

func (cs *CountingStore) FindAppByName(ctx context.Context, name string) (*backend.App, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAppByName(ctx, name)
}

func (cs *CountingStore) FindApps(ctx context.Context, f backend.AppFilter) ([]*backend.App, int, error) {
	cs.Reads.Add(1)
	return cs.Store.FindApps(ctx, f)
}

func (cs *CountingStore) UpdateApp(ctx context.Context, id int64, upd backend.AppUpdate) (*backend.App, error) {
	cs.Writes.Add(1)
	return cs.Store.UpdateApp(ctx, id, upd)
}

func (cs *CountingStore) DeleteApp(ctx context.Context, id int64) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteApp(ctx, id)
}

func (cs *CountingStore) RevokeSessions(ctx context.Context, userID int64) error {
	cs.Writes.Add(1)
	return cs.Store.RevokeSessions(ctx, userID)
}

func (cs *CountingStore) SessionRevocationsSince(ctx context.Context, afterID int64, limit int) ([]backend.SessionRevocation, error) {
	cs.Reads.Add(1)
	return cs.Store.SessionRevocationsSince(ctx, afterID, limit)
}

func (cs *CountingStore) DeleteSessionRevocations(ctx context.Context, before time.Time) error {
	cs.Writes.Add(1)
	return cs.Store.DeleteSessionRevocations(ctx, before)
}

func (cs *CountingStore) TouchSessions(ctx context.Context, seen map[string]time.Time) error {
	cs.Writes.Add(1)
	return cs.Store.TouchSessions(ctx, seen)
}

func (cs *CountingStore) FindAppByDomain(ctx context.Context, keys ...string) (*backend.App, error) {
	cs.Reads.Add(1)
	return cs.Store.FindAppByDomain(ctx, keys...)
}

func (cs *CountingStore) PutLoginResume(ctx context.Context, owner string, r *backend.LoginResume) error {
	cs.Writes.Add(1)
	return cs.Store.PutLoginResume(ctx, owner, r)
}

func (cs *CountingStore) MoveLoginResume(ctx context.Context, from, to string) error {
	cs.Writes.Add(1)
	return cs.Store.MoveLoginResume(ctx, from, to)
}

func (cs *CountingStore) FindLoginResume(ctx context.Context, owner string) (*backend.LoginResume, error) {
	cs.Reads.Add(1)
	return cs.Store.FindLoginResume(ctx, owner)
}

func (cs *CountingStore) TakeLoginResume(ctx context.Context, owner string) (*backend.LoginResume, error) {
	cs.Writes.Add(1)
	return cs.Store.TakeLoginResume(ctx, owner)
}
