package cli

import (
	"context"

	"gatehouse/backend"
)

// appShow is `gatehouse app show APP`: an application's settings (never its secret, which is
// not kept).
func (e *Env) appShow(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app show", "app show APP")
	ref, err := oneApp(fs, args)
	if err != nil {
		return err
	}
	return e.withApp(ctx, *data, ref, func(_ *backend.Service, a *backend.App) error {
		printApp(e.Stdout, a)
		return nil
	})
}
