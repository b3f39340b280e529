package cli

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestVersion: `gatehouse version` prints backend's version text, one line, and nothing else;
// it takes no arguments.
func TestVersion(t *testing.T) {
	var out, errs bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &errs}
	if err := e.Version(nil); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), backend.VersionText()+"\n"; got != want || errs.Len() != 0 {
		t.Errorf("got %q (stderr %q), want %q", got, errs.String(), want)
	}
	out.Reset()
	if err := e.Version([]string{"extra"}); ExitCode(err) != 2 || !strings.Contains(err.Error(), "no arguments") || out.Len() != 0 {
		t.Errorf("version extra: got %v, output %q; want a usage error and no output", err, out.String())
	}
	if err := e.Version([]string{"--help"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errs.String(), "Usage: gatehouse version") {
		t.Errorf("version --help: got %v, stderr %q", err, errs.String())
	}
}
