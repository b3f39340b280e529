package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"gatehouse/backend"
)

// userSeed is `gatehouse user seed --count N`: count test users (Service.SeedUsers), data for
// trying the administration pages and for the benchmarks (build/bench.sh), not a way to create
// real accounts. The Service refuses a database that has any user who is not an administrator,
// so invented users never mix into one in use, and running it twice fails instead of doubling
// the data.
func (e *Env) userSeed(ctx context.Context, args []string) error {
	fs, data := e.newFlags("user seed", `user seed --count N [--password-stdin]

Adds N test users in one transaction, for trying the administration pages and for benchmarks
(build/bench.sh): user000000, user000001, … named "Test User 0", … with user000000@example.com, …,
role user, a mix of Two-Factor statuses (every 3rd required, so Pending; every 4th enrolled by SMS
at a fictional +1 202 555 01xx number). They all share one password hash: with --password-stdin
the password read (it must pass the password rules), else a random one nobody knows (set one
later with user set-password). The first user is created as "user create" does; the others are
written directly, with one audit event for them all.

It refuses a database that has any user who is not an administrator: seed a new data directory
(an administrator, from user create --admin, may exist).`)
	count := fs.Int("count", 0, "how many users to add, 1 to 1000000 (required)")
	pwStdin := fs.Bool("password-stdin", false, "read the users' password from the first line of standard input")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *count < 1 || *count > backend.MaxSeedUsers || fs.NArg() > 0 {
		fs.Usage()
		return UsageError{Msg: fmt.Sprintf("user seed needs --count from 1 to %d, and no other arguments", backend.MaxSeedUsers)}
	}
	password := rand.Text() + rand.Text()
	if *pwStdin {
		var err error
		if password, err = readPassword(e.Stdin); err != nil {
			return err
		}
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	seeded, err := svc.SeedUsers(operatorContext(ctx), svc.Operator(), *count, password)
	if refused, ok := errors.AsType[*backend.SeedRefusedError](err); ok {
		return fmt.Errorf("user seed makes test data and refuses a database with users who are not administrators (%s has %d): seed a new data directory", *data, refused.Users)
	} else if err != nil {
		return domainError(err)
	}
	fmt.Fprintf(e.Stdout, "Added %d test users, %s to %s.\n", seeded.Count, seeded.First, seeded.Last)
	return nil
}
