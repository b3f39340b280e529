package backend

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
)

// EnrollmentResult is what completing an enrollment gives: the recovery codes, to show once, and
// when the enrollment was the enroll step of a login, the signed-in state that follows.
type EnrollmentResult struct {
	RecoveryCodes []string
	Login         *LoginState // nil when enrolling from the profile
}

// BeginAppEnrollment starts "Use an App": a new secret, kept server-side (sealed) until a code
// from the app confirms it. From the profile it needs a recently confirmed password.
func (s *Service) BeginAppEnrollment(ctx context.Context, id *Identity) (*AppEnrollment, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	secret := make([]byte, totpSecretSize)
	rand.Read(secret)
	if err := s.store.SetPendingTOTP(ctx, id.User.ID, s.sealer.seal(id.User.ID, secret)); err != nil {
		return nil, internal("pending totp", err)
	}
	return s.newAppEnrollment(id.User, secret)
}

// ConfirmAppEnrollment finishes "Use an App" with a code from the app: two-factor is enabled,
// the code's time step counts as used, and a new set of recovery codes replaces any old one.
func (s *Service) ConfirmAppEnrollment(ctx context.Context, id *Identity, code string) (*EnrollmentResult, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	// A blank code is a form sent too early, not a wrong code: ask for it.
	if strings.TrimSpace(code) == "" {
		return nil, Errorf(EINVALID, "Enter the 6-digit code from your app.")
	}
	u := id.User
	sealed, err := s.store.PendingTOTP(ctx, u.ID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ECONFLICT, "The setup has expired or was replaced. Start it again.")
	} else if err != nil {
		return nil, internal("pending totp", err)
	}
	secret, err := s.sealer.open(u.ID, sealed)
	if err != nil {
		return nil, err
	}
	step, err := matchTOTP(secret, code, s.now())
	if err != nil {
		return nil, err
	} else if step < 0 {
		return nil, Errorf(EINVALID, "That code does not match. Check the time on your phone and enter the current code.")
	}
	return s.enable(ctx, id, Enrollment{Method: MethodApp, SealedTOTP: sealed, TOTPStep: step})
}

// enable records a completed enrollment of either method and hands out the recovery codes.
// It is one transaction: the enrollment, its codes and the sign-in that follows all happen, or
// none does. id.User is left as it was (racing confirmations may share an identity): callers
// that need the enrolled user read it again.
func (s *Service) enable(ctx context.Context, id *Identity, e Enrollment) (*EnrollmentResult, error) {
	u := *id.User
	shown, stored := newRecoveryCodes()
	res := &EnrollmentResult{RecoveryCodes: shown}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if id.attempt != nil {
			// The enroll step of a login: it goes on only from the credentials its password
			// was checked under (recheck).
			if _, err := s.recheck(ctx, u.ID, id.attempt.CredentialsVersion); err == errCredentialsChanged {
				return ErrLoginEnded
			} else if err != nil {
				return err
			}
		}
		if err := s.store.EnableTwoFactor(ctx, u.ID, e, stored); err != nil {
			return internal("enable two-factor", err)
		}
		u.Method, u.SMSPhone = e.Method, e.SMSPhone
		detail := "authenticator app"
		if e.Method == MethodSMS {
			detail = "SMS to " + MaskPhone(e.SMSPhone)
		}
		s.audit(ctx, AuditTwoFactorEnrolled, &u, &u, detail)
		if id.attempt != nil {
			cur, err := s.store.FindUserForUpdate(ctx, u.ID) // enrolled: a new credentials version
			if err != nil {
				return internal("find user", err)
			}
			login, err := s.next(ctx, cur, id.attempt, "password, then Two-Factor setup: "+describeMethod(e.Method), ClientFrom(ctx))
			res.Login = login
			return err
		}
		// Sessions opened before two-factor was on were opened with the password alone.
		return internal("end other sessions", s.store.DeleteUserSessions(ctx, u.ID, id.session.TokenHash))
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with a new set, voiding the old one.
// It needs a recently confirmed password.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, id *Identity) ([]string, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	if !id.User.Enrolled() {
		return nil, Errorf(ECONFLICT, "Set up Two-Factor Authentication first.")
	}
	shown, stored := newRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, id.User.ID, stored); err != nil {
		return nil, internal("replace recovery codes", err)
	}
	s.audit(ctx, AuditRecoveryRegenerated, id.User, id.User, "")
	return shown, nil
}

// RecoveryCodesLeft is how many of the user's recovery codes are unused.
func (s *Service) RecoveryCodesLeft(ctx context.Context, id *Identity) (int, error) {
	if err := id.requireSignedIn(); err != nil {
		return 0, err
	}
	return s.recoveryCodesLeft(ctx, id.User.ID)
}

func (s *Service) recoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	codes, err := s.store.RecoveryCodes(ctx, userID)
	return len(codes), internal("recovery codes", err)
}

func pluralCodes(n int) string {
	if n == 1 {
		return "1 recovery code"
	}
	return fmt.Sprintf("%d recovery codes", n)
}

// DisableOwnTwoFactor turns off the user's own two-factor authentication. Not allowed when an
// administrator requires it: such users cannot opt out. Needs a recently confirmed password.
// The user's other sessions end in the same transaction: they were signed in with a second
// factor that no longer guards the account, and one of them may be the reason it was turned off.
func (s *Service) DisableOwnTwoFactor(ctx context.Context, id *Identity) error {
	if err := s.requireRecentPassword(id); err != nil {
		return err
	}
	if id.User.TwoFactorRequired {
		return Errorf(EFORBIDDEN, "Your administrator requires Two-Factor Authentication for your account, so it cannot be turned off.")
	}
	keep := "" // a login at the enroll step has no session to keep
	if id.session != nil {
		keep = id.session.TokenHash
	}
	var u *User
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		if u, err = s.store.UpdateUser(ctx, id.User.ID, UserUpdate{ClearEnrollment: true}); err != nil {
			return err
		}
		return s.store.DeleteUserSessions(ctx, u.ID, keep)
	})
	if err != nil {
		return internal("disable two-factor", err)
	}
	*id.User = *u
	s.audit(ctx, AuditTwoFactorDisabled, u, u, "")
	return nil
}

// ChangePassword changes the signed-in user's password, given the current one. The user's other
// sessions end. ECONFLICT, changing nothing, if the account changed while the current password
// was being checked: a change made with the old password must not undo an administrator's
// Set password that came in between.
func (s *Service) ChangePassword(ctx context.Context, id *Identity, current, newPassword string) error {
	if err := id.requireSignedIn(); err != nil {
		return err
	}
	if err := CheckNewPassword(newPassword, id.User.Username); err != nil {
		return err
	}
	verified := id.User.CredentialsVersion // the session's read of the user, before the hash
	if err := s.checkPassword(ctx, id.User, current); err != nil {
		return err
	}
	hash, err := s.passwords.hash(ctx, newPassword)
	if err != nil {
		return internal("hash password", err)
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		if _, err := s.recheck(ctx, id.User.ID, verified); err == errCredentialsChanged {
			return Errorf(ECONFLICT, "Your account was changed while your password was being checked, so your password was not changed. Reload the page and try again.")
		} else if err != nil {
			return err
		}
		if err := s.store.SetPassword(ctx, id.User.ID, hash, false, &id.session.TokenHash); err != nil {
			return internal("set password", err)
		}
		s.audit(ctx, AuditPasswordChanged, id.User, id.User, "")
		return nil
	})
}
