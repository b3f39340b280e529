package backend

import (
	"context"
	"time"
)

// Identity is someone the Service has recognised: by a session (signed in), by a login attempt
// at the enroll step (password given, must enroll before being signed in), or the operator at
// the command line. Front ends get one from Authenticate or EnrollmentIdentity and pass it back.
type Identity struct {
	User     *User
	session  *Session
	attempt  *LoginAttempt
	operator bool
}

// Operator is the identity of the command line: someone with access to the data directory, who
// may do everything an administrator may.
func (s *Service) Operator() *Identity {
	return &Identity{User: &User{Username: "cli", Role: RoleAdmin}, operator: true}
}

// SignedIn reports whether id is a full session (not a login that must enroll first).
func (id *Identity) SignedIn() bool { return id != nil && id.session != nil }

// IsAdmin reports whether id may use administration.
func (id *Identity) IsAdmin() bool {
	return id != nil && (id.operator || (id.session != nil && id.User.Role == RoleAdmin))
}

func (id *Identity) requireAdmin() error {
	if !id.IsAdmin() {
		return Errorf(EFORBIDDEN, "Only administrators can do that.")
	}
	return nil
}

func (id *Identity) requireSignedIn() error {
	if !id.SignedIn() {
		return Errorf(EUNAUTHORIZED, "Log in first.")
	}
	return nil
}

// requireEnroller refuses with EUNAUTHORIZED an identity that cannot have a Two-Factor setup
// in progress: only a session or a login at the enroll step can.
func (id *Identity) requireEnroller() error {
	if id == nil || (id.session == nil && id.attempt == nil) {
		return Errorf(EUNAUTHORIZED, "Log in first.")
	}
	return nil
}

// setupOwner is what a Two-Factor setup id begins belongs to: the token hash of its session,
// or of its login attempt at the enroll step (which keeps its token until the setup is
// confirmed). Only the same owner finds the setup again, so another session of the same user
// can neither see nor confirm it.
func (id *Identity) setupOwner() string {
	switch {
	case id == nil:
		return ""
	case id.session != nil:
		return id.session.TokenHash
	case id.attempt != nil:
		return id.attempt.TokenHash
	}
	return ""
}

// actor is the user to record as the actor of an audit event.
func (id *Identity) actor() *User {
	if id == nil {
		return nil
	}
	return id.User
}

var errSessionEnded = Errorf(EUNAUTHORIZED, "%s", SessionEndedNotice)

// Authenticate returns the identity holding the session token. The session ends after
// IdleTimeout without use, AbsoluteTimeout after login, or when its user is disabled. While
// the session cache runs (StartSessionCache), a session checked recently is answered from memory (sessioncache.go).
func (s *Service) Authenticate(ctx context.Context, token string) (*Identity, error) {
	if token == "" {
		return nil, errSessionEnded
	}
	hash := hashToken(token)
	now := s.now()
	c := s.sessions
	if e := c.lookup(hash); e != nil {
		if id := s.fromCache(e, now); id != nil {
			return id, nil
		}
	}
	gen := c.generation()
	sess, u, err := s.store.FindSession(ctx, hash)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errSessionEnded
	} else if err != nil {
		return nil, internal("find session", err)
	}
	seen := sess.LastSeenAt
	if t := c.lastUse(hash); t.After(seen) {
		seen = t // a use here not written yet
	}
	if s.sessionOver(sess, u, seen, now) {
		return nil, s.endSession(ctx, hash)
	}
	if c.active() {
		// The cache writes the last use with others' (flush): no write here.
		c.put(gen, sess, u, now)
		sess.LastSeenAt = now
		return &Identity{User: u, session: sess}, nil
	}
	// Recording every request would make every page a write; a minute's precision is plenty
	// for a 30-minute idle timeout.
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.store.TouchSession(ctx, hash); err != nil {
			return nil, internal("touch session", err)
		}
	}
	return &Identity{User: u, session: sess}, nil
}

// sessionOver reports whether sess, last used at seen, has ended by now: unused for longer
// than IdleTimeout, older than AbsoluteTimeout, or its user u disabled. The one rule of
// Authenticate, the session cache (fromCache) and applications' tokens (liveSession).
func (s *Service) sessionOver(sess *Session, u *User, seen, now time.Time) bool {
	return now.Sub(seen) > s.idleTimeout || now.Sub(sess.CreatedAt) > s.absoluteTimeout || u.Disabled
}

func (s *Service) endSession(ctx context.Context, hash string) error {
	if err := s.store.DeleteSession(ctx, hash); err != nil {
		return internal("end session", err)
	}
	return errSessionEnded
}

// SessionExpiresAt is when id's session ends if it stays in use (the absolute timeout).
func (s *Service) SessionExpiresAt(id *Identity) time.Time {
	if id == nil || id.session == nil {
		return time.Time{}
	}
	return id.session.CreatedAt.Add(s.absoluteTimeout)
}

// Logout ends id's session, or its login attempt, with the setup it began and any recovery
// codes it has on show. Its audit event is best effort (auditBestEffort): a session someone
// asked to end ends whether or not the log takes it.
func (s *Service) Logout(ctx context.Context, id *Identity) error {
	if id == nil {
		return nil
	}
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		// What it owns first, then the session or attempt: the order in which an
		// administrator's change deletes them, so that two such transactions on a store with
		// row locks wait for each other instead of deadlocking.
		if owner := id.setupOwner(); owner != "" {
			if err := s.store.DeleteOwned(ctx, owner); err != nil {
				return err
			}
		}
		switch {
		case id.session != nil:
			if err := s.store.DeleteSession(ctx, id.session.TokenHash); err != nil {
				return err
			}
		case id.attempt != nil:
			if err := s.store.DeleteLoginAttempt(ctx, id.attempt.TokenHash); err != nil {
				return err
			}
		}
		s.auditBestEffort(ctx, AuditLogout, id.User, id.User, "")
		return nil
	})
	return internal("logout", err)
}

// ConfirmPassword checks the signed-in user's password again, which allows changes to their
// two-factor settings for ReauthWindow. Wrong passwords count towards the account's lockout.
// The login itself is such a confirmation (signIn): it is needed once ReauthWindow has passed
// since the password was given.
func (s *Service) ConfirmPassword(ctx context.Context, id *Identity, password string) error {
	if err := id.requireSignedIn(); err != nil {
		return err
	}
	if err := s.checkPassword(ctx, id.User, password); err != nil {
		return err
	}
	if err := s.store.SetSessionReauth(ctx, id.session.TokenHash); err != nil {
		return internal("reauth", err)
	}
	id.session.ReauthAt = s.now()
	return nil
}

// requireRecentPassword refuses with EREAUTH unless id confirmed the password within
// ReauthWindow: by ConfirmPassword, or by logging in (signIn). A login attempt qualifies: its
// password was given moments ago.
func (s *Service) requireRecentPassword(id *Identity) error {
	if id != nil && id.attempt != nil {
		return nil
	}
	if err := id.requireSignedIn(); err != nil {
		return err
	}
	if s.now().Sub(id.session.ReauthAt) > s.reauthWindow {
		return Errorf(EREAUTH, "Confirm your password to continue.")
	}
	return nil
}

// NeedsPasswordConfirmation reports whether id must confirm its password (ConfirmPassword)
// before the changes to two-factor settings that need a recent one would be allowed. Front ends
// use it to ask for the password on the form of the change itself, instead of after it.
func (s *Service) NeedsPasswordConfirmation(id *Identity) bool {
	return ErrorCode(s.requireRecentPassword(id)) == EREAUTH
}

// checkPassword verifies the password of a signed-in user, charging the account's failure
// counter first, as every guess does.
func (s *Service) checkPassword(ctx context.Context, u *User, password string) error {
	lock, err := s.chargeAttempt(ctx, u.ID, false)
	if err != nil {
		return err
	}
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		return internal("password hash", err)
	}
	ok, err := s.passwords.verify(ctx, hash, password)
	if err != nil {
		return internal("verify password", err)
	} else if !ok {
		s.failed(ctx, AuditLoginFailure, u, "password confirmation", lock)
		return WithFields(Errorf(EUNAUTHORIZED, "Incorrect password."), FieldCurrentPassword)
	}
	return s.resetFailures(ctx, u.ID)
}

// PurgeExpired deletes the sessions, login attempts, app setups and recovery code sheets that
// can no longer be used, SMS records older than a day (expired codes and setups, MessageSids
// seen), and audit events older than Config.AuditRetention. The servers call it now and then;
// expiry is enforced on every use regardless.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.now()
	// Sessions that expire end too: their applications are owed a back-channel logout, in the
	// purge's transaction (backend/logout_delivery.go).
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteExpired(ctx, now.Add(-s.idleTimeout), now.Add(-s.absoluteTimeout), now); err != nil {
			return err
		}
		_, err := s.store.QueueLogoutDeliveries(ctx, 0)
		return err
	})
	if err != nil {
		return internal("purge expired", err)
	}
	if err := s.purgeOIDC(ctx, now); err != nil {
		return err
	}
	if err := s.store.DeleteSessionRevocations(ctx, now.Add(-revocationKeep)); err != nil {
		return internal("purge session revocations", err)
	}
	if err := s.store.DeleteExpiredSMS(ctx, now.Add(-smsInboundKeep)); err != nil {
		return internal("purge expired sms", err)
	}
	if err := s.store.DeleteExpiredWebAuthn(ctx, now); err != nil {
		return internal("purge expired webauthn", err)
	}
	n, err := s.store.DeleteAuditEvents(ctx, now.Add(-s.auditRetention))
	if n > 0 {
		s.log.Info("audit events past their retention deleted", "count", n, "retention", s.auditRetention)
	}
	return internal("purge audit events", err)
}
