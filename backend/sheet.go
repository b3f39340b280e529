package backend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// recoverySheetTTL is how long a set of recovery codes just handed out stays on show: long
// enough to print and save them, never longer.
const recoverySheetTTL = 15 * time.Minute

// RecoveryCodeSheet is what the recovery codes page shows, and what its Print and Save print
// and save: a set of codes just handed out, until "I have saved these codes" or ExpiresAt.
type RecoveryCodeSheet struct {
	Username  string
	Codes     []string
	Issued    time.Time // when the codes were made
	ExpiresAt time.Time // no longer shown after this
	// Replaced reports that these codes replaced a set the user had (Regenerate, or a new
	// setup over an old one), which stopped working then: the page says so
	// (RecoveryCodesReplacedText).
	Replaced bool
	// Method is the method the user is enrolled with now, which the sheet's words follow
	// (RecoveryCodesLeadText).
	Method Method
}

// RecoveryCodesReplacedText is what the recovery codes page says of a sheet that replaced a set.
const RecoveryCodesReplacedText = "Your old recovery codes stopped working just now, used or not: only these new ones work."

// replacedMark is the last line of a sheet's sealed text when its codes replaced a set. Codes
// never look like it.
const replacedMark = "#replaced"

var errNoSheet = Errorf(ENOTFOUND, "These recovery codes are no longer available. If you did not save them, regenerate them from your Profile.")

// sheetAD binds a sealed sheet to its user and to whoever received it: a sheet copied to
// another row fails to open.
func sheetAD(userID int64, owner string) []byte {
	return fmt.Appendf(nil, "gatehouse recovery sheet user %d owner %s", userID, owner)
}

// putSheet keeps the codes just handed out to owner (the token hash of the session, or login
// attempt, the front end holds from now on), sealed under the server key: they are shown
// again to that owner only, after a reload, on another server, or after a restart, and the
// database alone reveals none. replaced says they replaced a set the user had; it is sealed
// with them (a last line, replacedMark), which is all the page needs to know of it. It joins
// the caller's transaction, so the codes that work and the codes on show are stored together
// or not at all.
func (s *Service) putSheet(ctx context.Context, userID int64, owner string, codes []string, replaced bool) error {
	lines := codes
	if replaced {
		lines = append(slices.Clone(codes), replacedMark)
	}
	sealed := s.sealer.seal(sheetAD(userID, owner), []byte(strings.Join(lines, "\n")))
	_, err := s.store.PutRecoverySheet(ctx, owner, userID, sealed, recoverySheetTTL)
	return internal("put recovery sheet", err)
}

// moveSheet hands the sheet from's login received to to, the token its login goes on under,
// if there is one: the codes stay on show after the step in between.
func (s *Service) moveSheet(ctx context.Context, userID int64, from, to string) error {
	p, err := s.store.FindRecoverySheet(ctx, from)
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return internal("find recovery sheet", err)
	}
	plain, err := s.sealer.open(sheetAD(userID, from), p.Sealed)
	if err != nil {
		return err
	}
	_, err = s.store.MoveRecoverySheet(ctx, from, to, s.sealer.seal(sheetAD(userID, to), plain))
	return internal("move recovery sheet", err)
}

// sheet opens owner's sheet of u; errNoSheet (ENOTFOUND) if there is none, or it expired.
func (s *Service) sheet(ctx context.Context, u *User, owner string) (*RecoveryCodeSheet, error) {
	if owner == "" {
		return nil, errNoSheet
	}
	p, err := s.store.FindRecoverySheet(ctx, owner)
	if ErrorCode(err) == ENOTFOUND {
		return nil, errNoSheet
	} else if err != nil {
		return nil, internal("find recovery sheet", err)
	}
	if p.UserID != u.ID || !s.now().Before(p.ExpiresAt) {
		return nil, errNoSheet
	}
	plain, err := s.sealer.open(sheetAD(u.ID, owner), p.Sealed)
	if err != nil {
		return nil, err
	}
	codes := strings.Split(string(plain), "\n")
	replaced := len(codes) > 0 && codes[len(codes)-1] == replacedMark
	if replaced {
		codes = codes[:len(codes)-1]
	}
	return &RecoveryCodeSheet{Username: u.Username, Codes: codes, Issued: p.CreatedAt, ExpiresAt: p.ExpiresAt, Replaced: replaced, Method: u.Method}, nil
}

// RecoveryCodeSheet returns the recovery codes id's session received (a completed enrollment,
// or Regenerate) and has not acknowledged, to show, print or save. Only the session they were
// handed to sees them: another session of the same user finds none. ENOTFOUND once they are
// acknowledged, expired (after 15 minutes), or replaced by a newer set; EUNAUTHORIZED if id is
// not a session or a login at the enroll step.
func (s *Service) RecoveryCodeSheet(ctx context.Context, id *Identity) (*RecoveryCodeSheet, error) {
	if err := id.requireEnroller(); err != nil {
		return nil, err
	}
	return s.sheet(ctx, id.User, id.setupOwner())
}

// LoginRecoveryCodeSheet is RecoveryCodeSheet for a login still in progress: enrolled at its
// enroll step, and with a step still to take (a temporary password to change). ErrLoginEnded
// if the login has ended.
func (s *Service) LoginRecoveryCodeSheet(ctx context.Context, attemptToken string) (*RecoveryCodeSheet, error) {
	a, u, err := s.attempt(ctx, attemptToken, "")
	if err != nil {
		return nil, err
	}
	return s.sheet(ctx, u, a.TokenHash)
}

// AcknowledgeRecoveryCodes is "I have saved these codes": id's sheet is deleted, and no one can
// show those codes again (they keep working). The audit log records it, so that an
// administrator asked "I never got my codes" can see whether they were acknowledged.
// Acknowledging when there is no sheet does nothing.
func (s *Service) AcknowledgeRecoveryCodes(ctx context.Context, id *Identity) error {
	if err := id.requireEnroller(); err != nil {
		return err
	}
	return s.acknowledge(ctx, id.User, id.setupOwner())
}

// AcknowledgeLoginRecoveryCodes is AcknowledgeRecoveryCodes for a login still in progress.
func (s *Service) AcknowledgeLoginRecoveryCodes(ctx context.Context, attemptToken string) error {
	a, u, err := s.attempt(ctx, attemptToken, "")
	if err != nil {
		return err
	}
	return s.acknowledge(ctx, u, a.TokenHash)
}

// acknowledge deletes owner's sheet of u and records that, in one transaction.
func (s *Service) acknowledge(ctx context.Context, u *User, owner string) error {
	return internal("acknowledge recovery codes", s.store.Atomically(ctx, func(ctx context.Context) error {
		deleted, err := s.store.DeleteRecoverySheet(ctx, owner)
		if err != nil || !deleted {
			return err
		}
		return s.audit(ctx, AuditRecoveryCodesSaved, u, u, "")
	}))
}
