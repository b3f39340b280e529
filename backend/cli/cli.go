// Package cli is the command line of Gatehouse's operators: the `gatehouse user …` commands,
// one file per subcommand, and the conventions every command of the program keeps (the --data
// flag, exit status 2 for a mistake in the command line and 1 for a refused request).
//
// main wires it (Env): the standard streams, the default data directory, the program's usage
// and the way to open the System. A command changes the store only through backend.Service,
// as its operator (Service.Operator), so the rules and the audit log apply as in the front ends.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"gatehouse/backend"
)

// Env is what the commands get from main.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// DataDir is the default of every command's --data flag: GATEHOUSE_DATA, else the per-user
	// data directory.
	DataDir string
	// Usage is the program's usage, printed by `user --help` and when no subcommand is named.
	Usage string
	// Open opens the System on a data directory (creating the directory and its server key on
	// first use), logging to logger. The command closes what it returns when it is done.
	Open func(dataDir string, logger *slog.Logger) (*backend.Service, io.Closer, error)
	// StoreFlags, if set, adds to every command's flags those beside --data that say where the
	// System's data is (main: --database, --secret-key-file); Open reads what they parsed.
	StoreFlags func(fs *flag.FlagSet)
	// DatabaseFile is the SQLite database's file in a data directory, and DatabaseEnv the
	// environment variable that may name a PostgreSQL database (main: package location's),
	// for `database copy`. (This package must not import location, whose tests run it.)
	DatabaseFile, DatabaseEnv string
}

// UsageLines are the program usage's lines for the user commands.
const UsageLines = `  gatehouse user create [flags]      create a user (--help for flags)
  gatehouse user list [flags]        list users and their Two-Factor status
  gatehouse user reset-2fa USERNAME  clear a user's Two-Factor enrollment (the requirement stays)
  gatehouse user unlock USERNAME     lift a lock after too many failed attempts
  gatehouse user set-password USERNAME --password-stdin [--must-change]
  gatehouse user seed --count N [--password-stdin]   add N test users (test and benchmark data only)
`

// UsageError is a mistake in the command line: exit status 2, like package flag's own errors.
// Printed says the flag package has already printed it (with the usage), so main does not again.
type UsageError struct {
	Msg     string
	Printed bool
}

func (e UsageError) Error() string { return e.Msg }

// ExitCode is the exit status for a command's error: 2 for a UsageError, else 1.
func ExitCode(err error) int {
	var u UsageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// NewFlagSet returns a flag set with the --data flag every command has, defaulting to dataDir.
// Its usage prints "Usage: gatehouse " + summary and the flags.
func NewFlagSet(name string, stderr io.Writer, summary, dataDir string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", dataDir, "data `directory` (env GATEHOUSE_DATA)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: gatehouse %s\n\nFlags:\n", summary)
		fs.PrintDefaults()
	}
	return fs, data
}

// Parse parses args, turning flag errors (already printed) into a UsageError; --help gives
// flag.ErrHelp, an answer rather than a mistake (exit status 0).
func Parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return UsageError{Msg: err.Error(), Printed: true}
	}
	return err
}

// newFlags is NewFlagSet for a user command.
func (e *Env) newFlags(name, summary string) (*flag.FlagSet, *string) {
	fs, data := NewFlagSet(name, e.Stderr, summary, e.DataDir)
	if e.StoreFlags != nil {
		e.StoreFlags(fs)
	}
	return fs, data
}

// open opens the System on dataDir for a command, logging to stderr.
func (e *Env) open(dataDir string) (*backend.Service, io.Closer, error) {
	return e.Open(dataDir, slog.New(slog.NewTextHandler(e.Stderr, nil)))
}

// operatorContext marks what the command line does as the operator's, for the audit log.
func operatorContext(ctx context.Context) context.Context {
	return backend.WithClient(ctx, backend.Client{IP: "cli", UserAgent: "gatehouse cli"})
}

// readPassword reads one line: the password, without its line ending.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", UsageError{Msg: "no password on standard input (e.g. `printf '%s\\n' \"$PASSWORD\" | gatehouse user create …`)"}
	}
	return line, nil
}

// domainError turns a backend error into what the command line prints.
func domainError(err error) error {
	if backend.ErrorCode(err) == backend.EINTERNAL {
		return err
	}
	return errors.New(backend.ErrorMessage(err))
}

// oneUsername parses a command that takes flags and exactly one USERNAME, in any order.
func oneUsername(fs *flag.FlagSet, args []string) (string, error) {
	if err := Parse(fs, flagsFirst(fs, args)); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", UsageError{Msg: fmt.Sprintf("%s takes one USERNAME", fs.Name())}
	}
	return fs.Arg(0), nil
}

// flagsFirst moves flags (with their values) before positional arguments, so "cmd NAME --flag"
// parses like "cmd --flag NAME": package flag stops at the first non-flag.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && i+1 < len(args) {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(flags, rest...)
}
