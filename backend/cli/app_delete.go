package cli

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// appDelete is `gatehouse app delete APP --yes`: the application goes, and sign-ins to it with
// it. --yes is the confirmation the front ends ask for (it cannot be undone).
func (e *Env) appDelete(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app delete", "app delete APP --yes")
	yes := fs.Bool("yes", false, "delete without asking: it cannot be undone (required)")
	ref, err := oneApp(fs, args)
	if err != nil {
		return err
	}
	if !*yes {
		fs.Usage()
		return UsageError{Msg: "app delete needs --yes: deleting an application cannot be undone"}
	}
	return e.withApp(ctx, *data, ref, func(svc *backend.Service, a *backend.App) error {
		a, err := svc.DeleteApp(operatorContext(ctx), svc.Operator(), a.ID)
		if err != nil {
			return domainError(err)
		}
		fmt.Fprintln(e.Stdout, backend.AppDeletedNotice(a))
		return nil
	})
}
