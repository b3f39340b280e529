package cli

import (
	"flag"
	"fmt"

	"gatehouse/backend"
)

// Version runs `gatehouse version` (main also runs it for `gatehouse --version`): it prints
// the program's version, the commit it was built from and its Go release, the text the web
// footer shows administrators (backend.VersionText). It opens no data directory.
func (e *Env) Version(args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: gatehouse version   (or gatehouse --version)\n\nPrints the version, the commit it was built from and the Go release.\n")
	}
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return UsageError{Msg: fmt.Sprintf("version takes no arguments, got %q", fs.Args())}
	}
	fmt.Fprintln(e.Stdout, backend.VersionText())
	return nil
}
