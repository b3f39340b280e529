package storetest

import (
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
)

func testAuditEvents(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	events := []*backend.AuditEvent{
		{Action: "login.success", ActorID: 1, ActorName: "Alice", TargetID: 1, TargetName: "Alice", IP: "192.0.2.1"},
		{Action: "login.failure", ActorName: "", TargetName: "bob", Detail: "bad password"},
		{Action: "user.create", ActorID: 1, ActorName: "alice", TargetID: 2, TargetName: "Bob"},
		{Action: "user.require_2fa", ActorID: 1, ActorName: "cli", TargetID: 2, TargetName: "bob"},
		{Action: "login", ActorName: "carol"},        // not under "login."
		{Action: "loginx.other", ActorName: "carol"}, // nor this
		{Action: "user.create", ActorName: "cli", TargetName: "carol"},
	}
	for i, e := range events {
		if err := db.AddAuditEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(time.Duration(i) * time.Second); e.ID == 0 || !e.At.Equal(want) {
			t.Fatalf("event %d: ID %d, At %v; want an ID and %v", i, e.ID, e.At, want)
		}
	}

	ids := func(idx ...int) []int64 {
		var s []int64
		for _, i := range idx {
			s = append(s, events[i].ID)
		}
		return s
	}
	for _, tc := range []struct {
		name  string
		f     backend.AuditFilter
		want  []int64
		total int
	}{
		{"all, newest first", backend.AuditFilter{}, ids(6, 5, 4, 3, 2, 1, 0), 7},
		{"exact action", backend.AuditFilter{Action: "user.create"}, ids(6, 2), 2},
		{"exact action is not a prefix", backend.AuditFilter{Action: "login"}, ids(4), 1},
		{"prefix", backend.AuditFilter{Action: "login."}, ids(1, 0), 2},
		{"prefix user.", backend.AuditFilter{Action: "user."}, ids(6, 3, 2), 3},
		{"actor or target, any case", backend.AuditFilter{Username: "BOB"}, ids(3, 2, 1), 3},
		{"actor", backend.AuditFilter{Username: "alice"}, ids(2, 0), 2},
		{"username and action", backend.AuditFilter{Username: "carol", Action: "user."}, ids(6), 1},
		{"since (inclusive)", backend.AuditFilter{Since: t0.Add(5 * time.Second)}, ids(6, 5), 2},
		{"until (exclusive)", backend.AuditFilter{Until: t0.Add(2 * time.Second)}, ids(1, 0), 2},
		{"window", backend.AuditFilter{Since: t0.Add(2 * time.Second), Until: t0.Add(4 * time.Second)}, ids(3, 2), 2},
		{"page", backend.AuditFilter{Offset: 2, Limit: 3}, ids(4, 3, 2), 7},
		{"filtered page", backend.AuditFilter{Action: "user.", Offset: 1, Limit: 1}, ids(3), 3},
		{"nothing", backend.AuditFilter{Username: "nobody"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := db.FindAuditEvents(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
			}
			if !slices.Equal(gotIDs, tc.want) || total != tc.total {
				t.Errorf("got %v, total %d; want %v, total %d", gotIDs, total, tc.want, tc.total)
			}
		})
	}

	// Every field comes back as stored.
	got, _, err := db.FindAuditEvents(ctx, backend.AuditFilter{Action: "login.success"})
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	if *got[0] != *events[0] {
		t.Errorf("round trip:\n got %+v\nwant %+v", *got[0], *events[0])
	}
	got, _, _ = db.FindAuditEvents(ctx, backend.AuditFilter{Action: "login.failure"})
	if *got[0] != *events[1] {
		t.Errorf("round trip with zero IDs:\n got %+v\nwant %+v", *got[0], *events[1])
	}
}
