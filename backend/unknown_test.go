package backend_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

// dbBytes returns the size of what the store holds (SQLite: the database, WAL and shared
// memory files; PostgreSQL: its tables as text) and whether any of it holds needle.
func (e *env) dbBytes(needle string) (size int64, found bool) {
	e.t.Helper()
	for _, b := range e.h.Contents() {
		size += int64(len(b))
		found = found || bytes.Contains(b, []byte(needle))
	}
	return size, found
}

// auditHolds reports whether any audit event holds s in any field.
func (e *env) auditHolds(s string) bool {
	e.t.Helper()
	for _, ev := range e.auditEvents("") {
		for _, f := range []string{ev.ActorName, ev.TargetName, ev.Detail, ev.IP} {
			if strings.Contains(f, s) {
				return true
			}
		}
	}
	return false
}

// TestHugeUsernameNotStored pins issue 9 F1: a 9 MB username at the password step (and a 1 MB
// address and user agent with it) is answered like any unknown name after the same work, and
// grows the database by no more than a few rows: neither the counter nor the audit log nor a
// session keeps what the client sent.
func TestHugeUsernameNotStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	wrong := e.wrongLoginErr()
	const mark = "F1-huge-username-"
	huge := strings.Repeat(mark, 9<<20/len(mark))
	bigUA := strings.Repeat("F1-huge-agent-", 1<<20/14)
	bigIP := strings.Repeat("F1-huge-address-", 1<<20/16)
	cctx := backend.WithClient(ctx, backend.Client{IP: bigIP, UserAgent: bigUA})

	before, _ := e.dbBytes("")
	for range 3 {
		verified := e.verify.Load()
		_, err := e.svc.Login(cctx, huge, "some password")
		if !sameError(err, wrong) {
			t.Fatalf("Login(9 MB username): got %v, want %v", err, wrong)
		}
		if got := e.verify.Load() - verified; got != 1 {
			t.Errorf("password verifications: got %d, want 1 (the same work as an unknown name)", got)
		}
	}
	// A real login from the same client: its session and audit events hold the client's
	// address and user agent, cut short.
	if _, err := e.svc.Login(cctx, "alice", goodPassword); err != nil {
		t.Fatal(err)
	}
	after, found := e.dbBytes(mark + mark)
	if found {
		t.Error("the database files hold the username")
	}
	for _, m := range []string{"F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-F1-huge-agent-",
		strings.Repeat("F1-huge-address-", 5)} {
		if _, found := e.dbBytes(m); found {
			t.Errorf("the database files hold more than a few hundred bytes of %.14s…", m)
		}
	}
	if grown := after - before; grown > 256<<10 {
		t.Errorf("the database files grew by %d bytes, want at most 256 KiB (a few rows)", grown)
	}
	if e.auditHolds(mark + mark) {
		t.Error("the audit log holds the username")
	}
	for _, ev := range e.auditEvents("") {
		if n := len(ev.IP) + len(ev.Detail) + len(ev.TargetName) + len(ev.ActorName); n > 1024 {
			t.Errorf("audit event %s holds %d bytes of names, detail and address, want a few hundred", ev.Action, n)
		}
	}
	unknown := 0
	for _, ev := range e.auditEvents(backend.AuditLoginFailure) {
		if ev.TargetName == backend.UnknownUsername {
			unknown++
		}
	}
	if unknown != 3 {
		t.Errorf("audit %s: got %d events for %q, want 3", backend.AuditLoginFailure, unknown, backend.UnknownUsername)
	}
}

// TestPasswordAsUsernameNotStored pins issue 9 F7: a password typed in the username field (one
// a username could be, and one it could not) is nowhere in the database afterwards, nor in the
// log; the audit log says an unknown name was tried, with a fingerprint that is the same each
// time the same name is tried, whatever its case.
func TestPasswordAsUsernameNotStored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, secret := range []string{"Summer.Holiday2026+jazz", "my secret passphrase & more"} {
		t.Run(secret, func(t *testing.T) {
			before := len(e.auditEvents(backend.AuditLoginFailure))
			for _, typed := range []string{secret, strings.ToUpper(secret)} {
				if _, err := e.svc.Login(ctx, typed, "whatever was in the password field"); backend.ErrorCode(err) != backend.EUNAUTHORIZED {
					t.Fatalf("Login: got %v, want %s", err, backend.EUNAUTHORIZED)
				}
			}
			for _, s := range []string{secret, strings.ToUpper(secret), strings.ToLower(secret)} {
				if _, found := e.dbBytes(s); found {
					t.Errorf("the database files hold %q", s)
				}
				if e.auditHolds(s) {
					t.Errorf("the audit log holds %q", s)
				}
				if strings.Contains(e.logs.String(), s) {
					t.Errorf("the log holds %q", s)
				}
			}
			ev := e.auditEvents(backend.AuditLoginFailure)
			if len(ev)-before != 2 {
				t.Fatalf("audit %s: got %d new events, want 2", backend.AuditLoginFailure, len(ev)-before)
			}
			if ev[0].TargetName != backend.UnknownUsername || !regexp.MustCompile(`^unknown username, fingerprint [0-9a-f]{4}$`).MatchString(ev[0].Detail) ||
				ev[0].Detail != ev[1].Detail {
				t.Errorf("audit: got %q %q and %q %q, want %q with the same fingerprint twice",
					ev[0].TargetName, ev[0].Detail, ev[1].TargetName, ev[1].Detail, backend.UnknownUsername)
			}
		})
	}
}

// TestUnknownNamesCountedAlike pins issue 9 F1: names that are counted under a keyed hash,
// those no account can have among them, are still throttled and locked exactly like a real
// account, case-insensitively (TestUnknownUsernameThrottledAlike shows the first wait).
func TestUnknownNamesCountedAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser(backend.NewUser{Username: "alice"})
	// The answers to a run of wrong passwords: quick ones that meet the growing waits, then
	// slow ones that reach the lock (each past the longest wait).
	answers := func(name string) string {
		var got []string
		if off := e.clock.Now().Sub(e.clock.Now().Truncate(time.Minute)); off > 0 {
			e.clock.Advance(time.Minute - off) // each run from a whole minute: the lock's end rounds alike
		}
		start := e.clock.Now()
		for i := range 24 {
			typed := name
			if i%2 == 1 {
				typed = strings.ToUpper(name)
			}
			_, err := e.svc.Login(ctx, typed, "wrong password")
			got = append(got, backend.ErrorMessage(err))
			if i < 12 {
				e.clock.Advance(1500 * time.Millisecond)
			} else {
				e.clock.Advance(31 * time.Second)
			}
		}
		e.clock.Advance(time.Hour)                            // every lock ends
		return lockTimesFrom(start, strings.Join(got, " | ")) // the lock's end, counted from the run's start
	}
	want := answers("alice")
	if !strings.Contains(want, "Try again in 3 seconds") || !strings.Contains(want, "Too many failed attempts: try again after start+") {
		t.Fatalf("a real account's answers: %s; want waits and the lock among them", want)
	}
	for _, name := range []string{"nobody", "no such user!", strings.Repeat("Long", 1<<18)} {
		if got := answers(name); got != want {
			t.Errorf("%.20s: answers\n got %s\nwant %s (a real account's)", name, got, want)
		}
	}
	// The real account did reach the lock: the answers above include its lock.
	e.failLogins("alice", 10)
	if _, err := e.svc.Login(ctx, "alice", goodPassword); err == nil {
		t.Error("after 10 failures: signed in, want locked")
	}
}

// TestAuditRetention: PurgeExpired deletes the audit events older than AuditRetention (400
// days unless configured) and keeps the others (issue 9 F1: the log cannot grow for ever).
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		retention time.Duration
		want      time.Duration
	}{
		{"default", 0, 400 * 24 * time.Hour},
		{"configured", 30 * 24 * time.Hour, 30 * 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *backend.Config) { c.AuditRetention = tt.retention })
			e.svc.Login(ctx, "nobody", "old failure")
			old := len(e.auditEvents(""))
			e.clock.Advance(tt.want - time.Minute)
			e.svc.Login(ctx, "nobody", "recent failure")
			if err := e.svc.PurgeExpired(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(e.auditEvents("")); got != old+1 {
				t.Fatalf("a minute before the oldest events' time is up: %d events, want %d (all)", got, old+1)
			}
			e.clock.Advance(2 * time.Minute)
			if err := e.svc.PurgeExpired(ctx); err != nil {
				t.Fatal(err)
			}
			ev := e.auditEvents("")
			if len(ev) != 1 || !ev[0].At.After(t0.Add(time.Hour)) {
				t.Errorf("after the retention: %d events (%+v), want only the recent one", len(ev), ev)
			}
		})
	}
}
