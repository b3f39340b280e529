package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"gatehouse/backend"
)

// appList is `gatehouse app list`: a table of the applications, all pages of them.
func (e *Env) appList(ctx context.Context, args []string) error {
	fs, data := e.newFlags("app list", "app list")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return UsageError{Msg: "app list takes no arguments"}
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCLIENT ID\tTYPE\tWHO MAY USE IT\tREQUIRE TWO-FACTOR\tREDIRECT URIS")
	for offset := 0; ; {
		page, err := svc.Apps(ctx, svc.Operator(), backend.AppFilter{Offset: offset, Limit: 500})
		if err != nil {
			return domainError(err)
		}
		for _, a := range page.Apps {
			typ := "confidential"
			if a.Public {
				typ = "public"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.ClientID, typ, a.Audience.Label(),
				map[bool]string{true: "Yes", false: "No"}[a.RequireTwoFactor], strings.Join(a.RedirectURIs, " "))
		}
		offset += len(page.Apps)
		if len(page.Apps) == 0 || offset >= page.Total {
			break
		}
	}
	return tw.Flush()
}
