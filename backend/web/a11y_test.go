package web

import (
	"os"
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// shot saves a screenshot of the whole page in shotsDir, to be looked at.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	os.MkdirAll(shotsDir, 0o755)
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("%s: screenshot: %v", name, err)
	}
	os.WriteFile(filepath.Join(shotsDir, name+".png"), png, 0o644)
}
