package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"gatehouse/backend"
)

// userList is `gatehouse user list`: a table of the users, all pages of them, optionally
// filtered by a search text and a Two-Factor status.
func (e *Env) userList(ctx context.Context, args []string) error {
	fs, data := e.newFlags("user list", "user list [--search TEXT] [--status STATUS]")
	search := fs.String("search", "", "only users whose username, name or email contains `text`")
	status := fs.String("status", "", `only users with this Two-Factor `+"`status`"+`: "no", "pending" or "enabled" (or the words the list shows)`)
	if err := Parse(fs, args); err != nil {
		return err
	}
	st, err := parseStatus(*status)
	if err != nil {
		return err
	}
	svc, closer, err := e.open(*data)
	if err != nil {
		return err
	}
	defer closer.Close()
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tROLE\tSTATUS\tTWO-FACTOR AUTHENTICATION")
	for offset := 0; ; {
		page, err := svc.Users(ctx, svc.Operator(), backend.UserFilter{Search: *search, Status: st, Offset: offset, Limit: 500})
		if err != nil {
			return domainError(err)
		}
		for _, u := range page.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Email, u.Role, svc.AccountStateLabel(u), u.TwoFactorStatus().Label())
		}
		offset += len(page.Users)
		if len(page.Users) == 0 || offset >= page.Total {
			break
		}
	}
	return tw.Flush()
}

func parseStatus(s string) (backend.TwoFactorStatus, error) {
	if s == "" {
		return "", nil
	}
	st, err := backend.ParseTwoFactorStatus(s)
	if err != nil {
		return "", UsageError{Msg: backend.ErrorMessage(err)}
	}
	return st, nil
}
