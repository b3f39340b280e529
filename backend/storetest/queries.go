package storetest

// The queries whose SQL differs most between the stores (SQLite's FTS5 and NOCASE,
// PostgreSQL's ILIKE, trigram indexes, username_key and COLLATE "C" ranges), with names
// beyond ASCII.

import (
	"slices"
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/fakeclock"
)

// testFindUsersFolding: the search folds Unicode case (ÉCOLE finds école); usernames fold
// ASCII case alone ("émile" is not "Émile"), as SQLite's NOCASE does.
func testFindUsersFolding(t *testing.T, o Opener) {
	s := o(t).Open(fakeclock.New(t0).Now)
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
