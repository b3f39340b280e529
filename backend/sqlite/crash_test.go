package sqlite

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// crashEnv names the database the helper process writes to; its presence makes
// TestHelperProcess the writer instead of a no-op.
const crashEnv = "GATEHOUSE_SQLITE_CRASH_DB"

// TestHelperProcess is the child of TestCrashSafety: it writes in a loop and prints each write
// after the store acknowledged it, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		return
	}
	run := os.Getenv(crashEnv + "_RUN")
	fail := func(err error) { fmt.Fprintln(os.Stderr, err); os.Exit(2) }
	db, err := Open(path)
	if err != nil {
		fail(err)
	}
	counter, err := db.FindUserByUsername(ctx, "counter")
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		counter = &backend.User{Username: "counter", Role: backend.RoleUser}
		err = db.CreateUser(ctx, counter, "h")
	}
	if err != nil {
		fail(err)
	}
	fmt.Fprintln(os.Stdout, "ready")
	deadline := time.Now().Add(20 * time.Second) // in case the parent is gone
	for i := 0; time.Now().Before(deadline); i++ {
		u := &backend.User{Username: fmt.Sprintf("r%s-%d", run, i), Role: backend.RoleUser}
		if err := db.CreateUser(ctx, u, "h"); err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stdout, "user %d %s\n", u.ID, u.Username)

		e := &backend.AuditEvent{Action: "crash.test", Detail: u.Username}
		if err := db.AddAuditEvent(ctx, e); err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stdout, "audit %d %s\n", e.ID, e.Detail)

		var n int
		err := db.UpdateFailures(ctx, counter.ID, func(f *backend.Failures, _ time.Time) error {
			f.Count++
			n = f.Count
			return nil
		})
		if err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stdout, "count %d\n", n)
	}
	os.Exit(3)
}

// TestCrashSafety kills a writing process with SIGKILL at random moments, over and over, and
// checks after each kill that every write it acknowledged is in the database and the file is
// intact.
func TestCrashSafety(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	runs := 60
	if testing.Short() {
		runs = 10
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	acked, maxCount := 0, 0
	for run := range runs {
		lines, stderr := crashChild(t, path, run)
		if strings.TrimSpace(stderr) != "" && !strings.Contains(stderr, "signal: killed") {
			t.Fatalf("run %d: child failed: %s", run, stderr)
		}

		db, err := Open(path)
		if err != nil {
			t.Fatalf("run %d: reopen after kill: %v", run, err)
		}
		events, _, err := db.FindAuditEvents(ctx, backend.AuditFilter{Action: "crash.test", Limit: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		detail := map[int64]string{}
		for _, e := range events {
			detail[e.ID] = e.Detail
		}
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			id, _ := strconv.ParseInt(f[1], 10, 64)
			switch f[0] {
			case "user":
				u, err := db.FindUserByID(ctx, id)
				if err != nil || u.Username != f[2] {
					t.Errorf("run %d: acknowledged user %d %s: got %v, %v", run, id, f[2], u, err)
				}
				acked++
			case "audit":
				if detail[id] != f[2] {
					t.Errorf("run %d: acknowledged audit event %d %s: got %q", run, id, f[2], detail[id])
				}
				acked++
			case "count":
				maxCount = max(maxCount, int(id))
				acked++
			}
		}
		if maxCount > 0 {
			var count int
			err := db.UpdateFailures(ctx, mustUser(t, db, "counter"), func(f *backend.Failures, _ time.Time) error {
				count = f.Count
				return nil
			})
			if err != nil || count < maxCount {
				t.Errorf("run %d: counter %d, %v; want at least the acknowledged %d", run, count, err, maxCount)
			}
		}
		if err := db.Check(ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		db.Close()
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d kills, %d acknowledged writes checked", runs, acked)
	if acked < runs {
		t.Fatalf("only %d acknowledged writes in %d runs: the kills came too early to test anything", acked, runs)
	}
}

// crashChild runs the helper process on path, kills it with SIGKILL after a random delay and
// returns the complete lines it printed, and its stderr.
func crashChild(t *testing.T, path string, run int) ([]string, string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path, crashEnv+"_RUN="+strconv.Itoa(run))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The runs killed while they write first let the child acknowledge a few writes, so that
	// every such run has something to check however slow the machine's disk syncs are.
	want := 2 + rand.IntN(3)
	written, eof := make(chan struct{}), make(chan struct{})
	linesc := make(chan []string)
	go func() {
		var lines []string
		acks := 0
		r := bufio.NewReader(out)
		for {
			l, err := r.ReadString('\n')
			if err != nil { // EOF after the kill; a line without '\n' was cut off: not acknowledged
				break
			}
			if l != "ready\n" {
				if acks++; acks == want {
					close(written)
				}
			}
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
		close(eof)
		io.Copy(io.Discard, out)
		linesc <- lines
	}()

	// Every third run is killed at any moment from its start, while it may be opening (or
	// creating and migrating) the file; the others while they write.
	if run%3 == 0 {
		time.Sleep(time.Duration(rand.IntN(60)) * time.Millisecond)
	} else {
		select {
		case <-written:
		case <-eof:
			<-linesc
			cmd.Wait() // stderr is complete only now
			t.Fatalf("run %d: child ended before %d acknowledged writes: %s", run, want, stderr.String())
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-linesc
			cmd.Wait()
			t.Fatalf("run %d: child did not acknowledge %d writes in a minute: %s", run, want, stderr.String())
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	lines := <-linesc
	cmd.Wait()
	return lines, stderr.String()
}

func mustUser(t *testing.T, db *DB, name string) int64 {
	u, err := db.FindUserByUsername(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
