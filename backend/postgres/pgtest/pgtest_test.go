package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// query returns the one value of sql on the database at url.
func query(t *testing.T, url, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v string
	if err := conn.QueryRow(context.Background(), sql).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDatabases: each test's database is its own and empty, UTF-8, and gone after the test.
func TestDatabases(t *testing.T) {
	var first string
	t.Run("first", func(t *testing.T) {
		first = Database(t)
		Exec(t, first, `CREATE TABLE mine (x int); INSERT INTO mine VALUES (1)`)
	})
	second := Database(t)
	if second == first {
		t.Fatalf("two tests got the same database %s", first)
	}
	if n := query(t, second, `SELECT count(*)::text FROM pg_tables WHERE schemaname = 'public'`); n != "0" {
		t.Errorf("a new database has %s tables, want 0", n)
	}
	if enc := query(t, second, `SHOW server_encoding`); enc != "UTF8" {
		t.Errorf("server_encoding %s, want UTF8", enc)
	}
	if _, err := pgx.Connect(context.Background(), first); err == nil {
		t.Errorf("the first test's database is still there after it ended")
	}
}

// TestStopStart: a cluster of its own stops and starts again on the same port with its data.
func TestStopStart(t *testing.T) {
	c := New(t, Options{Durable: true})
	u := c.Database(t)
	Exec(t, u, `CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)`)
	if v := query(t, u, `SHOW fsync`); v != "on" {
		t.Errorf("Durable cluster: fsync %s, want on", v)
	}
	port := c.Port()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(context.Background(), u); err == nil {
		t.Fatal("connected to a stopped cluster")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if c.Port() != port {
		t.Errorf("port after restart %d, want %d", c.Port(), port)
	}
	if v := query(t, u, `SELECT x::text FROM kept`); v != "42" {
		t.Errorf("after restart: %s, want 42", v)
	}
}

// TestHelperCluster is not a test: TestClusterEndsWithTheBinary runs the test binary with it,
// to start the shared cluster, say where it is, and wait to be killed.
func TestHelperCluster(t *testing.T) {
	if os.Getenv("PGTEST_HELPER") != "1" {
		return
	}
	c := Shared(t)
	pid, err := os.ReadFile(c.data() + "/postmaster.pid")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("cluster %s %s\n", c.dir, strings.SplitN(string(pid), "\n", 2)[0])
	time.Sleep(time.Minute)
}

// TestClusterEndsWithTheBinary: a test binary killed with SIGKILL (no Main, no cleanup) leaves
// no PostgreSQL running and no directory behind: the watcher stops and removes them.
func TestClusterEndsWithTheBinary(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCluster$", "-test.v")
	cmd.Env = append(os.Environ(), "PGTEST_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	var pid int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "cluster" {
			dir = f[1]
			pid, _ = strconv.Atoi(f[2])
			break
		}
	}
	if dir == "" || pid == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the helper did not report its cluster")
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("the helper's postmaster %d is not running: %v", pid, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, statErr := os.Stat(dir)
		alive := syscall.Kill(pid, 0) == nil
		if !alive && os.IsNotExist(statErr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the test binary was killed: postmaster running %v, directory %s there %v", alive, dir, statErr == nil)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDatabaseFor: one key, one database, however many ask at once; another key, another.
func TestDatabaseFor(t *testing.T) {
	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 8)
	for range 8 {
		go func() {
			u, err := c.DatabaseFor("dir A")
			if err != nil {
				t.Error(err)
			}
			urls <- u
		}()
	}
	first := <-urls
	for range 7 {
		if u := <-urls; u != first {
			t.Fatalf("DatabaseFor(dir A): %s and %s", first, u)
		}
	}
	if other, err := c.DatabaseFor("dir B"); err != nil || other == first {
		t.Fatalf("DatabaseFor(dir B): %s, %v; want another database than %s", other, err, first)
	}
	Exec(t, first, `CREATE TABLE t (x int)`)
}
