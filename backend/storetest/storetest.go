// Package storetest is the conformance suite of backend.Store: the store-level tests every
// implementation must pass, written against the interface alone, so that a rule cannot hold
// on one store and not on another. Each store's package runs it from one small test:
//
//	func TestStore(t *testing.T) { storetest.Run(t, opener) }
//
// where the Opener makes a new, empty database for a test and opens stores on it: each Open
// is another set of connections to the same data (another process, another server), so the
// concurrency tests race several stores on one database, as SQLite's several connections to
// one file or PostgreSQL's several servers do. Tests about one engine alone (SQLite's file
// modes and journal, PostgreSQL's advisory locks, each one's migrations) stay in its package.
//
// The package is used only by tests.
package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

// An Opener makes a new, empty database for t, removed when t ends.
type Opener func(t testing.TB) DB

// DB is one test's database.
type DB struct {
	// Open opens another store on the database (connections of its own, as another process
	// or server opens it) with the clock now (nil: the real time). It closes when the test
	// ends.
	Open func(now func() time.Time) backend.Store
	// Exec runs one SQL statement beneath the stores (the same text on every engine): for a
	// test of what a store does with a row gone behind its back.
	Exec func(query string) error
	// CountRows counts the rows of a table (every store has the same tables): for a test that
	// what the Store interface cannot show (a row removed) is gone.
	CountRows func(table string) (int, error)
}

// count is CountRows, failing the test on an error.
func (d DB) count(t testing.TB, table string) int {
	t.Helper()
	n, err := d.CountRows(table)
	if err != nil {
		t.Fatalf("count the rows of %s: %v", table, err)
	}
	return n
}

// test is one test of the suite.
type test struct {
	name string
	fn   func(t *testing.T, o Opener)
}

// Run runs every test of the suite on the store open opens, each as a parallel subtest.
func Run(t *testing.T, open Opener) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// FindUsers runs the suite's FindUsers cases alone, for a store with more than one way of
// answering them (SQLite's page walk from a number of matches on), under each.
func FindUsers(t *testing.T, open Opener) { testFindUsers(t, open) }

// DeleteAuditEvents runs the suite's DeleteAuditEvents test alone, for a store that deletes in
// batches, with a batch smaller than the events deleted.
func DeleteAuditEvents(t *testing.T, open Opener) { testDeleteAuditEvents(t, open) }

var ctx = context.Background()

// t0 is the fake clocks' first reading, with nanoseconds: the stores keep them.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)

// clock is a fake clock: every reading is one second after the previous one, so a test can
// tell which reading a timestamp came from.
type clock struct {
	mu    sync.Mutex
	next  time.Time
	calls int
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next
	c.next = c.next.Add(time.Second)
	c.calls++
	return t
}

// set makes t the next reading.
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = t
}

// add moves the next reading on by d.
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = c.next.Add(d)
}

// newDB opens a store on a new database with a ticking clock (a second a reading).
func newDB(t testing.TB, o Opener) (backend.Store, *clock) {
	t.Helper()
	c := &clock{next: t0}
	return o(t).Open(c.Now), c
}

// newStillDB opens a store on a new database whose clock stands still at t0.
func newStillDB(t testing.TB, o Opener) (backend.Store, *fakeclock.Clock) {
	t.Helper()
	c := fakeclock.New(t0)
	return o(t).Open(c.Now), c
}

// replicas opens n stores on d, with the clock now: n servers (or processes) on one database.
func replicas(d DB, n int, now func() time.Time) []backend.Store {
	stores := make([]backend.Store, n)
	for i := range stores {
		stores[i] = d.Open(now)
	}
	return stores
}

// wantCode fails unless err carries the domain error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := backend.ErrorCode(err); got != code {
		t.Fatalf("error %v: got code %q, want %q", err, got, code)
	}
}

func ptr[T any](v T) *T { return &v }

// createUser creates a user with the given username and role, failing the test on error.
func createUser(t testing.TB, db backend.Store, username string, role backend.Role) *backend.User {
	t.Helper()
	u := &backend.User{Username: username, DisplayName: "Name of " + username, Email: username + "@example.com", Role: role}
	if err := db.CreateUser(ctx, u, "hash-"+username); err != nil {
		t.Fatalf("CreateUser %q: %v", username, err)
	}
	return u
}

// Race runs fn in n goroutines released at once and returns how many reported true: for the
// engine-only race tests of a store's own package.
func Race(t *testing.T, n int, fn func(i int) (bool, error)) int { t.Helper(); return race(t, n, fn) }

// race runs fn in n goroutines released at once and returns how many reported true.
func race(t *testing.T, n int, fn func(i int) (bool, error)) int {
	t.Helper()
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := fn(i)
			if err != nil {
				t.Error(err)
			} else if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return int(wins.Load())
}

// newData is newDB with the database, for a test that also looks beneath the store.
func newData(t testing.TB, o Opener) (DB, backend.Store, *clock) {
	t.Helper()
	c := &clock{next: t0}
	d := o(t)
	return d, d.Open(c.Now), c
}
