// Package desktoptest runs the built desktop console (Wails, WebKitGTK) for app_test.go's
// TestDesktop* tests: a virtual X display of the test's own (Xvfb), the console binary started
// on it with a data directory of its own, and screenshots of the display (ImageMagick). A dev
// build (-tags dev,webkit2_41) also serves the real front end with the real Go bindings on
// loopback, which those tests drive from Chromium (backend/browsertest).
//
// The tests need the binaries, which build/desktop-test.sh builds, so they run only with
// GATEHOUSE_DESKTOP_TESTS=1 (Binary skips otherwise); a missing tool then fails them.
package desktoptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Binary returns the absolute path of the console binary named by the environment variable
// envVar (GATEHOUSE_BINARY, GATEHOUSE_DEV_BINARY), failing tb if it is not set or not there. It
// skips tb unless GATEHOUSE_DESKTOP_TESTS=1.
func Binary(tb testing.TB, envVar string) string {
	tb.Helper()
	if os.Getenv("GATEHOUSE_DESKTOP_TESTS") != "1" {
		tb.Skip("set GATEHOUSE_DESKTOP_TESTS=1 (build/desktop-test.sh) to run the desktop layer tests")
	}
	bin := os.Getenv(envVar)
	if bin == "" {
		tb.Fatalf("%s is not set", envVar)
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		tb.Fatalf("%s: %v", envVar, err)
	}
	return abs
}

// Xvfb starts a virtual X display of its own, 1280×860, and returns its name (":N"); it stops
// when tb ends.
func Xvfb(tb testing.TB) string {
	tb.Helper()
	for n := 90; n < 140; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		display := fmt.Sprintf(":%d", n)
		cmd := exec.Command("Xvfb", display, "-screen", "0", "1280x860x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start Xvfb: %v", err)
		}
		tb.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
		for range 100 {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return display
			}
			time.Sleep(50 * time.Millisecond)
		}
		tb.Fatalf("Xvfb %s did not start", display)
	}
	tb.Fatal("no free X display")
	return ""
}

// StartConsole runs the console binary bin on display with a new data directory in
// tb.TempDir (GATEHOUSE_DATA, and its working directory) and the environment env added,
// logging to a file that is printed if tb fails. It returns the process and the data
// directory; the process is killed when tb ends, unless it has ended.
func StartConsole(tb testing.TB, bin, display string, env ...string) (*exec.Cmd, string) {
	tb.Helper()
	data := tb.TempDir()
	logPath := filepath.Join(tb.TempDir(), "console.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = data
	cmd.Env = append(os.Environ(), append([]string{"DISPLAY=" + display, "GATEHOUSE_DATA=" + data}, env...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		logFile.Close()
		if tb.Failed() {
			out, _ := os.ReadFile(logPath)
			tb.Logf("console log:\n%s", out)
		}
	})
	return cmd, data
}

// Screenshot saves what display shows as the PNG file path (ImageMagick's import), making its
// directory if need be.
func Screenshot(display, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return exec.Command("import", "-display", display, "-window", "root", path).Run()
}
