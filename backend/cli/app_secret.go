package cli

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// appSecret is `gatehouse app secret APP`: a new client secret, printed once; the old one
// stops working.
func (e *Env) appSecret(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app secret", "app secret APP")
	ref, err := oneApp(fs, args)
	if err != nil {
		return err
	}
	return e.withApp(ctx, *data, ref, func(svc *backend.Service, a *backend.App) error {
		a, secret, err := svc.RegenerateAppSecret(operatorContext(ctx), svc.Operator(), a.ID)
		if err != nil {
			return domainError(err)
		}
		fmt.Fprintln(e.Stdout, backend.AppSecretRegeneratedNotice(a))
		fmt.Fprintf(e.Stdout, "Client ID:               %s\n", a.ClientID)
		printSecret(e.Stdout, secret)
		return nil
	})
}
