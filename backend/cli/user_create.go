package cli

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// userCreate is `gatehouse user create`: a user, with the password read from standard input
// (never an argument, which other users can see in the process list).
func (e *Env) userCreate(ctx context.Context, args []string) error {
	fs, data := e.newFlags("user create", "user create --username U [--name N] [--email E] [--admin] [--require-2fa] [--must-change] --password-stdin")
	username := fs.String("username", "", "the `username` (required)")
	name := fs.String("name", "", "display `name`")
	email := fs.String("email", "", "email `address`")
	admin := fs.Bool("admin", false, "make the user an administrator")
	require := fs.Bool("require-2fa", false, "require Two-Factor Authentication: the user enrolls at first login")
	mustChange := fs.Bool("must-change", false, "the user must choose a new password at first login")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (required)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *username == "" || !*pwStdin || fs.NArg() > 0 {
		fs.Usage()
		return UsageError{Msg: "user create needs --username and --password-stdin, and no other arguments"}
	}
	password, err := readPassword(e.Stdin)
	if err != nil {
		return err
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	role := backend.RoleUser
	if *admin {
		role = backend.RoleAdmin
	}
	u, err := svc.CreateUser(operatorContext(ctx), svc.Operator(), backend.NewUser{
		Username: *username, DisplayName: *name, Email: *email, Password: password, Role: role,
		RequireTwoFactor: *require, MustChangePassword: *mustChange,
	})
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintf(e.Stdout, "Created %s %q (Two-Factor Authentication: %s).\n", u.Role, u.Username, u.TwoFactorStatus().Label())
	return nil
}
