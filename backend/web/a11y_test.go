package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/emulation"
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

// Accessibility, measured by a real tool: axe-core (npm, pinned in testdata/axe, installed by
// build/test.sh with npm ci) runs in Chromium on every page the browser tests reach (open,
// waitHeading, and each width of TestBrowserScreenshots), signed in and out, and a serious or
// critical violation fails the test.

// axePath is axe-core's script, as npm installs it.
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

var axeScript = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(axePath)
	return string(b), err
})

// axeRun is JavaScript that runs axe-core on the page and returns its serious and critical
// violations, as JSON.
const axeRun = `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
	.filter(v => v.impact === "serious" || v.impact === "critical")
	.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " "))}))))`

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// checkA11y runs axe-core on the page as it is now and fails the test on a serious or critical
// violation. A page in the same state (address, width, heading, dialogs open) is checked once.
func (tb *tab) checkA11y() {
	tb.t.Helper()
	src, err := axeScript()
	if err != nil {
		tb.t.Fatalf("the accessibility checks need axe-core: run npm ci in backend/web/testdata/axe (build/test.sh does): %v", err)
	}
	state := tb.eval(`[location.href, window.innerWidth, document.title, (document.querySelector("h1") || {}).textContent, document.querySelectorAll("dialog[open], details[open]").length, document.querySelectorAll("[aria-invalid=true]").length].join("|")`)
	if tb.checked == nil {
		tb.checked = map[string]bool{}
	}
	if tb.checked[state] {
		return
	}
	tb.checked[state] = true
	if tb.noScript {
		// A page loaded without JavaScript stays so (its own scripts did not run); axe-core
		// needs script execution back for the time of its run.
		tb.scriptsDisabled(false)
		defer tb.scriptsDisabled(true)
	}
	if tb.eval(`typeof axe`) == "undefined" {
		if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			tb.t.Fatalf("inject axe-core: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("axe-core on %s: %v", state, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		tb.t.Fatalf("axe-core's answer %q: %v", out, err)
	}
	for _, v := range vs {
		tb.t.Errorf("accessibility (axe-core %s, %s) on %s: %s\n\t%s", v.ID, v.Impact, strings.SplitN(state, "|", 3)[:2], v.Help, strings.Join(v.Nodes, "\n\t"))
	}
	tb.a11yChecks++
}

// scriptsDisabled turns the page's JavaScript off (a browser without it; set noScript too) or on
// again.
func (tb *tab) scriptsDisabled(off bool) {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off}); err != nil {
		tb.t.Fatal(err)
	}
}

// a11yReport says how many page states a tab had checked.
func (tb *tab) a11yReport() string {
	return fmt.Sprintf("%d page states checked by axe-core", tb.a11yChecks)
}
