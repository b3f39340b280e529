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
// from the app confirms it, for appSetupTTL. The setup belongs to id's session, or login
// attempt at the enroll step: only that one can show it again (ResumeAppEnrollment) or confirm
// it, and beginning again replaces only its own earlier one, not a setup another session of
// the user has in progress. From the profile it needs a recently confirmed password.
func (s *Service) BeginAppEnrollment(ctx context.Context, id *Identity) (*AppEnrollment, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	secret := make([]byte, totpSecretSize)
	rand.Read(secret)
	sealed := s.sealer.seal(totpAD(id.User.ID), secret)
	if _, err := s.store.BeginAppEnrollment(ctx, id.setupOwner(), id.User.ID, sealed, appSetupTTL); err != nil {
		return nil, internal("begin app enrollment", err)
	}
	return s.newAppEnrollment(id.User, secret)
}

// ResumeAppEnrollment returns the "Use an App" setup id began and has not confirmed, to show
// it again (a reload, a mistyped code, another server on the same store): the same key and QR
// code. ENOTFOUND if id has none in progress: never begun by this session or login, expired,
// confirmed, or ended by an enrollment elsewhere. A setup is shown only to whoever began it,
// after the password was confirmed there, so this needs no password of its own.
// EUNAUTHORIZED if id is not a session or a login at the enroll step.
func (s *Service) ResumeAppEnrollment(ctx context.Context, id *Identity) (*AppEnrollment, error) {
	p, err := s.pendingApp(ctx, id)
	if err != nil {
		return nil, err
	}
	secret, err := s.sealer.open(totpAD(id.User.ID), p.Sealed)
	if err != nil {
		return nil, err
	}
	return s.newAppEnrollment(id.User, secret)
}

var errNoAppSetup = Errorf(ENOTFOUND, "No authenticator app setup is in progress here. Start it again.")

// pendingApp is id's unexpired app setup.
func (s *Service) pendingApp(ctx context.Context, id *Identity) (*PendingAppEnrollment, error) {
	if err := id.requireEnroller(); err != nil {
		return nil, err
	}
	p, err := s.store.FindAppEnrollment(ctx, id.setupOwner())
	if ErrorCode(err) == ENOTFOUND {
		return nil, errNoAppSetup
	} else if err != nil {
		return nil, internal("app enrollment", err)
	}
	if p.UserID != id.User.ID || !s.now().Before(p.ExpiresAt) {
		return nil, errNoAppSetup
	}
	return p, nil
}

// ConfirmAppEnrollment finishes "Use an App" with a code from the app: two-factor is enabled,
// the code's time step counts as used, and a new set of recovery codes replaces any old one.
// Only the session or login that began the setup can confirm it: for any other, and once it
// has expired, was replaced or confirmed, it is ECONFLICT.
func (s *Service) ConfirmAppEnrollment(ctx context.Context, id *Identity, code string) (*EnrollmentResult, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	// A blank code is a form sent too early, not a wrong code: ask for it.
	if strings.TrimSpace(code) == "" {
		return nil, WithFields(Errorf(EINVALID, "Enter the 6-digit code from your app."), FieldCode)
	}
	u := id.User
	p, err := s.pendingApp(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errAppSetupGone
	} else if err != nil {
		return nil, err
	}
	secret, err := s.sealer.open(totpAD(u.ID), p.Sealed)
	if err != nil {
		return nil, err
	}
	step, err := matchTOTP(secret, code, s.now())
	if err != nil {
		return nil, err
	} else if step < 0 {
		return nil, Errorf(EINVALID, "That code does not match. Check the time on your phone and enter the current code.")
	}
	return s.enable(ctx, id, Enrollment{Method: MethodApp, SealedTOTP: p.Sealed, TOTPStep: step, Owner: p.Owner})
}

var errAppSetupGone = Errorf(ECONFLICT, "The setup has expired or was replaced. Start it again.")

// enable records a completed enrollment of either method and hands out the recovery codes,
// kept on show for whoever enrolled (RecoveryCodeSheet) until acknowledged. It is one
// transaction: the enrollment, its codes, their sheet and the sign-in that follows all happen,
// or none does. id.User is left as it was (racing confirmations may share an identity): callers
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
		if e.Method == MethodWebAuthn {
			if err := s.store.EnableWebAuthn(ctx, e.Key, stored); ErrorCode(err) == ECONFLICT {
				return err
			} else if err != nil {
				return internal("enable two-factor", err)
			}
		} else if err := s.store.EnableTwoFactor(ctx, u.ID, e, stored); err != nil {
			return internal("enable two-factor", err)
		}
		u.Method, u.SMSPhone = e.Method, e.SMSPhone
		detail := "authenticator app"
		switch e.Method {
		case MethodSMS:
			detail = "SMS to " + MaskPhone(e.SMSPhone)
		case MethodWebAuthn:
			detail = "security key " + e.Key.Name
		}
		if err := s.audit(ctx, AuditTwoFactorEnrolled, &u, &u, detail); err != nil {
			return err
		}
		if id.attempt != nil {
			cur, err := s.store.FindUserForUpdate(ctx, u.ID) // enrolled: a new credentials version
			if err != nil {
				return internal("find user", err)
			}
			login, err := s.next(ctx, cur, id.attempt, "password, then Two-Factor setup: "+describeMethod(e.Method), amrFor(e.Method, false), ClientFrom(ctx))
			if err != nil {
				return err
			}
			res.Login = login
			if login.Step == StepDone {
				// Sessions opened before two-factor was on were opened with the password
				// alone (a signed-in user sent here by an application that requires
				// Two-Factor): they end, as on the Profile.
				if err := s.store.DeleteUserSessions(ctx, u.ID, hashToken(login.SessionToken)); err != nil {
					return internal("end other sessions", err)
				}
			}
			// The sheet belongs to the token the front end holds from now on: the new
			// session, or the next step's login attempt (a temporary password to change).
			owner := login.SessionToken
			if login.Step != StepDone {
				owner = login.AttemptToken
			}
			return s.putSheet(ctx, u.ID, hashToken(owner), shown, id.User.Enrolled())
		}
		// Sessions opened before two-factor was on were opened with the password alone.
		if err := s.store.DeleteUserSessions(ctx, u.ID, id.session.TokenHash); err != nil {
			return internal("end other sessions", err)
		}
		return s.putSheet(ctx, u.ID, id.session.TokenHash, shown, id.User.Enrolled())
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with a new set, voiding the old one,
// and keeps the new set on show for this session (RecoveryCodeSheet) until it is acknowledged.
// It needs a recently confirmed password. The new set, its sheet and its audit event are one
// transaction.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, id *Identity) ([]string, error) {
	if err := s.requireRecentPassword(id); err != nil {
		return nil, err
	}
	if !id.User.Enrolled() {
		return nil, errNotEnrolled
	}
	shown, stored := newRecoveryCodes()
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		// Enrolled as the row says now, locked: an administrator may have reset Two-Factor
		// since the session read it, and codes for no second factor would be shown as if
		// they worked.
		if u, err := s.store.FindUserForUpdate(ctx, id.User.ID); err != nil {
			return internal("find user", err)
		} else if !u.Enrolled() {
			return errNotEnrolled
		}
		if err := s.store.ReplaceRecoveryCodes(ctx, id.User.ID, stored); err != nil {
			return internal("replace recovery codes", err)
		}
		if err := s.putSheet(ctx, id.User.ID, id.session.TokenHash, shown, true); err != nil {
			return err
		}
		return s.audit(ctx, AuditRecoveryRegenerated, id.User, id.User, "")
	})
	if err != nil {
		return nil, err
	}
	return shown, nil
}

var errNotEnrolled = Errorf(ECONFLICT, "Set up Two-Factor Authentication first.")

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
			return internal("disable two-factor", err)
		}
		if err := s.store.DeleteUserSessions(ctx, u.ID, keep); err != nil {
			return internal("disable two-factor", err)
		}
		return s.audit(ctx, AuditTwoFactorDisabled, u, u, "")
	})
	if err != nil {
		return err
	}
	*id.User = *u
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
		return s.audit(ctx, AuditPasswordChanged, id.User, id.User, "")
	})
}
