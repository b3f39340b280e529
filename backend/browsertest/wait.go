package browsertest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// WaitFor waits until the JavaScript expression js is true in ctx's tab, for at most timeout.
// It evaluates again every 50 ms, through navigations (an evaluation that fails because the
// page is changing counts as not yet). The error, on timeout, is the last evaluation's.
func WaitFor(ctx context.Context, js string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return nil
		}
		if ctx.Err() != nil {
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("waiting for %s: %w", js, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitHTTP waits until url answers 200 OK, for at most 20 seconds, failing tb otherwise: a
// server that a process started by the test is starting.
func WaitHTTP(tb testing.TB, url string) {
	tb.Helper()
	for range 200 {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("%s did not answer", url)
}

// FreeAddr returns a loopback address (127.0.0.1:PORT) whose port was free a moment ago, for a
// server started in another process. In this process, listen on 127.0.0.1:0 instead.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
