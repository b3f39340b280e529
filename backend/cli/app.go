package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"gatehouse/backend"
)

// AppUsageLines are the program usage's lines for the application commands.
const AppUsageLines = `  gatehouse app create --name N --redirect-uri U|--domain D [flags]   register an application (--help for flags)
  gatehouse app list                 list the applications
  gatehouse app show APP             an application's settings (APP: its name or client ID)
  gatehouse app edit APP [flags]     change an application's settings (--help for flags)
  gatehouse app secret APP           regenerate a confidential application's client secret
  gatehouse app delete APP --yes     delete an application
  gatehouse app rotate-signing-key   a new key for the ID tokens of every application
`

// App runs `gatehouse app SUBCOMMAND …`; args follow "app".
func (e *Env) App(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(e.Stderr, e.Usage)
		return flag.ErrHelp
	}
	const subs = "create, list, show, edit, secret, delete or rotate-signing-key"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(e.Stderr, e.Usage)
		return UsageError{Msg: "app: name a subcommand: " + subs}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return e.appCreate(ctx, args)
	case "list":
		return e.appList(ctx, args)
	case "show":
		return e.appShow(ctx, args)
	case "edit":
		return e.appEdit(ctx, args)
	case "secret":
		return e.appSecret(ctx, args)
	case "delete":
		return e.appDelete(ctx, args)
	case "rotate-signing-key":
		return e.appRotateSigningKey(ctx, args)
	}
	return UsageError{Msg: fmt.Sprintf("app: unknown subcommand %q (%s)", sub, subs)}
}

// uriList is a repeatable flag: each use adds one URI.
type uriList []string

func (l *uriList) String() string { return strings.Join(*l, " ") }

func (l *uriList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// oneApp parses a command that takes flags and exactly one APP (a name or client ID), in any
// order.
func oneApp(fs *flag.FlagSet, args []string) (string, error) {
	if err := Parse(fs, flagsFirst(fs, args)); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", UsageError{Msg: fmt.Sprintf("%s takes one APP: its name or client ID", fs.Name())}
	}
	return fs.Arg(0), nil
}

// withApp opens the System on data, finds the application ref names and runs fn on it as the
// operator.
func (e *Env) withApp(ctx context.Context, data, ref string, fn func(svc *backend.Service, a *backend.App) error) error {
	svc, closer, err := e.open(data)
	if err != nil {
		return err
	}
	defer closer.Close()
	a, err := svc.AppByRef(ctx, svc.Operator(), ref)
	if err != nil {
		return domainError(err)
	}
	return fn(svc, a)
}

// printApp writes an application's settings, one per line.
func printApp(w io.Writer, a *backend.App) {
	fmt.Fprintf(w, "Name:                    %s\n", a.Name)
	fmt.Fprintf(w, "Client ID:               %s\n", a.ClientID)
	fmt.Fprintf(w, "Type:                    %s\n", a.TypeLabel())
	fmt.Fprintf(w, "Who may use it:          %s\n", a.Audience.Label())
	fmt.Fprintf(w, "Require Two-Factor:      %s\n", map[bool]string{true: "Yes", false: "No"}[a.RequireTwoFactor])
	for i, u := range a.RedirectURIs {
		label := ""
		if i == 0 {
			label = "Redirect URIs:"
		}
		fmt.Fprintf(w, "%-24s %s\n", label, u)
	}
	for i, d := range a.Domains {
		label := ""
		if i == 0 {
			label = "Protected domains:"
		}
		fmt.Fprintf(w, "%-24s %s\n", label, d)
	}
	bc := a.BackchannelLogoutURI
	if bc == "" {
		bc = "(none)"
	}
	fmt.Fprintf(w, "Back-channel logout URI: %s\n", bc)
	fmt.Fprintf(w, "Created:                 %s\n", backend.FormatTime(a.CreatedAt))
	fmt.Fprintf(w, "Updated:                 %s\n", backend.FormatTime(a.UpdatedAt))
}

// printSecret writes a client secret just made, with what to do with it.
func printSecret(w io.Writer, secret string) {
	fmt.Fprintf(w, "Client secret:           %s\n%s\n", secret, backend.SecretShownOnce)
}
