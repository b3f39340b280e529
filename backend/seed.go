package backend

import (
	"context"
	"fmt"
)

// MaxSeedUsers bounds SeedUsers' count: enough for any benchmark, and the users go in one
// transaction.
const MaxSeedUsers = 1_000_000

// SeedRefusedError is SeedUsers' refusal of a store that already has users who are not
// administrators: invented accounts must not mix into real ones, and seeding twice must fail
// rather than double the data. Its code is ECONFLICT; Users says how many such users there are.
type SeedRefusedError struct {
	Users int
}

func (e *SeedRefusedError) Error() string { return e.Unwrap().Error() }

// Unwrap returns the domain error (ECONFLICT) that ErrorCode and ErrorMessage read.
func (e *SeedRefusedError) Unwrap() error {
	return Errorf(ECONFLICT, "Test users are only added to a store without users who are not administrators; this one has %d.", e.Users)
}

// Seeded is what SeedUsers added: Count users, from First to Last (usernames).
type Seeded struct {
	Count       int
	First, Last string
}

// SeedUsers adds count test users, for trying the administration pages and for benchmarks, not
// as real accounts: user000000, user000001, … named "Test User 0", … with user000000@example.com,
// …, role user, every 3rd required to use Two-Factor Authentication, every 4th enrolled by SMS at
// a fictional +1 202 555 01xx number. They all share one password hash, of password.
//
// Administrators (and the operator) only. The first user goes through the path of CreateUser:
// the password rules, the real argon2id hash, its audit event. The others share its hash and
// are inserted in bulk (Store.SeedUsers) with one audit event for them all, in the same
// transaction, which also checks that the store has no user who is not an administrator
// (*SeedRefusedError otherwise). EINVALID for a count out of 1 to MaxSeedUsers or a password
// the rules refuse.
func (s *Service) SeedUsers(ctx context.Context, id *Identity, count int, password string) (*Seeded, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	if count < 1 || count > MaxSeedUsers {
		return nil, Errorf(EINVALID, "Add from 1 to %d test users.", MaxSeedUsers)
	}
	// Refused before the password is hashed; decided again inside the transaction, where no
	// other writer can add a user between the check and the inserts.
	if err := s.seedable(ctx); err != nil {
		return nil, err
	}
	users := make([]*User, count)
	for i := range users {
		u := &User{Username: fmt.Sprintf("user%06d", i), DisplayName: fmt.Sprintf("Test User %d", i),
			Email: fmt.Sprintf("user%06d@example.com", i), Role: RoleUser, TwoFactorRequired: i%3 == 0, Method: MethodNone}
		if i%4 == 1 {
			u.Method, u.SMSPhone = MethodSMS, fmt.Sprintf("+1202555%04d", 100+i%100)
		}
		users[i] = u
	}
	nu := tidyNewUser(NewUser{Username: users[0].Username, DisplayName: users[0].DisplayName, Email: users[0].Email,
		Password: password, Role: RoleUser, RequireTwoFactor: users[0].TwoFactorRequired})
	if err := checkNewUser(nu); err != nil {
		return nil, err
	}
	first, hash, err := s.newUser(ctx, nu) // the slow hash, before the transaction
	if err != nil {
		return nil, err
	}
	users[0] = first
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.seedable(ctx); err != nil {
			return err
		}
		if err := s.insertUser(ctx, id.actor(), first, hash); err != nil {
			return err
		}
		rest := users[1:]
		if len(rest) == 0 {
			return nil
		}
		if err := s.store.SeedUsers(ctx, rest, hash); err != nil {
			return internal("seed users", err)
		}
		actor := id.actor()
		e := &AuditEvent{Action: AuditUserCreated, ActorID: actor.ID, ActorName: actor.Username, IP: ClientFrom(ctx).IP,
			Detail: fmt.Sprintf("user seed: %d more test users, %s to %s, sharing %s's password", len(rest), rest[0].Username, rest[len(rest)-1].Username, first.Username)}
		if err := s.store.AddAuditEvent(ctx, e); err != nil {
			return internal("audit seed", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Seeded{Count: count, First: users[0].Username, Last: users[count-1].Username}, nil
}

// seedable returns a *SeedRefusedError if the store has users who are not administrators.
func (s *Service) seedable(ctx context.Context) error {
	if _, n, err := s.store.FindUsers(ctx, UserFilter{Role: RoleUser, Limit: 1}); err != nil {
		return internal("count users", err)
	} else if n > 0 {
		return &SeedRefusedError{Users: n}
	}
	return nil
}
