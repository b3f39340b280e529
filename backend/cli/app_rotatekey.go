package cli

import (
	"context"
	"fmt"
	"time"

	"gatehouse/backend"
)

// appRotateSigningKey is `gatehouse app rotate-signing-key`: a new key signs the ID tokens of
// every application from now on; the old one stays published until the tokens it signed have
// expired. It takes no APP: there is one key for all of them, which is why the command says
// "signing key" rather than "key" (beside `app secret APP`, which is one application's).
func (e *Env) appRotateSigningKey(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app rotate-signing-key", "app rotate-signing-key")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return UsageError{Msg: "app rotate-signing-key takes no arguments: the key is every application's"}
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	kid, err := svc.RotateSigningKey(operatorContext(ctx), svc.Operator())
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintf(e.Stdout, "New signing key %s: ID tokens are signed with it from now on (within %s on every server).\n", kid, 30*time.Second)
	fmt.Fprintf(e.Stdout, "The old key stays published in the JWKS for %s, until the ID tokens it signed have expired.\n", backend.SigningKeyKeep)
	return nil
}
