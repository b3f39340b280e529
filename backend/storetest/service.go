package storetest

// The Service's rules that must hold under concurrency (SQLite keeps them by its single
// writer, PostgreSQL by its locks), with several servers: each Service below has a store of
// its own on one database.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

// countingStore counts the password hashes read: the Service reads one exactly before it
// verifies a password against it, so this counts real verifications.
type countingStore struct {
	backend.Store
	hashReads *atomic.Int64
}

func (s countingStore) PasswordHash(c context.Context, userID int64) (string, error) {
	s.hashReads.Add(1)
	return s.Store.PasswordHash(c, userID)
}

// services starts n Services, each over its own store on one new database, with one key and
// one clock standing still at t0: n servers behind a load balancer.
func services(t *testing.T, o Opener, n int) ([]*backend.Service, []backend.Store, *atomic.Int64) {
	t.Helper()
	return servicesOn(t, o(t), n)
}

// servicesOn is services on the database d.
func servicesOn(t *testing.T, d DB, n int) ([]*backend.Service, []backend.Store, *atomic.Int64) {
	t.Helper()
	c := fakeclock.New(t0)
	key := bytes.Repeat([]byte{7}, backend.SecretKeySize)
	var hashReads atomic.Int64
	svcs := make([]*backend.Service, n)
	stores := make([]backend.Store, n)
	for i := range svcs {
		stores[i] = d.Open(c.Now)
		svc, err := backend.New(backend.Config{
			Store: countingStore{stores[i], &hashReads}, SecretKey: key, Now: c.Now,
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			Passwords: backend.PasswordPolicy{Argon2: backend.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}},
		})
		if err != nil {
			t.Fatal(err)
		}
		svcs[i] = svc
	}
	return svcs, stores, &hashReads
}

const testPassword = "correct horse battery staple"

// testFirstAdminOnce: forms creating the first administrator at once on several servers make
// one administrator; the others are told one exists. The "no administrator yet" check and the
// insert are one transaction under the administrators lock.
func testFirstAdminOnce(t *testing.T, o Opener) {
	svcs, stores, _ := services(t, o, servers)
	n := race(t, 12, func(i int) (bool, error) {
		_, err := svcs[i%servers].CreateFirstAdmin(ctx, backend.NewUser{Username: fmt.Sprintf("admin%d", i), Password: testPassword})
		if backend.ErrorCode(err) == backend.ECONFLICT {
			return false, nil
		}
		return err == nil, err
	})
	if _, admins, _ := stores[0].FindUsers(ctx, backend.UserFilter{Role: backend.RoleAdmin}); n != 1 || admins != 1 {
		t.Fatalf("12 concurrent CreateFirstAdmin: %d succeeded, %d administrators; want 1, 1", n, admins)
	}
}

// testFirstAdminByLinkOnce: the one-time link, used at once on several servers by forms with
// different usernames, creates one administrator.
func testFirstAdminByLinkOnce(t *testing.T, o Opener) {
	svcs, stores, _ := services(t, o, servers)
	token, err := svcs[0].NewSetupLink(ctx)
	if err != nil || token == "" {
		t.Fatalf("NewSetupLink: %q, %v", token, err)
	}
	n := race(t, 12, func(i int) (bool, error) {
		_, err := svcs[i%servers].CreateFirstAdminByLink(ctx, token, backend.NewUser{Username: fmt.Sprintf("admin%d", i), Password: testPassword})
		if c := backend.ErrorCode(err); c == backend.ECONFLICT || c == backend.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	})
	if _, admins, _ := stores[0].FindUsers(ctx, backend.UserFilter{Role: backend.RoleAdmin}); n != 1 || admins != 1 {
		t.Fatalf("12 concurrent CreateFirstAdminByLink: %d succeeded, %d administrators; want 1, 1", n, admins)
	}
}

// testFirstAdminLinkPerServer pins issue 12 (#7): each replica prints its own first-administrator
// link at start, and only the last printed worked. Every printed link works until the first
// administrator exists, which voids them all.
func testFirstAdminLinkPerServer(t *testing.T, o Opener) {
	d := o(t)
	svcs, stores, _ := servicesOn(t, d, servers)
	tokens := make([]string, servers)
	for i, svc := range svcs {
		var err error
		if tokens[i], err = svc.NewSetupLink(ctx); err != nil || tokens[i] == "" {
			t.Fatalf("NewSetupLink on server %d: %q, %v", i, tokens[i], err)
		}
	}
	for i, token := range tokens {
		if ok, err := svcs[(i+1)%servers].SetupLinkValid(ctx, token); err != nil || !ok {
			t.Errorf("server %d's link on another server: valid %v, %v; want valid", i, ok, err)
		}
	}
	if _, err := svcs[1].CreateFirstAdminByLink(ctx, tokens[0], backend.NewUser{Username: "root", Password: testPassword}); err != nil {
		t.Fatalf("the first server's link, after the others printed theirs: %v", err)
	}
	for i, token := range tokens[1:] {
		if ok, err := svcs[0].SetupLinkValid(ctx, token); err != nil || ok {
			t.Errorf("server %d's link once the administrator exists: valid %v, %v; want invalid", i+1, ok, err)
		}
		if _, err := svcs[0].CreateFirstAdminByLink(ctx, token, backend.NewUser{Username: fmt.Sprintf("other%d", i), Password: testPassword}); err == nil {
			t.Errorf("server %d's link created a second administrator", i+1)
		}
	}
	if _, admins, _ := stores[0].FindUsers(ctx, backend.UserFilter{Role: backend.RoleAdmin}); admins != 1 {
		t.Errorf("administrators: got %d, want 1", admins)
	}
	if n := d.count(t, "setup_link"); n != 0 {
		t.Errorf("setup links stored once the first administrator exists: got %d, want 0", n)
	}
}

// testLastAdminOnce: two administrators demoting (or disabling) each other at once, on two
// servers, leave one enabled administrator: CountEnabledAdmins holds under the
// administrators lock until the change commits.
func testLastAdminOnce(t *testing.T, o Opener) {
	svcs, stores, _ := services(t, o, 2)
	op := svcs[0].Operator()
	for round := range 10 {
		a, err := svcs[0].CreateUser(ctx, op, backend.NewUser{Username: fmt.Sprintf("a%d", round), Password: testPassword, Role: backend.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		b, err := svcs[0].CreateUser(ctx, op, backend.NewUser{Username: fmt.Sprintf("b%d", round), Password: testPassword, Role: backend.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		role, yes := backend.RoleUser, true
		change := backend.UserChanges{Role: &role}
		if round%2 == 1 {
			change = backend.UserChanges{Disabled: &yes}
		}
		n := race(t, 2, func(i int) (bool, error) {
			target := []int64{a.ID, b.ID}[i]
			_, err := svcs[i].UpdateUser(ctx, svcs[i].Operator(), target, change)
			if backend.ErrorCode(err) == backend.ECONFLICT {
				return false, nil
			}
			return err == nil, err
		})
		left, err := stores[1].CountEnabledAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || left != 1 {
			t.Fatalf("round %d: two administrators changed at once: %d changes made, %d enabled administrators left; want 1, 1", round, n, left)
		}
		// The one left is disabled behind the Service's back: the next round starts with none.
		for _, id := range []int64{a.ID, b.ID} {
			if _, err := stores[0].UpdateUser(ctx, id, backend.UserUpdate{Disabled: &yes}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// testParallelWrongPasswords: 100 wrong passwords for one account at once, spread over three
// servers, check no more passwords than the lockout allows (10), and every check was charged
// to the counter first: its count equals the passwords checked.
func testParallelWrongPasswords(t *testing.T, o Opener) {
	svcs, stores, hashReads := services(t, o, servers)
	u, err := svcs[0].CreateUser(ctx, svcs[0].Operator(), backend.NewUser{Username: "alice", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	hashReads.Store(0)
	race(t, 100, func(i int) (bool, error) {
		_, err := svcs[i%servers].Login(ctx, "alice", fmt.Sprintf("wrong password %d", i))
		if c := backend.ErrorCode(err); c != backend.EUNAUTHORIZED && c != backend.ETOOMANY {
			return false, err
		}
		return false, nil
	})
	var f backend.Failures
	stores[0].UpdateFailures(ctx, u.ID, func(got *backend.Failures, _ time.Time) error { f = *got; return nil })
	checked := hashReads.Load()
	if checked < 1 || checked > 10 || int64(f.Count) != checked {
		t.Fatalf("100 parallel wrong passwords: %d checked, counter %d; want 1 to 10 checked, each counted", checked, f.Count)
	}
	if f.Count == 10 && !f.LockedUntil.After(t0) {
		t.Errorf("10 failures counted, but the account is not locked: %+v", f)
	}
}
