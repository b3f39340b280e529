package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A Width is a viewport pages are looked at in.
type Width struct {
	Name          string // the screenshot's suffix: "desktop", "phone"
	Width, Height int64
	Mobile        bool // a phone: mobile viewport and touch
}

// The widths the pages are checked and shown at.
var (
	Desktop = Width{Name: "desktop", Width: 1280, Height: 900}
	Phone   = Width{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// ShotsDir is where screenshots go, to be looked at (not committed): GATEHOUSE_SCREENSHOT_DIR,
// or /tmp/gatehouse-shots. Shoot and Shot make it if it does not exist.
func ShotsDir() string {
	if dir := os.Getenv("GATEHOUSE_SCREENSHOT_DIR"); dir != "" {
		return dir
	}
	return "/tmp/gatehouse-shots"
}

// Emulate sets the viewport of ctx's tab to w (at scale 1) and waits until the page has it.
func Emulate(ctx context.Context, w Width) error {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if w.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w.Width, w.Height, opts...)); err != nil {
		return err
	}
	return WaitFor(ctx, fmt.Sprintf("window.innerWidth === %d", w.Width), 10*time.Second)
}

// Shoot saves full-page screenshots of ctx's page at each width, as dir/name-WIDTH.png, calling
// check (if not nil) at each width first, then sets the viewport back to Desktop. An error
// fails tb.
func Shoot(tb testing.TB, ctx context.Context, dir, name string, check func(Width), widths ...Width) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, w := range widths {
		if err := Emulate(ctx, w); err != nil {
			tb.Fatalf("%s: viewport %s: %v", name, w.Name, err)
		}
		if check != nil {
			check(w)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			tb.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+w.Name+".png"), png, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Desktop.Width, Desktop.Height)); err != nil {
		tb.Fatalf("%s: viewport: %v", name, err)
	}
}

// Shot saves a screenshot of what ctx's tab shows as dir/name.png. It only logs a failure: a
// screenshot is there to be looked at, and is often taken when the test has failed already.
func Shot(tb testing.TB, ctx context.Context, dir, name string) {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		tb.Logf("screenshot %s: %v", name, err)
	}
}
