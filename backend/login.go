package backend

import (
	"context"
	"errors"
	"strings"
	"time"
)

// LoginState is where a login stands after a step. While Step is not StepDone the client holds
// AttemptToken (and only it) to take the next step; at StepDone it holds SessionToken instead.
type LoginState struct {
	Step         LoginStep
	User         *User
	AttemptToken string    // the login attempt, until StepDone; each step issues a new one
	ExpiresAt    time.Time // when the attempt, or at StepDone the session at the latest, ends
	SessionToken string    // at StepDone: the new session
}

// ErrLoginEnded is returned by the steps of a login whose attempt has expired, was used, or was
// ended: the front end starts over at the password step (errors.Is tells it from a wrong code).
var ErrLoginEnded = Errorf(EUNAUTHORIZED, "Your login has expired. Log in again.")

// Login is the password step. Unknown users, wrong passwords and disabled accounts all get the
// same error after the same work (one argon2id verification), so the answer tells an attacker
// nothing. A locked account is told so, with when the lock ends (locked), and so is a locked
// unknown name: both are counted and locked alike, so that answer tells nothing either. On success the next step is StepVerify (2FA enrolled), StepEnroll (required
// by an administrator, not enrolled: no way around it), StepChangePassword (an administrator set
// a temporary password), or StepDone. When too many logins already wait for the password hash
// it refuses at once with ErrBusy (ETOOMANY), counting nothing.
func (s *Service) Login(ctx context.Context, username, password string) (*LoginState, error) {
	username = strings.TrimSpace(username)
	if username == "" || password == "" {
		return nil, WithFields(Errorf(EINVALID, "Enter your username and password."), FieldUsername, FieldCurrentPassword)
	}
	// Admission comes before anything is looked up or counted: a refused login has not
	// been charged to the account, and the refusal is the same whatever the username.
	release, err := s.passwords.admit()
	if err != nil {
		return nil, err
	}
	defer release()
	// A name no account can have (CheckUsername: 1 to 64 characters of a small alphabet) is
	// unknown without a lookup, and goes the unknown name's way: the same work and answer,
	// and nothing of it stored.
	if CheckUsername(username) != nil {
		return nil, s.loginUnknown(ctx, username, password)
	}
	u, err := s.store.FindUserByUsername(ctx, username)
	if ErrorCode(err) == ENOTFOUND {
		return nil, s.loginUnknown(ctx, username, password)
	} else if err != nil {
		return nil, internal("find user", err)
	}

	lock, err := s.chargeAttempt(ctx, u.ID, false)
	if ErrorCode(err) == ETOOMANY {
		// No hash while the account waits or is locked: the answer does not depend on the
		// password, and a flood of refused logins for one account must not take the hashing
		// slots every other login needs (H1). An unknown name refused so does no hash either
		// (loginUnknown): the same lookup and counter write, so the same time.
		s.auditThrottled(ctx, u, "")
		return nil, err
	} else if err != nil {
		return nil, internal("charge attempt", err)
	}
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		return nil, internal("password hash", err)
	}
	ok, err := s.passwords.verify(ctx, hash, password)
	if err != nil {
		return nil, internal("verify password", err)
	}
	return s.atomically(ctx, func(ctx context.Context) (*LoginState, error, error) {
		// The password was verified outside this transaction, against the row read before
		// it, and may have waited seconds for a hashing slot: the row is read again here,
		// under the transaction's lock, and the login goes on only from the credentials it
		// verified (issue 9, F3), to the next step the row says now.
		cur, err := s.recheck(ctx, u.ID, u.CredentialsVersion)
		stale := err == errCredentialsChanged
		if err != nil && !stale {
			return nil, nil, err
		}
		// Every refusal is counted as a wrong password is, so that neither the answer nor the
		// wait before the next one says whether this password was right (issue 9, F5).
		switch {
		case !ok:
			s.failed(ctx, AuditLoginFailure, cur, "wrong password", lock)
			return nil, errBadLogin, nil
		case stale:
			// An administrator changed the account meanwhile (a new password, Two-Factor
			// required, disabled …). The bad-login answer, not "log in again": it is the one
			// answer that tells nothing about the guess, and the person who knows the new
			// state just logs in again.
			s.failed(ctx, AuditLoginFailure, cur, "the account changed during the login", lock)
			return nil, errBadLogin, nil
		case cur.Disabled:
			s.failed(ctx, AuditLoginFailure, cur, "account disabled", lock)
			return nil, errBadLogin, nil
		}
		// The counter is reset only when the whole login succeeds: a correct password alone
		// must not buy an attacker a fresh set of second-factor guesses.
		st, err := s.next(ctx, cur, nil, "password", amrFor("", false), ClientFrom(ctx))
		if err == nil && lock > 0 && st.Step != StepDone {
			// This attempt locked the account, and the login is not complete: the lock stands.
			s.auditBestEffort(ctx, AuditAccountLocked, nil, cur,
				"too many attempts; the password was right, a second step is due; locked for "+lockLength(lock))
		}
		return st, nil, err
	})
}

// errCredentialsChanged is recheck's answer when the user's credentials are no longer those a
// step verified. It is never shown: each step says what it means for it.
var errCredentialsChanged = errors.New("credentials changed since they were verified")

// recheck reads the user again inside the step's store transaction, locked until it commits,
// and returns errCredentialsChanged (with the fresh row) unless the credentials version is
// still verified, the one the step's password or code was checked under. A step that signs in,
// or creates the next login attempt, or stores a password, does so only after recheck: the
// check and the write are one transaction, so no administrator's change can come between.
func (s *Service) recheck(ctx context.Context, userID, verified int64) (*User, error) {
	u, err := s.store.FindUserForUpdate(ctx, userID)
	if err != nil {
		return nil, internal("recheck user", err)
	}
	if u.CredentialsVersion != verified {
		return u, errCredentialsChanged
	}
	return u, nil
}

// atomically runs a login step's writes in one store transaction: one sync to disk instead of
// one per write, and all of them or none. The step returns a refusal (a wrong code, a throttled
// attempt) as the answer to give, while what it wrote to count the refusal commits; an error
// rolls everything back.
func (s *Service) atomically(ctx context.Context, step func(ctx context.Context) (st *LoginState, refusal, err error)) (*LoginState, error) {
	var st *LoginState
	var refusal error
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		st, refusal, err = step(ctx)
		return err
	})
	if err != nil {
		return nil, err
	} else if refusal != nil {
		return nil, refusal
	}
	return st, nil
}

// loginUnknown answers a password step for a username that names no account. It does what a
// wrong password for a real account does — charge a counter, verify a hash, then count the
// failure and audit it in one transaction — so that neither the answer nor its timing differs.
//
// What was typed is neither stored nor audited (issue 9, F1 and F7): the counter is keyed by a
// keyed hash of the name, and the audit event names UnknownUsername with a short fingerprint.
func (s *Service) loginUnknown(ctx context.Context, username, password string) error {
	hash, fingerprint := s.unknownName(username)
	update := s.unknownCounter(hash)
	target := &User{Username: UnknownUsername}
	detail := "unknown username, fingerprint " + fingerprint
	_, err := s.charge(ctx, update, false)
	if ErrorCode(err) == ETOOMANY {
		s.auditThrottled(ctx, target, detail) // and no hash, as for a real account (Login)
		return err
	} else if err != nil {
		return internal("charge attempt", err)
	}
	s.passwords.verify(ctx, "", password)
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.delayNext(ctx, update); err != nil {
			return err
		}
		s.auditBestEffort(ctx, AuditLoginFailure, nil, target, detail)
		return nil
	})
	if err != nil {
		return internal("count failure", err)
	}
	return errBadLogin
}

// UnknownUsername is the audit log's target name for a login with a username that names no
// account: what was typed is never recorded (it may be a password typed in the wrong field).
const UnknownUsername = "(unknown username)"

// failed records a failed guess, and the lock it caused if it was the last one allowed, and
// makes the account wait before the next one. lock is the length of the lock this guess
// started (chargeAttempt), zero if none.
func (s *Service) failed(ctx context.Context, action string, u *User, detail string, lock time.Duration) {
	if err := s.delayNext(ctx, s.counter(u.ID)); err != nil {
		s.log.Error("delay next attempt", "user_id", u.ID, "err", err)
	}
	s.auditBestEffort(ctx, action, nil, u, detail)
	if lock > 0 {
		s.auditBestEffort(ctx, AuditAccountLocked, nil, u, "too many failed attempts; locked for "+lockLength(lock))
	}
}

// next moves a login whose current step (password, or attempt's step) is satisfied to its next
// step, replacing the attempt under a new token, or signing the user in. how says what
// satisfied the step, for the audit log. u is the user as recheck read it in the step's
// transaction (or as the step itself then changed it): the next step, and the credentials
// version the new attempt carries, are the row's now.
func (s *Service) next(ctx context.Context, u *User, attempt *LoginAttempt, how string, amr []string, c Client) (*LoginState, error) {
	step := StepDone
	switch {
	case attempt == nil && u.Enrolled():
		step = StepVerify
	case attempt == nil && u.TwoFactorRequired:
		step = StepEnroll
	case u.MustChangePassword && (attempt == nil || attempt.Step != StepChangePassword):
		step = StepChangePassword
	}
	now := s.now()
	if step == StepDone {
		return s.signIn(ctx, u, attempt, how, amr, c)
	}
	token, hash := newToken()
	a := &LoginAttempt{TokenHash: hash, UserID: u.ID, Step: step, CreatedAt: now, ExpiresAt: now.Add(s.attemptTTL), IP: c.IP,
		CredentialsVersion: u.CredentialsVersion}
	if attempt == nil {
		if err := s.store.CreateLoginAttempt(ctx, a); err != nil {
			return nil, internal("create login attempt", err)
		}
	} else {
		ok, err := s.store.ReplaceLoginAttempt(ctx, attempt.TokenHash, a)
		if err != nil {
			return nil, internal("replace login attempt", err)
		} else if !ok {
			return nil, ErrLoginEnded
		}
		// What this login resumes (an application's sign-in, a protected page) goes on with
		// the new token.
		if err := s.moveResume(ctx, attempt.TokenHash, hash); err != nil {
			return nil, err
		}
	}
	return &LoginState{Step: step, User: u, AttemptToken: token, ExpiresAt: a.ExpiresAt}, nil
}

// signIn ends the attempt (if any) and creates a session under a new token, once.
//
// The login counts as a confirmation of the password (Session.ReauthAt), for the ReauthWindow
// every confirmation has (requireRecentPassword): someone who has just typed it is not asked
// for it again to set up Two-Factor or regenerate codes (issue 11, web 6). It counts from when
// the password was given: this step, when the login had no step before (attempt nil) or this
// step set a new password (StepChangePassword); otherwise the password step, which created
// the attempt (a second factor or a setup may have taken minutes since).
func (s *Service) signIn(ctx context.Context, u *User, attempt *LoginAttempt, how string, amr []string, c Client) (*LoginState, error) {
	now := s.now()
	passwordAt := now
	if attempt != nil && attempt.Step != StepChangePassword {
		passwordAt = attempt.CreatedAt
	}
	token, hash := newToken()
	sess := &Session{TokenHash: hash, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ReauthAt: passwordAt, IP: c.IP, UserAgent: c.UserAgent,
		SID: randomHex(16), AMR: amr}
	if attempt == nil {
		if err := s.store.CreateSession(ctx, sess); err != nil {
			return nil, internal("create session", err)
		}
	} else {
		ok, err := s.store.CompleteLogin(ctx, attempt.TokenHash, sess)
		if err != nil {
			return nil, internal("complete login", err)
		} else if !ok {
			return nil, ErrLoginEnded
		}
		if err := s.moveResume(ctx, attempt.TokenHash, hash); err != nil {
			return nil, err
		}
	}
	if err := s.resetFailures(ctx, u.ID); err != nil {
		return nil, internal("reset failures", err)
	}
	if err := s.audit(ctx, AuditLoginSuccess, u, u, how); err != nil {
		return nil, err
	}
	return &LoginState{Step: StepDone, User: u, SessionToken: token, ExpiresAt: now.Add(s.absoluteTimeout)}, nil
}

// attempt returns the live login attempt with the token, waiting for step, and its user.
// (Unlocked reads: a step's own transaction checks again, or reads with lockedAttempt.)
func (s *Service) attempt(ctx context.Context, token string, step LoginStep) (*LoginAttempt, *User, error) {
	return s.liveAttempt(ctx, token, step, func(tokenHash string) (*LoginAttempt, *User, error) {
		a, err := s.store.FindLoginAttempt(ctx, tokenHash)
		if err != nil {
			return nil, nil, err
		}
		u, err := s.store.FindUserByID(ctx, a.UserID)
		if err != nil {
			return nil, nil, internal("attempt user", err)
		}
		return a, u, nil
	})
}

// lockedAttempt is attempt inside a step's store transaction, in one read that locks the
// attempt and its user until the step commits (FindLoginAttemptForUpdate): what it checks (the
// attempt still there and unused, the account enabled, the credentials those the login began
// with) still holds when the step signs in, so the step needs no recheck.
func (s *Service) lockedAttempt(ctx context.Context, token string, step LoginStep) (*LoginAttempt, *User, error) {
	return s.liveAttempt(ctx, token, step, func(tokenHash string) (*LoginAttempt, *User, error) {
		return s.store.FindLoginAttemptForUpdate(ctx, tokenHash)
	})
}

// liveAttempt reads the attempt with the token and its user with find, and returns them if the
// attempt is live and waiting for step. An attempt that has expired, or whose account was
// disabled or had its password, Two-Factor or role changed since the login began (what it
// proved is no longer what the account asks for), is deleted: ErrLoginEnded.
func (s *Service) liveAttempt(ctx context.Context, token string, step LoginStep,
	find func(tokenHash string) (*LoginAttempt, *User, error)) (*LoginAttempt, *User, error) {
	if token == "" {
		return nil, nil, ErrLoginEnded
	}
	a, u, err := find(hashToken(token))
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, ErrLoginEnded
	} else if err != nil {
		return nil, nil, internal("find login attempt", err)
	}
	end := func() (*LoginAttempt, *User, error) {
		if err := s.store.DeleteLoginAttempt(ctx, a.TokenHash); err != nil {
			return nil, nil, internal("delete login attempt", err)
		}
		return nil, nil, ErrLoginEnded
	}
	if !s.now().Before(a.ExpiresAt) {
		return end()
	}
	if step != "" && a.Step != step {
		return nil, nil, Errorf(ECONFLICT, "This step of the login is not the current one.")
	}
	if u.Disabled || u.CredentialsVersion != a.CredentialsVersion {
		return end()
	}
	return a, u, nil
}

// ResumeLogin returns the state of the login attempt with the token, for a page reloaded in the
// middle of a login. It issues no new token: AttemptToken is the one given.
func (s *Service) ResumeLogin(ctx context.Context, attemptToken string) (*LoginState, error) {
	a, u, err := s.attempt(ctx, attemptToken, "")
	if err != nil {
		return nil, err
	}
	return &LoginState{Step: a.Step, User: u, AttemptToken: attemptToken, ExpiresAt: a.ExpiresAt}, nil
}

// A secondFactor checks a code for the user of a login attempt and, if it is valid, uses it up
// so that it is never accepted again. Each method (app, SMS, recovery code) is one of these; a
// method whose codes are bound to the attempt (SMS) checks against a.
type secondFactor func(ctx context.Context, a *LoginAttempt, u *User, code string) (bool, error)

// VerifyTOTP is the second step with a code from the authenticator app.
func (s *Service) VerifyTOTP(ctx context.Context, attemptToken, code string) (*LoginState, error) {
	return s.verify(ctx, attemptToken, code, MethodApp, s.checkTOTP)
}

// VerifyRecoveryCode is the second step with one of the user's recovery codes, which is then used
// up. It works whatever the enrolled method.
func (s *Service) VerifyRecoveryCode(ctx context.Context, attemptToken, code string) (*LoginState, error) {
	return s.verify(ctx, attemptToken, code, "", s.checkRecoveryCode)
}

// verify runs one second-factor check on a login attempt at StepVerify. method, when not empty,
// must be the user's enrolled method. Every check is charged to the account's failure counter
// before it runs.
func (s *Service) verify(ctx context.Context, attemptToken, code string, method Method, check secondFactor) (*LoginState, error) {
	// One transaction from the first read: the attempt and its user, locked (lockedAttempt),
	// then the charge, the check and consume, and the sign-in. The lock serializes concurrent
	// guesses exactly as charging first does, and the whole step syncs once. A refusal before
	// the charge (the login has ended, no such method, no code) counts nothing.
	return s.atomically(ctx, func(ctx context.Context) (*LoginState, error, error) {
		a, u, err := s.lockedAttempt(ctx, attemptToken, StepVerify)
		if err != nil {
			if _, ok := errors.AsType[*Error](err); ok {
				return nil, err, nil // a refusal: an ended attempt's deletion commits
			}
			return nil, nil, err
		}
		if method == MethodWebAuthn {
			// Keys may be registered beside another method: the key rows decide.
			if rows, err := s.store.WebAuthnCredentials(ctx, u.ID); err != nil {
				return nil, nil, internal("webauthn credentials", err)
			} else if len(rows) == 0 {
				return nil, Errorf(EINVALID, "No security key is set up for this account."), nil
			}
		} else if method != "" && u.Method != method {
			return nil, Errorf(EINVALID, "That kind of code is not set up for this account."), nil
		}
		if strings.TrimSpace(code) == "" {
			if method == MethodWebAuthn { // a page posted without its script's answer
				return nil, errKeyUnread, nil
			}
			return nil, WithFields(Errorf(EINVALID, "Enter the code."), FieldCode), nil
		}
		if method == MethodSMS {
			// With no code out there is nothing to guess: say so, and count nothing.
			if waiting, err := s.store.SMSCodeWaiting(ctx, a.TokenHash); err != nil {
				return nil, nil, internal("sms code waiting", err)
			} else if !waiting {
				return nil, errNoSMSCode, nil
			}
		}
		// A second factor: its failures lengthen the locks they reach (lockFor).
		lock, err := s.chargeAttempt(ctx, u.ID, true)
		if ErrorCode(err) == ETOOMANY {
			s.auditThrottled(ctx, u, "second factor")
			return nil, err, nil
		} else if err != nil {
			return nil, nil, internal("charge attempt", err)
		}
		ok, err := check(ctx, a, u, code)
		if err != nil {
			return nil, nil, internal("check code", err)
		} else if !ok {
			s.failed(ctx, secondFactorFailure(method), u, describeMethod(method), lock)
			switch method {
			case MethodApp:
				return nil, errBadAppCode, nil
			case MethodWebAuthn:
				return nil, errBadKey, nil
			}
			return nil, errBadCode, nil
		}
		if method == "" { // a recovery code
			left, _ := s.recoveryCodesLeft(ctx, u.ID)
			if err := s.audit(ctx, AuditRecoveryCodeUsed, u, u, pluralCodes(left)+" left"); err != nil {
				return nil, nil, err
			}
		}
		st, err := s.next(ctx, u, a, "password and "+describeMethod(method), amrFor(method, method == ""), ClientFrom(ctx))
		return st, nil, err
	})
}

func describeMethod(m Method) string {
	switch m {
	case MethodApp:
		return "authenticator app code"
	case MethodSMS:
		return "text message code"
	case MethodWebAuthn:
		return "security key"
	}
	return "recovery code"
}

// changedPasswordAMR is how a login that ends with a new password in place of a temporary one
// was proven: an enrolled user's login passed the second factor (StepVerify, or the enroll
// step) before this step, since next asks for it first.
func changedPasswordAMR(u *User) []string {
	if u.Enrolled() {
		return amrFor(u.Method, false)
	}
	return amrFor("", false)
}

// ChangeExpiredPassword is the login step after an administrator set a temporary password: the
// user chooses a new one and is signed in. (Setting the temporary password already ended the
// user's sessions.) ErrLoginEnded if the account changed meanwhile: an administrator who set
// yet another password while this one was being hashed keeps theirs.
func (s *Service) ChangeExpiredPassword(ctx context.Context, attemptToken, newPassword string) (*LoginState, error) {
	a, u, err := s.attempt(ctx, attemptToken, StepChangePassword)
	if err != nil {
		return nil, err
	}
	if err := CheckNewPassword(newPassword, u.Username); err != nil {
		return nil, err
	}
	// The temporary password was told to someone else (it came from an administrator): keeping
	// it would defeat the point.
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		return nil, internal("password hash", err)
	}
	if same, err := s.passwords.verify(ctx, hash, newPassword); err != nil {
		return nil, internal("verify password", err)
	} else if same {
		return nil, Errorf(EINVALID, "Choose a new password, not the temporary one you were given.")
	}
	newHash, err := s.passwords.hash(ctx, newPassword)
	if err != nil {
		return nil, internal("hash password", err)
	}
	return s.atomically(ctx, func(ctx context.Context) (*LoginState, error, error) {
		if _, err := s.recheck(ctx, u.ID, a.CredentialsVersion); err == errCredentialsChanged {
			return nil, ErrLoginEnded, internal("end login attempt", s.store.DeleteLoginAttempt(ctx, a.TokenHash))
		} else if err != nil {
			return nil, nil, err
		}
		if err := s.store.SetPassword(ctx, u.ID, newHash, false, nil); err != nil {
			return nil, nil, internal("set password", err)
		}
		if err := s.audit(ctx, AuditPasswordChanged, u, u, ""); err != nil {
			return nil, nil, err
		}
		cur, err := s.store.FindUserForUpdate(ctx, u.ID) // its new credentials version
		if err != nil {
			return nil, nil, internal("find user", err)
		}
		st, err := s.next(ctx, cur, a, "new password in place of a temporary one", changedPasswordAMR(cur), ClientFrom(ctx))
		if err != nil {
			return nil, nil, err
		}
		// Recovery codes still on show (enrolled at this login's enroll step) go on under
		// the login's new token.
		next := st.SessionToken
		if st.Step != StepDone {
			next = st.AttemptToken
		}
		if err := s.moveSheet(ctx, u.ID, a.TokenHash, hashToken(next)); err != nil {
			return nil, nil, err
		}
		// Other logins begun with the temporary password end with it: otherwise whoever else
		// knew it could still choose the password from their own login's change_password step.
		if st.Step == StepDone {
			if err := s.store.DeleteUserSessions(ctx, u.ID, hashToken(st.SessionToken)); err != nil {
				return nil, nil, internal("end other logins", err)
			}
		}
		return st, nil, nil
	})
}

// CancelLogin ends a login attempt ("Log out" on the enroll or verify page), with the setup it
// began and any recovery codes it has on show.
func (s *Service) CancelLogin(ctx context.Context, attemptToken string) error {
	if attemptToken == "" {
		return nil
	}
	hash := hashToken(attemptToken)
	return internal("cancel login", s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteOwned(ctx, hash); err != nil { // in Logout's order
			return err
		}
		return s.store.DeleteLoginAttempt(ctx, hash)
	}))
}

// EnrollmentIdentity returns the identity of a login attempt at StepEnroll, for the enrollment
// calls: a required user enrolls before being signed in.
func (s *Service) EnrollmentIdentity(ctx context.Context, attemptToken string) (*Identity, error) {
	a, u, err := s.attempt(ctx, attemptToken, StepEnroll)
	if err != nil {
		return nil, err
	}
	if u.Enrolled() {
		// Enrolled since this login began (in another tab, or by whoever else knows the
		// password): enrolling again here would replace the second factor and sign in
		// without it. This login is over; the next one asks for the second factor.
		if err := s.store.DeleteLoginAttempt(ctx, a.TokenHash); err != nil {
			return nil, internal("delete login attempt", err)
		}
		return nil, ErrLoginEnded
	}
	return &Identity{User: u, attempt: a}, nil
}
