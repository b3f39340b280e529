package cli

import (
	"context"
	"flag"
	"fmt"

	"gatehouse/backend"
)

// appEdit is `gatehouse app edit APP`: the settings named by the flags given change, the others
// stay. --redirect-uri, if given, replaces the whole list.
func (e *Env) appEdit(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app edit", "app edit APP [--name N] [--redirect-uri U …] [--domain D …] [--admins-only=true|false] [--require-2fa=true|false] [--backchannel-uri U]")
	name := fs.String("name", "", "a new `name`")
	var uris uriList
	fs.Var(&uris, "redirect-uri", "a redirect `URI`; given once or more, the new list replaces the old one")
	var domains uriList
	fs.Var(&domains, "domain", "a protected `domain`; given once or more, the new list replaces the old one (--domain= removes them all)")
	adminsOnly := fs.Bool("admins-only", false, "only administrators may sign in to it (=false: everyone)")
	require := fs.Bool("require-2fa", false, "Require Two-Factor (=false: not required)")
	backchannel := fs.String("backchannel-uri", "", `back-channel logout `+"`URI`"+` ("" removes it)`)
	ref, err := oneApp(fs, args)
	if err != nil {
		return err
	}
	var ch backend.AppChanges
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			ch.Name = name
		case "redirect-uri":
			l := []string(uris)
			ch.RedirectURIs = &l
		case "domain":
			l := []string(domains)
			ch.Domains = &l
		case "admins-only":
			a := audience(*adminsOnly)
			ch.Audience = &a
		case "require-2fa":
			ch.RequireTwoFactor = require
		case "backchannel-uri":
			ch.BackchannelLogoutURI = backchannel
		}
	})
	if ch == (backend.AppChanges{}) {
		fs.Usage()
		return UsageError{Msg: "app edit: give at least one setting to change"}
	}
	return e.withApp(ctx, *data, ref, func(svc *backend.Service, a *backend.App) error {
		a, err := svc.UpdateApp(operatorContext(ctx), svc.Operator(), a.ID, ch)
		if err != nil {
			return domainError(err)
		}
		fmt.Fprintln(e.Stdout, backend.AppUpdatedNotice(a))
		printApp(e.Stdout, a)
		return nil
	})
}
