// Package pgtest runs a throwaway PostgreSQL for tests: a real server (initdb and pg_ctl of the
// installed PostgreSQL, 15 on Debian) in a temporary directory, listening on a free loopback
// port, with a fresh database for each test.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) } // optional: stops the cluster when the tests end
//
//	url := pgtest.Database(t) // postgres://… of a new, empty database, dropped when t ends
//
// (A table of store constructors that gets a data directory rather than a test uses Start and
// Cluster.DatabaseFor instead.)
//
// A test binary starts one cluster, on first use, and shares it between its tests; each test
// gets a database of its own (CREATE DATABASE), so tests may run in parallel. The cluster is
// stopped (pg_ctl -m fast stop) and its directory removed when the binary ends: by Main, or,
// without it or if the binary is killed, by a small watcher process that waits for the test
// binary's end. A test that needs a cluster of its own (to stop and restart PostgreSQL under
// load, or with fsync on) starts one with New.
//
// PostgreSQL missing is a failure, never a skip: build/test.sh installs Debian's postgresql.
// initdb refuses to run as root: as root, the server runs as the postgres user, which the
// Debian package creates.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a cluster started with New.
type Options struct {
	// Durable keeps fsync on. By default a test cluster does not sync its writes (fsync=off):
	// faster, and what a crash of the server process loses is still nothing, but a crash of
	// the machine would lose commits.
	Durable bool
	// Settings are more server settings (name to value), e.g. {"max_connections": "50"}.
	Settings map[string]string
}

// Cluster is a PostgreSQL server of the tests.
type Cluster struct {
	dir      string // temporary directory: data/, the socket, the log
	bin      string // directory of initdb, pg_ctl and postgres
	port     int
	settings map[string]string
	cred     *syscall.Credential // the postgres user's, when running as root
	watcher  *os.File            // write end of the watcher's stdin: closed, it stops the cluster

	mu      sync.Mutex
	running bool
	n       int               // databases created
	keyed   map[string]string // DatabaseFor's databases by key
}

var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
)

// Shared returns the test binary's cluster, starting it on first use. It fails tb if
// PostgreSQL is not installed or does not start.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := Start()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return c
}

// Start is Shared for a caller without a testing.TB, such as a table of store constructors:
// it returns the test binary's cluster, starting it on first use, or why it cannot.
func Start() (*Cluster, error) {
	sharedOnce.Do(func() { shared, sharedErr = start(Options{}) })
	return shared, sharedErr
}

// Database returns the URL of a new, empty database on the shared cluster, dropped when tb
// ends.
func Database(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).Database(tb)
}

// Main runs the tests (m.Run) and then stops the shared cluster, if it was started, and exits
// with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		shared.remove()
	}
	os.Exit(code)
}

// New starts a cluster of tb's own, stopped and removed when tb ends.
func New(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	c, err := start(opts)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
		c.remove()
	})
	return c
}

// start initialises a cluster in a new temporary directory and starts it.
func start(opts Options) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, keyed: map[string]string{}, settings: map[string]string{
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": dir,
		"max_connections":         "300",
		"shared_buffers":          "32MB",
		"log_min_messages":        "warning",
		"fsync":                   "off",
		"full_page_writes":        "off",
	}}
	if opts.Durable {
		delete(c.settings, "fsync")
		delete(c.settings, "full_page_writes")
	}
	for k, v := range opts.Settings {
		c.settings[k] = v
	}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse root: run them as the postgres user, in a directory it owns.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, PostgreSQL must run as the user postgres, which does not exist (%v): install Debian's postgresql package", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	// --no-sync: a test cluster's initial files need not reach the disk. C.UTF-8: UTF-8 text and
	// Unicode case folding (ILIKE), like a production database, independent of the machine's
	// locale settings.
	if out, err := c.run("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "--encoding=UTF8",
		"--locale=C.UTF-8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := c.watch(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.Start(); err != nil {
		c.remove()
		return nil, err
	}
	return c, nil
}

// findBin returns the directory of PostgreSQL's server programs.
func findBin() (string, error) {
	for _, dir := range []string{"/usr/lib/postgresql/15/bin"} {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/15/bin, from pg_config or on PATH): install it (Debian: apt-get install postgresql; build/test.sh does)")
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// command returns the PostgreSQL program name with args, run as the postgres user when this
// process is root.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PGTZ=UTC")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// run runs a PostgreSQL program and returns its output.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := c.command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// watch starts the watcher: a shell, as the cluster's user and in a process group of its own
// (so that the terminal's ^C reaches the tests, not it), that waits for its standard input to
// close, which happens when this process ends however it ends, then stops the cluster and
// removes its directory.
func (c *Cluster) watch() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", `cat >/dev/null; "$0" -D "$1" -m fast -w stop >/dev/null 2>&1; rm -rf "$2"`,
		filepath.Join(c.bin, "pg_ctl"), c.data(), c.dir)
	cmd.Dir, cmd.Env, cmd.Stdin = c.dir, c.command("pg_ctl").Env, r
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("start the cluster's watcher: %w", err)
	}
	r.Close()
	c.watcher = w
	go cmd.Wait() // it ends after this process, or after remove
	return nil
}

// Start starts the cluster's server (again, after Stop), on a free loopback port (the same one
// after a Stop), and waits until it accepts connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return nil
	}
	var err error
	for try := 0; try < 5; try++ {
		if c.port == 0 || try > 0 {
			if c.port, err = freePort(); err != nil {
				return err
			}
		}
		var opts []string
		opts = append(opts, "-p", strconv.Itoa(c.port))
		for k, v := range c.settings {
			opts = append(opts, "-c", k+"="+v)
		}
		var out []byte
		out, err = c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60",
			"-o", strings.Join(opts, " "), "start")
		if err == nil {
			c.running = true
			return nil
		}
		err = fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, c.Log())
		if !strings.Contains(c.Log(), "could not bind") {
			break // not a port taken in the meantime: trying another will not help
		}
	}
	return err
}

// Stop stops the server (pg_ctl -m fast stop: open connections are ended, nothing committed is
// lost). Start starts it again with the same data.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	c.running = false
	return nil
}

// remove deletes the cluster's directory (the server must be stopped) and ends the watcher.
func (c *Cluster) remove() {
	os.RemoveAll(c.dir)
	if c.watcher != nil {
		c.watcher.Close()
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Port returns the port the server listens on.
func (c *Cluster) Port() int { return c.port }

// Log returns the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

// URL returns the connection URL of the database name, as the superuser postgres (no password:
// the cluster trusts loopback connections).
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Database creates a new, empty database and returns its URL; it is dropped when tb ends,
// with any connection still open to it.
func (c *Cluster) Database(tb testing.TB) string {
	tb.Helper()
	name, err := c.CreateDatabase()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.DropDatabase(name); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return c.URL(name)
}

// CreateDatabase creates a new, empty database and returns its name. Nothing drops it but
// DropDatabase, or the end of the cluster.
func (c *Cluster) CreateDatabase() (string, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	b := make([]byte, 4)
	rand.Read(b)
	name := fmt.Sprintf("test_%d_%s", n, hex.EncodeToString(b))
	if err := c.admin(`CREATE DATABASE ` + name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return name, nil
}

// DatabaseFor returns the URL of the database kept for key (a test's data directory, say):
// the same database for the same key, created empty on first use, dropped with the cluster.
// A store opened on a directory can so be opened again on "the same data", as another process
// would, by a function that gets the directory alone:
//
//	c, err := pgtest.Start()
//	…
//	url, err := c.DatabaseFor(dir)
//	db, err := postgres.Open(ctx, url)
func (c *Cluster) DatabaseFor(key string) (string, error) {
	c.mu.Lock()
	name, ok := c.keyed[key]
	c.mu.Unlock()
	if !ok {
		var err error
		if name, err = c.CreateDatabase(); err != nil {
			return "", err
		}
		c.mu.Lock()
		if first, ok := c.keyed[key]; ok { // another caller was quicker: keep its database
			c.mu.Unlock()
			c.DropDatabase(name)
			return c.URL(first), nil
		}
		c.keyed[key] = name
		c.mu.Unlock()
	}
	return c.URL(name), nil
}

// DropDatabaseFor drops the database DatabaseFor keeps for key, if there is one; a later
// DatabaseFor with the key makes a new, empty one.
func (c *Cluster) DropDatabaseFor(key string) error {
	c.mu.Lock()
	name, ok := c.keyed[key]
	delete(c.keyed, key)
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return c.DropDatabase(name)
}

// DropDatabase drops the database name, ending the connections still open to it.
func (c *Cluster) DropDatabase(name string) error {
	if err := c.admin(`DROP DATABASE IF EXISTS ` + pgx.Identifier{name}.Sanitize() + ` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	return nil
}

// admin runs one statement on the cluster's postgres database.
func (c *Cluster) admin(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// Exec runs sql (one statement or several, without arguments) on the database at url, for a
// test that sets up or inspects the database around the store.
func Exec(tb testing.TB, url, sql string) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}
