package cli

import (
	"context"
	"fmt"
)

// userSetPassword is `gatehouse user set-password USERNAME --password-stdin`: a new password,
// read from standard input; the user's sessions end.
func (e *Env) userSetPassword(ctx context.Context, args []string) error {
	fs, data := e.newFlags("user set-password", "user set-password USERNAME --password-stdin [--must-change]")
	pwStdin := fs.Bool("password-stdin", false, "read the new password from the first line of standard input (required)")
	mustChange := fs.Bool("must-change", false, "the user must choose a new password at next login")
	username, err := oneUsername(fs, args)
	if err != nil {
		return err
	}
	if !*pwStdin {
		return UsageError{Msg: "user set-password needs --password-stdin"}
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
	u, err := svc.UserByUsername(ctx, svc.Operator(), username)
	if err != nil {
		return domainError(err)
	}
	if err := svc.SetUserPassword(operatorContext(ctx), svc.Operator(), u.ID, password, *mustChange); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(e.Stdout, "Password of %q set; their sessions have ended.\n", u.Username)
	return nil
}
