package cli

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// appCreate is `gatehouse app create`: an application, its client secret printed once.
func (e *Env) appCreate(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app create", "app create --name N {--redirect-uri U | --domain D} [--redirect-uri U2 …] [--domain D2 …] [--public] [--admins-only] [--require-2fa] [--backchannel-uri U]")
	name := fs.String("name", "", "the application's `name` (required)")
	var uris uriList
	fs.Var(&uris, "redirect-uri", "a redirect `URI`, matched exactly: https, or http on localhost (repeat for more)")
	var domains uriList
	fs.Var(&domains, "domain", "a protected `domain` for forward-auth: app.example.com or *.tools.example.com (repeat for more)")
	public := fs.Bool("public", false, "a public application (single-page or native): no client secret, PKCE required")
	adminsOnly := fs.Bool("admins-only", false, "only administrators may sign in to it (default: everyone)")
	require := fs.Bool("require-2fa", false, "Require Two-Factor: no sign-in to it without a second factor")
	backchannel := fs.String("backchannel-uri", "", "back-channel logout `URI` (optional)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *name == "" || len(uris)+len(domains) == 0 || fs.NArg() > 0 {
		fs.Usage()
		return UsageError{Msg: "app create needs --name and --redirect-uri or --domain, and no other arguments"}
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	a, secret, err := svc.CreateApp(operatorContext(ctx), svc.Operator(), backend.NewApp{
		Name: *name, RedirectURIs: uris, Domains: domains, Public: *public, Audience: audience(*adminsOnly),
		RequireTwoFactor: *require, BackchannelLogoutURI: *backchannel,
	})
	if err != nil {
		return domainError(err)
	}
	fmt.Fprintf(e.Stdout, "Created application %q.\n", a.Name)
	printApp(e.Stdout, a)
	if secret != "" {
		printSecret(e.Stdout, secret)
	}
	return nil
}

// audience is the audience the --admins-only flag says.
func audience(adminsOnly bool) backend.AppAudience {
	if adminsOnly {
		return backend.AudienceAdmins
	}
	return backend.AudienceEveryone
}
