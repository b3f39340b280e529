package backend_test

// callStore is backend.Store with every call counted by method, and every method that can
// fail failing while down says so: for the session cache's tests (sessioncache_test.go).
// Its methods are generated from the interface (go/ast over backend/store.go).

import (
	"context"
	"time"

	"gatehouse/backend"
)

func (c *callStore) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	c.count("Atomically")
	if err := c.down("Atomically"); err != nil {
		return err
	}
	return c.Store.Atomically(ctx, fn)
}

func (c *callStore) Ping(ctx context.Context) error {
	c.count("Ping")
	if err := c.down("Ping"); err != nil {
		return err
	}
	return c.Store.Ping(ctx)
}

func (c *callStore) CreateUser(ctx context.Context, u *backend.User, passwordHash string) error {
	c.count("CreateUser")
	if err := c.down("CreateUser"); err != nil {
		return err
	}
	return c.Store.CreateUser(ctx, u, passwordHash)
}

func (c *callStore) SeedUsers(ctx context.Context, users []*backend.User, passwordHash string) error {
	c.count("SeedUsers")
	if err := c.down("SeedUsers"); err != nil {
		return err
	}
	return c.Store.SeedUsers(ctx, users, passwordHash)
}

func (c *callStore) FindUserByID(ctx context.Context, id int64) (*backend.User, error) {
	c.count("FindUserByID")
	if err := c.down("FindUserByID"); err != nil {
		return nil, err
	}
	return c.Store.FindUserByID(ctx, id)
}

func (c *callStore) FindUserForUpdate(ctx context.Context, id int64) (*backend.User, error) {
	c.count("FindUserForUpdate")
	if err := c.down("FindUserForUpdate"); err != nil {
		return nil, err
	}
	return c.Store.FindUserForUpdate(ctx, id)
}

func (c *callStore) FindUserByUsername(ctx context.Context, username string) (*backend.User, error) {
	c.count("FindUserByUsername")
	if err := c.down("FindUserByUsername"); err != nil {
		return nil, err
	}
	return c.Store.FindUserByUsername(ctx, username)
}

func (c *callStore) FindUsers(ctx context.Context, f backend.UserFilter) ([]*backend.User, int, error) {
	c.count("FindUsers")
	if err := c.down("FindUsers"); err != nil {
		return nil, 0, err
	}
	return c.Store.FindUsers(ctx, f)
}

func (c *callStore) CountUsersByStatus(ctx context.Context) (backend.StatusCounts, error) {
	c.count("CountUsersByStatus")
	if err := c.down("CountUsersByStatus"); err != nil {
		return nil, err
	}
	return c.Store.CountUsersByStatus(ctx)
}

func (c *callStore) CountEnabledAdmins(ctx context.Context) (int, error) {
	c.count("CountEnabledAdmins")
	if err := c.down("CountEnabledAdmins"); err != nil {
		return 0, err
	}
	return c.Store.CountEnabledAdmins(ctx)
}

func (c *callStore) UpdateUser(ctx context.Context, id int64, upd backend.UserUpdate) (*backend.User, error) {
	c.count("UpdateUser")
	if err := c.down("UpdateUser"); err != nil {
		return nil, err
	}
	return c.Store.UpdateUser(ctx, id, upd)
}

func (c *callStore) PasswordHash(ctx context.Context, userID int64) (string, error) {
	c.count("PasswordHash")
	if err := c.down("PasswordHash"); err != nil {
		return "", err
	}
	return c.Store.PasswordHash(ctx, userID)
}

func (c *callStore) SetPassword(ctx context.Context, userID int64, hash string, mustChange bool, endSessionsExcept *string) error {
	c.count("SetPassword")
	if err := c.down("SetPassword"); err != nil {
		return err
	}
	return c.Store.SetPassword(ctx, userID, hash, mustChange, endSessionsExcept)
}

func (c *callStore) UpdateFailures(ctx context.Context, userID int64, fn func(f *backend.Failures, now time.Time) error) error {
	c.count("UpdateFailures")
	if err := c.down("UpdateFailures"); err != nil {
		return err
	}
	return c.Store.UpdateFailures(ctx, userID, fn)
}

func (c *callStore) UpdateUnknownFailures(ctx context.Context, nameHash string, fn func(f *backend.Failures, now time.Time) error) error {
	c.count("UpdateUnknownFailures")
	if err := c.down("UpdateUnknownFailures"); err != nil {
		return err
	}
	return c.Store.UpdateUnknownFailures(ctx, nameHash, fn)
}

func (c *callStore) BeginAppEnrollment(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.PendingAppEnrollment, error) {
	c.count("BeginAppEnrollment")
	if err := c.down("BeginAppEnrollment"); err != nil {
		return nil, err
	}
	return c.Store.BeginAppEnrollment(ctx, owner, userID, sealed, ttl)
}

func (c *callStore) FindAppEnrollment(ctx context.Context, owner string) (*backend.PendingAppEnrollment, error) {
	c.count("FindAppEnrollment")
	if err := c.down("FindAppEnrollment"); err != nil {
		return nil, err
	}
	return c.Store.FindAppEnrollment(ctx, owner)
}

func (c *callStore) TOTPSecret(ctx context.Context, userID int64) ([]byte, error) {
	c.count("TOTPSecret")
	if err := c.down("TOTPSecret"); err != nil {
		return nil, err
	}
	return c.Store.TOTPSecret(ctx, userID)
}

func (c *callStore) EnableTwoFactor(ctx context.Context, userID int64, e backend.Enrollment, codes []backend.RecoveryCode) error {
	c.count("EnableTwoFactor")
	if err := c.down("EnableTwoFactor"); err != nil {
		return err
	}
	return c.Store.EnableTwoFactor(ctx, userID, e, codes)
}

func (c *callStore) ConsumeTOTPStep(ctx context.Context, userID int64, step int64) (bool, error) {
	c.count("ConsumeTOTPStep")
	if err := c.down("ConsumeTOTPStep"); err != nil {
		return false, err
	}
	return c.Store.ConsumeTOTPStep(ctx, userID, step)
}

func (c *callStore) ReplaceRecoveryCodes(ctx context.Context, userID int64, codes []backend.RecoveryCode) error {
	c.count("ReplaceRecoveryCodes")
	if err := c.down("ReplaceRecoveryCodes"); err != nil {
		return err
	}
	return c.Store.ReplaceRecoveryCodes(ctx, userID, codes)
}

func (c *callStore) RecoveryCodes(ctx context.Context, userID int64) ([]backend.RecoveryCode, error) {
	c.count("RecoveryCodes")
	if err := c.down("RecoveryCodes"); err != nil {
		return nil, err
	}
	return c.Store.RecoveryCodes(ctx, userID)
}

func (c *callStore) UseRecoveryCode(ctx context.Context, codeID int64) (bool, error) {
	c.count("UseRecoveryCode")
	if err := c.down("UseRecoveryCode"); err != nil {
		return false, err
	}
	return c.Store.UseRecoveryCode(ctx, codeID)
}

func (c *callStore) PutRecoverySheet(ctx context.Context, owner string, userID int64, sealed []byte, ttl time.Duration) (*backend.RecoverySheet, error) {
	c.count("PutRecoverySheet")
	if err := c.down("PutRecoverySheet"); err != nil {
		return nil, err
	}
	return c.Store.PutRecoverySheet(ctx, owner, userID, sealed, ttl)
}

func (c *callStore) FindRecoverySheet(ctx context.Context, owner string) (*backend.RecoverySheet, error) {
	c.count("FindRecoverySheet")
	if err := c.down("FindRecoverySheet"); err != nil {
		return nil, err
	}
	return c.Store.FindRecoverySheet(ctx, owner)
}

func (c *callStore) MoveRecoverySheet(ctx context.Context, owner string, newOwner string, sealed []byte) (bool, error) {
	c.count("MoveRecoverySheet")
	if err := c.down("MoveRecoverySheet"); err != nil {
		return false, err
	}
	return c.Store.MoveRecoverySheet(ctx, owner, newOwner, sealed)
}

func (c *callStore) DeleteRecoverySheet(ctx context.Context, owner string) (bool, error) {
	c.count("DeleteRecoverySheet")
	if err := c.down("DeleteRecoverySheet"); err != nil {
		return false, err
	}
	return c.Store.DeleteRecoverySheet(ctx, owner)
}

func (c *callStore) DeleteOwned(ctx context.Context, owner string) error {
	c.count("DeleteOwned")
	if err := c.down("DeleteOwned"); err != nil {
		return err
	}
	return c.Store.DeleteOwned(ctx, owner)
}

func (c *callStore) CreateLoginAttempt(ctx context.Context, a *backend.LoginAttempt) error {
	c.count("CreateLoginAttempt")
	if err := c.down("CreateLoginAttempt"); err != nil {
		return err
	}
	return c.Store.CreateLoginAttempt(ctx, a)
}

func (c *callStore) FindLoginAttempt(ctx context.Context, tokenHash string) (*backend.LoginAttempt, error) {
	c.count("FindLoginAttempt")
	if err := c.down("FindLoginAttempt"); err != nil {
		return nil, err
	}
	return c.Store.FindLoginAttempt(ctx, tokenHash)
}

func (c *callStore) ReplaceLoginAttempt(ctx context.Context, oldTokenHash string, a *backend.LoginAttempt) (bool, error) {
	c.count("ReplaceLoginAttempt")
	if err := c.down("ReplaceLoginAttempt"); err != nil {
		return false, err
	}
	return c.Store.ReplaceLoginAttempt(ctx, oldTokenHash, a)
}

func (c *callStore) DeleteLoginAttempt(ctx context.Context, tokenHash string) error {
	c.count("DeleteLoginAttempt")
	if err := c.down("DeleteLoginAttempt"); err != nil {
		return err
	}
	return c.Store.DeleteLoginAttempt(ctx, tokenHash)
}

func (c *callStore) CompleteLogin(ctx context.Context, attemptTokenHash string, s *backend.Session) (bool, error) {
	c.count("CompleteLogin")
	if err := c.down("CompleteLogin"); err != nil {
		return false, err
	}
	return c.Store.CompleteLogin(ctx, attemptTokenHash, s)
}

func (c *callStore) CreateSession(ctx context.Context, s *backend.Session) error {
	c.count("CreateSession")
	if err := c.down("CreateSession"); err != nil {
		return err
	}
	return c.Store.CreateSession(ctx, s)
}

func (c *callStore) FindSession(ctx context.Context, tokenHash string) (*backend.Session, *backend.User, error) {
	c.count("FindSession")
	if err := c.down("FindSession"); err != nil {
		return nil, nil, err
	}
	return c.Store.FindSession(ctx, tokenHash)
}

func (c *callStore) TouchSession(ctx context.Context, tokenHash string) error {
	c.count("TouchSession")
	if err := c.down("TouchSession"); err != nil {
		return err
	}
	return c.Store.TouchSession(ctx, tokenHash)
}

func (c *callStore) SetSessionReauth(ctx context.Context, tokenHash string) error {
	c.count("SetSessionReauth")
	if err := c.down("SetSessionReauth"); err != nil {
		return err
	}
	return c.Store.SetSessionReauth(ctx, tokenHash)
}

func (c *callStore) DeleteSession(ctx context.Context, tokenHash string) error {
	c.count("DeleteSession")
	if err := c.down("DeleteSession"); err != nil {
		return err
	}
	return c.Store.DeleteSession(ctx, tokenHash)
}

func (c *callStore) DeleteUserSessions(ctx context.Context, userID int64, except string) error {
	c.count("DeleteUserSessions")
	if err := c.down("DeleteUserSessions"); err != nil {
		return err
	}
	return c.Store.DeleteUserSessions(ctx, userID, except)
}

func (c *callStore) DeleteExpired(ctx context.Context, idleBefore time.Time, createdBefore time.Time, attemptsBefore time.Time) error {
	c.count("DeleteExpired")
	if err := c.down("DeleteExpired"); err != nil {
		return err
	}
	return c.Store.DeleteExpired(ctx, idleBefore, createdBefore, attemptsBefore)
}

func (c *callStore) PutFlash(ctx context.Context, tokenHash string, sessionHash string, notice string, ttl time.Duration) error {
	c.count("PutFlash")
	if err := c.down("PutFlash"); err != nil {
		return err
	}
	return c.Store.PutFlash(ctx, tokenHash, sessionHash, notice, ttl)
}

func (c *callStore) TakeFlash(ctx context.Context, tokenHash string, sessionHash string) (string, bool, error) {
	c.count("TakeFlash")
	if err := c.down("TakeFlash"); err != nil {
		return "", false, err
	}
	return c.Store.TakeFlash(ctx, tokenHash, sessionHash)
}

func (c *callStore) BeginSMSEnrollment(ctx context.Context, owner string, userID int64, codeHash string, sealedCode []byte, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	c.count("BeginSMSEnrollment")
	if err := c.down("BeginSMSEnrollment"); err != nil {
		return nil, err
	}
	return c.Store.BeginSMSEnrollment(ctx, owner, userID, codeHash, sealedCode, ttl)
}

func (c *callStore) AttachSMSPhone(ctx context.Context, codeHash string, phone string, ttl time.Duration) (*backend.PendingSMSEnrollment, error) {
	c.count("AttachSMSPhone")
	if err := c.down("AttachSMSPhone"); err != nil {
		return nil, err
	}
	return c.Store.AttachSMSPhone(ctx, codeHash, phone, ttl)
}

func (c *callStore) RefuseSMSSender(ctx context.Context, codeHash string) (*backend.PendingSMSEnrollment, error) {
	c.count("RefuseSMSSender")
	if err := c.down("RefuseSMSSender"); err != nil {
		return nil, err
	}
	return c.Store.RefuseSMSSender(ctx, codeHash)
}

func (c *callStore) FindSMSEnrollment(ctx context.Context, owner string) (*backend.PendingSMSEnrollment, error) {
	c.count("FindSMSEnrollment")
	if err := c.down("FindSMSEnrollment"); err != nil {
		return nil, err
	}
	return c.Store.FindSMSEnrollment(ctx, owner)
}

func (c *callStore) RecordInboundSMS(ctx context.Context, messageSID string, sender string, window time.Duration) (bool, int, error) {
	c.count("RecordInboundSMS")
	if err := c.down("RecordInboundSMS"); err != nil {
		return false, 0, err
	}
	return c.Store.RecordInboundSMS(ctx, messageSID, sender, window)
}

func (c *callStore) ReserveSMSCode(ctx context.Context, c_ *backend.SMSCode, ttl time.Duration, cooldown time.Duration, perHour int) (time.Time, error) {
	c.count("ReserveSMSCode")
	if err := c.down("ReserveSMSCode"); err != nil {
		return time.Time{}, err
	}
	return c.Store.ReserveSMSCode(ctx, c_, ttl, cooldown, perHour)
}

func (c *callStore) DeleteSMSCode(ctx context.Context, id int64) error {
	c.count("DeleteSMSCode")
	if err := c.down("DeleteSMSCode"); err != nil {
		return err
	}
	return c.Store.DeleteSMSCode(ctx, id)
}

func (c *callStore) SMSCodeWaiting(ctx context.Context, attemptHash string) (bool, error) {
	c.count("SMSCodeWaiting")
	if err := c.down("SMSCodeWaiting"); err != nil {
		return false, err
	}
	return c.Store.SMSCodeWaiting(ctx, attemptHash)
}

func (c *callStore) LatestSMSCode(ctx context.Context, attemptHash string) (*backend.SMSCode, error) {
	c.count("LatestSMSCode")
	if err := c.down("LatestSMSCode"); err != nil {
		return nil, err
	}
	return c.Store.LatestSMSCode(ctx, attemptHash)
}

func (c *callStore) ConsumeSMSCode(ctx context.Context, attemptHash string, codeHash string) (bool, error) {
	c.count("ConsumeSMSCode")
	if err := c.down("ConsumeSMSCode"); err != nil {
		return false, err
	}
	return c.Store.ConsumeSMSCode(ctx, attemptHash, codeHash)
}

func (c *callStore) DeleteExpiredSMS(ctx context.Context, before time.Time) error {
	c.count("DeleteExpiredSMS")
	if err := c.down("DeleteExpiredSMS"); err != nil {
		return err
	}
	return c.Store.DeleteExpiredSMS(ctx, before)
}

func (c *callStore) AddSetupLink(ctx context.Context, tokenHash string, ttl time.Duration, keep int) (time.Time, error) {
	c.count("AddSetupLink")
	if err := c.down("AddSetupLink"); err != nil {
		return time.Time{}, err
	}
	return c.Store.AddSetupLink(ctx, tokenHash, ttl, keep)
}

func (c *callStore) DeleteSetupLinks(ctx context.Context) error {
	c.count("DeleteSetupLinks")
	if err := c.down("DeleteSetupLinks"); err != nil {
		return err
	}
	return c.Store.DeleteSetupLinks(ctx)
}

func (c *callStore) SetupLinkValid(ctx context.Context, tokenHash string) (bool, error) {
	c.count("SetupLinkValid")
	if err := c.down("SetupLinkValid"); err != nil {
		return false, err
	}
	return c.Store.SetupLinkValid(ctx, tokenHash)
}

func (c *callStore) UseSetupLink(ctx context.Context, tokenHash string) (bool, error) {
	c.count("UseSetupLink")
	if err := c.down("UseSetupLink"); err != nil {
		return false, err
	}
	return c.Store.UseSetupLink(ctx, tokenHash)
}

func (c *callStore) KeyCheck(ctx context.Context, check []byte) ([]byte, error) {
	c.count("KeyCheck")
	if err := c.down("KeyCheck"); err != nil {
		return nil, err
	}
	return c.Store.KeyCheck(ctx, check)
}

func (c *callStore) AddAuditEvent(ctx context.Context, e *backend.AuditEvent) error {
	c.count("AddAuditEvent")
	if err := c.down("AddAuditEvent"); err != nil {
		return err
	}
	return c.Store.AddAuditEvent(ctx, e)
}

func (c *callStore) FindAuditEvents(ctx context.Context, f backend.AuditFilter) ([]*backend.AuditEvent, int, error) {
	c.count("FindAuditEvents")
	if err := c.down("FindAuditEvents"); err != nil {
		return nil, 0, err
	}
	return c.Store.FindAuditEvents(ctx, f)
}

func (c *callStore) DeleteAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	c.count("DeleteAuditEvents")
	if err := c.down("DeleteAuditEvents"); err != nil {
		return 0, err
	}
	return c.Store.DeleteAuditEvents(ctx, before)
}

func (c *callStore) CreateApp(ctx context.Context, a *backend.App) error {
	c.count("CreateApp")
	if err := c.down("CreateApp"); err != nil {
		return err
	}
	return c.Store.CreateApp(ctx, a)
}

func (c *callStore) FindAppByID(ctx context.Context, id int64) (*backend.App, error) {
	c.count("FindAppByID")
	if err := c.down("FindAppByID"); err != nil {
		return nil, err
	}
	return c.Store.FindAppByID(ctx, id)
}

func (c *callStore) FindAppForUpdate(ctx context.Context, id int64) (*backend.App, error) {
	c.count("FindAppForUpdate")
	if err := c.down("FindAppForUpdate"); err != nil {
		return nil, err
	}
	return c.Store.FindAppForUpdate(ctx, id)
}

func (c *callStore) FindAppByClientID(ctx context.Context, clientID string) (*backend.App, error) {
	c.count("FindAppByClientID")
	if err := c.down("FindAppByClientID"); err != nil {
		return nil, err
	}
	return c.Store.FindAppByClientID(ctx, clientID)
}

func (c *callStore) FindAppByName(ctx context.Context, name string) (*backend.App, error) {
	c.count("FindAppByName")
	if err := c.down("FindAppByName"); err != nil {
		return nil, err
	}
	return c.Store.FindAppByName(ctx, name)
}

func (c *callStore) FindApps(ctx context.Context, f backend.AppFilter) ([]*backend.App, int, error) {
	c.count("FindApps")
	if err := c.down("FindApps"); err != nil {
		return nil, 0, err
	}
	return c.Store.FindApps(ctx, f)
}

func (c *callStore) UpdateApp(ctx context.Context, id int64, upd backend.AppUpdate) (*backend.App, error) {
	c.count("UpdateApp")
	if err := c.down("UpdateApp"); err != nil {
		return nil, err
	}
	return c.Store.UpdateApp(ctx, id, upd)
}

func (c *callStore) DeleteApp(ctx context.Context, id int64) error {
	c.count("DeleteApp")
	if err := c.down("DeleteApp"); err != nil {
		return err
	}
	return c.Store.DeleteApp(ctx, id)
}

func (c *callStore) RevokeSessions(ctx context.Context, userID int64) error {
	c.count("RevokeSessions")
	if err := c.down("RevokeSessions"); err != nil {
		return err
	}
	return c.Store.RevokeSessions(ctx, userID)
}

func (c *callStore) SessionRevocationsSince(ctx context.Context, afterID int64, limit int) ([]backend.SessionRevocation, error) {
	c.count("SessionRevocationsSince")
	if err := c.down("SessionRevocationsSince"); err != nil {
		return nil, err
	}
	return c.Store.SessionRevocationsSince(ctx, afterID, limit)
}

func (c *callStore) DeleteSessionRevocations(ctx context.Context, before time.Time) error {
	c.count("DeleteSessionRevocations")
	if err := c.down("DeleteSessionRevocations"); err != nil {
		return err
	}
	return c.Store.DeleteSessionRevocations(ctx, before)
}

func (c *callStore) TouchSessions(ctx context.Context, seen map[string]time.Time) error {
	c.count("TouchSessions")
	if err := c.down("TouchSessions"); err != nil {
		return err
	}
	return c.Store.TouchSessions(ctx, seen)
}
