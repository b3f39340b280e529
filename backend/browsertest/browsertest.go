// Package browsertest drives real headless Chromium from tests (github.com/chromedp/chromedp):
// it starts the browser with the flags DESIGN.md gives, takes screenshots at desktop and phone
// widths, and waits for what a page or a server should come to. The web pages' tests
// (backend/web) and the desktop console's (app_test.go, which drives the real front end of a
// dev build) use it; backend/desktoptest starts that console.
//
// A missing Chromium fails the test: CI installs it (build/test.sh), and a browser test that
// skips proves nothing.
package browsertest

import (
	"context"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromiumPaths are where Chromium is looked for, Debian's package first.
var chromiumPaths = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// Chromium returns the path of the Chromium binary, failing tb if there is none.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, p := range chromiumPaths {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	tb.Fatal("browser tests need Chromium: install the Debian package chromium (build/test.sh does)")
	return ""
}

// Start starts headless Chromium for tb, with a 1280×900 window, and returns its first tab's
// context: chromedp.NewContext of it opens more tabs (with chromedp.WithNewBrowserContext, each
// with its own cookies). opts add to, or override, the flags. The browser ends with tb.
func Start(tb testing.TB, opts ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	all := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(tb)),
		// DESIGN.md's flags for Chromium in tests.
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(all, opts...)...)
	ctx, cancel := chromedp.NewContext(alloc)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		tb.Fatalf("start chromium: %v", err)
	}
	return ctx
}
