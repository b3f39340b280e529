package postgres

// The store's queries, whose SQL differs most from SQLite's (ILIKE and trigram indexes for
// FTS5, username_key for NOCASE, COLLATE "C" ranges): the same cases as backend/sqlite's tests.

import (
	"slices"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

func TestFindUsers(t *testing.T) {
	t.Parallel()
	s := newOpener(t)(fakeclock.New(t0).Now)
	for _, f := range []struct {
		name   string
		role   backend.Role
		req    bool
		method backend.Method
		email  string
	}{
		{"zed", backend.RoleAdmin, false, backend.MethodApp, "zed@corp.example"},
		{"Anna", backend.RoleUser, true, backend.MethodNone, "anna@corp.example"},
		{"bob", backend.RoleUser, false, backend.MethodNone, "bob@home.example"},
		{"Carol", backend.RoleAdmin, true, backend.MethodSMS, "carol@corp.example"},
		{"dave_smith", backend.RoleUser, false, backend.MethodApp, "dave@corp.example"},
		{"davexsmith", backend.RoleUser, true, backend.MethodNone, "dx@corp.example"},
		{"erin", backend.RoleUser, false, backend.MethodNone, "100%erin@home.example"},
		{"frank", backend.RoleUser, true, backend.MethodApp, "frank@HOME.example"},
		{"Émile", backend.RoleUser, false, backend.MethodNone, "emile@école.example"},
	} {
		u := &backend.User{Username: f.name, DisplayName: f.name + " Example",
			Email: f.email, Role: f.role, TwoFactorRequired: f.req, Method: f.method}
		if err := s.CreateUser(ctx, u, "h"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		f     backend.UserFilter
		want  []string
		total int
	}{
		{"all, by username ignoring ASCII case", backend.UserFilter{},
			[]string{"Anna", "bob", "Carol", "dave_smith", "davexsmith", "erin", "frank", "zed", "Émile"}, 9},
		{"search username, case-insensitive", backend.UserFilter{Search: "CAR"}, []string{"Carol"}, 1},
		{"search display name", backend.UserFilter{Search: "bob exam"}, []string{"bob"}, 1},
		{"search email", backend.UserFilter{Search: "home.EXAMPLE"}, []string{"bob", "erin", "frank"}, 3},
		{"search folds Unicode case", backend.UserFilter{Search: "ÉCOLE"}, []string{"Émile"}, 1},
		{"underscore is literal", backend.UserFilter{Search: "e_s"}, []string{"dave_smith"}, 1},
		{"percent is literal", backend.UserFilter{Search: "0%e"}, []string{"erin"}, 1},
		{"backslash is literal", backend.UserFilter{Search: `\`}, nil, 0},
		{"two characters", backend.UserFilter{Search: "OB"}, []string{"bob"}, 1},
		{"two characters, underscore literal", backend.UserFilter{Search: "e_"}, []string{"dave_smith"}, 1},
		{"one character", backend.UserFilter{Search: "%"}, []string{"erin"}, 1},
		{"quotes are literal", backend.UserFilter{Search: `"zed"`}, nil, 0},
		{"spaces count", backend.UserFilter{Search: "b exa"}, []string{"bob"}, 1},
		{"no match", backend.UserFilter{Search: "nobody"}, nil, 0},
		{"status enabled", backend.UserFilter{Status: backend.StatusEnabled}, []string{"Carol", "dave_smith", "frank", "zed"}, 4},
		{"status pending", backend.UserFilter{Status: backend.StatusPending}, []string{"Anna", "davexsmith"}, 2},
		{"status no", backend.UserFilter{Status: backend.StatusNo}, []string{"bob", "erin", "Émile"}, 3},
		{"role admin", backend.UserFilter{Role: backend.RoleAdmin}, []string{"Carol", "zed"}, 2},
		{"role and status", backend.UserFilter{Role: backend.RoleUser, Status: backend.StatusEnabled}, []string{"dave_smith", "frank"}, 2},
		{"search and status", backend.UserFilter{Search: "corp", Status: backend.StatusPending}, []string{"Anna", "davexsmith"}, 2},
		{"page 2", backend.UserFilter{Offset: 3, Limit: 3}, []string{"dave_smith", "davexsmith", "erin"}, 9},
		{"past the end", backend.UserFilter{Offset: 20, Limit: 3}, nil, 9},
		{"filtered page", backend.UserFilter{Status: backend.StatusEnabled, Offset: 1, Limit: 2}, []string{"dave_smith", "frank"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.FindUsers(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range got {
				names = append(names, u.Username)
			}
			if !slices.Equal(names, tc.want) || total != tc.total {
				t.Errorf("got %v, total %d; want %v, total %d", names, total, tc.want, tc.total)
			}
		})
	}
	counts, err := s.CountUsersByStatus(ctx)
	if err != nil || counts[backend.StatusNo] != 3 || counts[backend.StatusPending] != 2 || counts[backend.StatusEnabled] != 4 {
		t.Errorf("CountUsersByStatus: %v, %v", counts, err)
	}
	if u, err := s.FindUserByUsername(ctx, "DAVE_SMITH"); err != nil || u.Username != "dave_smith" {
		t.Errorf("FindUserByUsername ignoring case: %v, %v", u, err)
	}
	// Only ASCII folds in usernames, as SQLite's NOCASE: "émile" is another name.
	if _, err := s.FindUserByUsername(ctx, "émile"); backend.ErrorCode(err) != backend.ENOTFOUND {
		t.Errorf("FindUserByUsername(émile): %v, want ENOTFOUND", err)
	}
	_, _, err = s.FindUsers(ctx, backend.UserFilter{Status: "Maybe"})
	wantCode(t, err, backend.EINVALID)
	_, _, err = s.FindUsers(ctx, backend.UserFilter{Role: "root"})
	wantCode(t, err, backend.EINVALID)
}

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	c := fakeclock.New(t0)
	s := newOpener(t)(c.Now)
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
		if err := s.AddAuditEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(time.Duration(i) * time.Second); e.ID == 0 || !e.At.Equal(want) {
			t.Fatalf("event %d: ID %d, At %v; want an ID and %v", i, e.ID, e.At, want)
		}
		c.Advance(time.Second)
	}
	ids := func(idx ...int) []int64 {
		var ids []int64
		for _, i := range idx {
			ids = append(ids, events[i].ID)
		}
		return ids
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
		{"page", backend.AuditFilter{Offset: 2, Limit: 3}, ids(4, 3, 2), 7},
		{"nothing", backend.AuditFilter{Username: "nobody"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := s.FindAuditEvents(ctx, tc.f)
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
	got, _, err := s.FindAuditEvents(ctx, backend.AuditFilter{Action: "login."})
	if err != nil || len(got) != 2 || *got[1] != *events[0] || *got[0] != *events[1] {
		t.Errorf("round trip: %v, %v; want the events as stored (zero IDs as zero)", got, err)
	}
	if n, err := s.DeleteAuditEvents(ctx, t0.Add(3*time.Second)); err != nil || n != 3 {
		t.Errorf("DeleteAuditEvents before the 4th: %d, %v; want 3", n, err)
	}
}
