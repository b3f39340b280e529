package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gatehouse/backend/postgres"
	"gatehouse/backend/serverkey"
	"gatehouse/backend/storecopy"
)

// DatabaseUsageLines are the program usage's lines for the database commands.
const DatabaseUsageLines = `  gatehouse database copy --data DIR --to URL   copy a SQLite installation into an empty PostgreSQL database
`

// Database runs `gatehouse database SUBCOMMAND …`; args follow "database".
func (e *Env) Database(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(e.Stderr, e.Usage)
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(e.Stderr, e.Usage)
		return UsageError{Msg: "database: name a subcommand: copy"}
	}
	switch args[0] {
	case "copy":
		return e.databaseCopy(ctx, args[1:])
	}
	return UsageError{Msg: fmt.Sprintf("database: unknown subcommand %q (copy)", args[0])}
}

const databaseCopyHelp = `database copy --data DIR --to URL

Copies the SQLite installation in the data directory DIR (its gatehouse.db) into an empty
PostgreSQL database: every user with their password hash, Two-Factor enrollment (sealed
secrets, SMS phones), recovery codes, locks and failure counters, sessions, logins and setups
in progress, and the audit log, with their IDs. It creates the tables of a new database, and
writes everything in one transaction: all of it, or nothing.

It refuses, changing nothing, when the PostgreSQL database holds any data (but the check
value of this installation's server key, which a gatehouse started on it leaves), when a gatehouse
(serve or the desktop console) has DIR open (stop it first: what it wrote later would be
lost), and when DIR's database was made by another version of gatehouse (run this version's
gatehouse user list --data DIR first, which brings it up to date). DIR is left as it was.

Afterwards, give every gatehouse serve on PostgreSQL the same server key, this installation's
DIR/secret.key: --secret-key-file PATH or GATEHOUSE_SECRET_KEY="$(cat DIR/secret.key)".
With another key, no authenticator app enrolled before the copy can be checked.

Flags:
`

// databaseCopy is `gatehouse database copy`: the data directory's SQLite database into an
// empty PostgreSQL database (storecopy.Copy).
func (e *Env) databaseCopy(ctx context.Context, args []string) error {
	fs, data := NewFlagSet("database copy", e.Stderr, "", e.DataDir)
	var to string
	to = os.Getenv(e.DatabaseEnv)
	fs.Func("to", "the PostgreSQL database `URL` to copy into, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: env "+e.DatabaseEnv+"; prefer the variable: other users can read command lines)",
		func(s string) error { to = s; return nil })
	fs.Usage = func() {
		fmt.Fprint(e.Stderr, "Usage: gatehouse "+databaseCopyHelp)
		fs.PrintDefaults()
	}
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return UsageError{Msg: fmt.Sprintf("database copy takes no arguments, got %q", fs.Args())}
	}
	if to == "" {
		return UsageError{Msg: "database copy needs --to URL (or " + e.DatabaseEnv + "): the empty PostgreSQL database to copy into"}
	}
	if !postgres.IsURL(to) {
		return UsageError{Msg: "--to must be a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE"}
	}
	dir, err := filepath.Abs(*data)
	if err != nil {
		return err
	}
	res, err := storecopy.Copy(ctx, filepath.Join(dir, e.DatabaseFile), to)
	if err != nil {
		return err
	}
	total, width := 0, 0
	for _, t := range res.Tables {
		total += t.Rows
		width = max(width, len(t.Name))
	}
	fmt.Fprintf(e.Stdout, "Copied %s into database %s on %s: %d rows in %d tables, %d users and %d audit events among them (and an audit event of the copy).\n",
		filepath.Join(dir, e.DatabaseFile), res.Database, res.Host, total, len(res.Tables), res.Rows("users"), res.Rows("audit_events"))
	for _, t := range res.Tables {
		fmt.Fprintf(e.Stdout, "  %-*s %d\n", width, t.Name, t.Rows) // the counts in one column however long the names
	}
	fmt.Fprintf(e.Stdout, "\nNext: run gatehouse serve (and the console, and user commands) with %s set to this\n"+
		"database and this installation's server key on every server:\n", e.DatabaseEnv)
	if key := filepath.Join(dir, serverkey.FileName); fileExists(key) {
		fmt.Fprintf(e.Stdout, "  --secret-key-file %s (a copy, readable by its user only), or\n  %s=\"$(cat %s)\"\n", key, serverkey.EnvVar, key)
	} else {
		fmt.Fprintf(e.Stdout, "  the key this installation ran with (%s has none: %s), as --secret-key-file PATH or %s\n",
			dir, serverkey.FileName, serverkey.EnvVar)
	}
	fmt.Fprintf(e.Stdout, `The data directory %s is unchanged: keep it, with its key, as the backup of the moment
of the copy, and do not start gatehouse on it again (what it would write is not copied).
`, dir)
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
