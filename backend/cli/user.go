package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"gatehouse/backend"
)

// User runs `gatehouse user SUBCOMMAND …`; args follow "user".
func (e *Env) User(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(e.Stderr, e.Usage)
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(e.Stderr, e.Usage)
		return UsageError{Msg: "user: name a subcommand: create, list, reset-2fa, unlock, set-password or seed"}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return e.userCreate(ctx, args)
	case "list":
		return e.userList(ctx, args)
	case "reset-2fa":
		return e.userReset2FA(ctx, args)
	case "unlock":
		return e.userUnlock(ctx, args)
	case "set-password":
		return e.userSetPassword(ctx, args)
	case "seed":
		return e.userSeed(ctx, args)
	}
	return UsageError{Msg: fmt.Sprintf("user: unknown subcommand %q (create, list, reset-2fa, unlock, set-password, seed)", sub)}
}

// userChange makes an administrator's change to the user named in args, as the operator, and
// prints what done says of the result: reset-2fa and unlock.
func (e *Env) userChange(ctx context.Context, args []string, name, usageLine string,
	change func(*backend.Service, context.Context, *backend.Identity, int64) (*backend.User, error), done func(*backend.User) string) error {
	fs, data := e.newFlags(name, usageLine)
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	u, err := svc.UserByUsername(ctx, svc.Operator(), username)
	if err != nil {
		return domainError(err)
	}
	u, err = change(svc, operatorContext(ctx), svc.Operator(), u.ID)
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintln(e.Stdout, done(u))
	return nil
}
