package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
)

func testCreateAndFindUser(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := &backend.User{
		Username: "Alice", DisplayName: "Alice Liddell", Email: "alice@example.com",
		Role: backend.RoleAdmin, TwoFactorRequired: true, MustChangePassword: true,
	}
	if err := db.CreateUser(ctx, u, "$argon2id$alice"); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || !u.CreatedAt.Equal(t0) || !u.UpdatedAt.Equal(t0) || u.Method != backend.MethodNone {
		t.Fatalf("after CreateUser: ID %d, CreatedAt %v, UpdatedAt %v, Method %q; want an ID, %v, %v, none",
			u.ID, u.CreatedAt, u.UpdatedAt, u.Method, t0, t0)
	}

	byID, err := db.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *byID != *u {
		t.Errorf("FindUserByID:\n got %+v\nwant %+v", *byID, *u)
	}
	for _, name := range []string{"Alice", "alice", "ALICE", "aLiCe"} {
		got, err := db.FindUserByUsername(ctx, name)
		if err != nil {
			t.Fatalf("FindUserByUsername(%q): %v", name, err)
		}
		if got.ID != u.ID {
			t.Errorf("FindUserByUsername(%q): got ID %d, want %d", name, got.ID, u.ID)
		}
	}
	if hash, err := db.PasswordHash(ctx, u.ID); err != nil || hash != "$argon2id$alice" {
		t.Errorf("PasswordHash: got %q, %v; want the stored hash", hash, err)
	}

	_, err = db.FindUserByID(ctx, u.ID+100)
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.FindUserByUsername(ctx, "alic")
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.PasswordHash(ctx, u.ID+100)
	wantCode(t, err, backend.ENOTFOUND)
}

func testCreateUserConflictsAndInvalid(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	createUser(t, db, "bob", backend.RoleUser)
	for _, name := range []string{"bob", "BOB", "Bob"} {
		err := db.CreateUser(ctx, &backend.User{Username: name, Role: backend.RoleUser}, "h")
		wantCode(t, err, backend.ECONFLICT)
		if want := fmt.Sprintf("The username %q is taken.", name); backend.ErrorMessage(err) != want {
			t.Errorf("message: got %q, want %q", backend.ErrorMessage(err), want)
		}
	}
	err := db.CreateUser(ctx, &backend.User{Username: "carol", Role: "root"}, "h")
	wantCode(t, err, backend.EINVALID)
	err = db.CreateUser(ctx, &backend.User{Username: "carol", Role: backend.RoleUser, Method: "email"}, "h")
	wantCode(t, err, backend.EINVALID)
	if _, n, _ := db.FindUsers(ctx, backend.UserFilter{}); n != 1 {
		t.Fatalf("%d users after failed creates, want 1", n)
	}
}

// fixture is a set of users covering every status and role, some with awkward names.
type fixture struct {
	name   string
	role   backend.Role
	req    bool
	method backend.Method
	email  string
}

var fixtures = []fixture{
	{"zed", backend.RoleAdmin, false, backend.MethodApp, "zed@corp.example"},
	{"Anna", backend.RoleUser, true, backend.MethodNone, "anna@corp.example"},
	{"bob", backend.RoleUser, false, backend.MethodNone, "bob@home.example"},
	{"Carol", backend.RoleAdmin, true, backend.MethodSMS, "carol@corp.example"},
	{"dave_smith", backend.RoleUser, false, backend.MethodApp, "dave@corp.example"},
	{"davexsmith", backend.RoleUser, true, backend.MethodNone, "dx@corp.example"},
	{"erin", backend.RoleUser, false, backend.MethodNone, "100%erin@home.example"},
	{"frank", backend.RoleUser, true, backend.MethodApp, "frank@HOME.example"},
}

func createFixtures(t *testing.T, db backend.Store) []*backend.User {
	var users []*backend.User
	for _, f := range fixtures {
		u := &backend.User{Username: f.name, DisplayName: strings.ToUpper(f.name[:1]) + f.name[1:] + " Example",
			Email: f.email, Role: f.role, TwoFactorRequired: f.req, Method: f.method}
		if f.method == backend.MethodSMS {
			u.SMSPhone = "+15550100"
		}
		if err := db.CreateUser(ctx, u, "h"); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	return users
}

func names(users []*backend.User) []string {
	var s []string
	for _, u := range users {
		s = append(s, u.Username)
	}
	return s
}

// testFindUsers: the filters, the search and its paging; the status filter agrees with
// User.TwoFactorStatus.
func testFindUsers(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	all := createFixtures(t, db)

	for _, tc := range []struct {
		name  string
		f     backend.UserFilter
		want  []string
		total int
	}{
		{"all, by username ignoring case", backend.UserFilter{},
			[]string{"Anna", "bob", "Carol", "dave_smith", "davexsmith", "erin", "frank", "zed"}, 8},
		{"search username, case-insensitive", backend.UserFilter{Search: "CAR"}, []string{"Carol"}, 1},
		{"search display name", backend.UserFilter{Search: "bob exam"}, []string{"bob"}, 1},
		{"search email", backend.UserFilter{Search: "home.EXAMPLE"}, []string{"bob", "erin", "frank"}, 3},
		{"underscore is literal", backend.UserFilter{Search: "e_s"}, []string{"dave_smith"}, 1},
		{"percent is literal", backend.UserFilter{Search: "0%e"}, []string{"erin"}, 1},
		{"backslash is literal", backend.UserFilter{Search: `\`}, nil, 0},
		{"two characters (no trigram)", backend.UserFilter{Search: "OB"}, []string{"bob"}, 1},
		{"two characters, underscore literal", backend.UserFilter{Search: "e_"}, []string{"dave_smith"}, 1},
		{"one character", backend.UserFilter{Search: "%"}, []string{"erin"}, 1},
		{"quotes are literal", backend.UserFilter{Search: `"zed"`}, nil, 0},
		{"fts syntax is literal", backend.UserFilter{Search: "bob OR zed"}, nil, 0},
		{"spaces count", backend.UserFilter{Search: "b exa"}, []string{"bob"}, 1},
		{"no match", backend.UserFilter{Search: "nobody"}, nil, 0},
		{"status enabled", backend.UserFilter{Status: backend.StatusEnabled},
			[]string{"Carol", "dave_smith", "frank", "zed"}, 4},
		{"status pending", backend.UserFilter{Status: backend.StatusPending}, []string{"Anna", "davexsmith"}, 2},
		{"status no", backend.UserFilter{Status: backend.StatusNo}, []string{"bob", "erin"}, 2},
		{"role admin", backend.UserFilter{Role: backend.RoleAdmin}, []string{"Carol", "zed"}, 2},
		{"role and status", backend.UserFilter{Role: backend.RoleUser, Status: backend.StatusEnabled},
			[]string{"dave_smith", "frank"}, 2},
		{"search and status", backend.UserFilter{Search: "corp", Status: backend.StatusPending},
			[]string{"Anna", "davexsmith"}, 2},
		{"page 2", backend.UserFilter{Offset: 3, Limit: 3}, []string{"dave_smith", "davexsmith", "erin"}, 8},
		{"last page", backend.UserFilter{Offset: 6, Limit: 3}, []string{"frank", "zed"}, 8},
		{"past the end", backend.UserFilter{Offset: 20, Limit: 3}, nil, 8},
		{"filtered page", backend.UserFilter{Status: backend.StatusEnabled, Offset: 1, Limit: 2},
			[]string{"dave_smith", "frank"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := db.FindUsers(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(names(got), tc.want) || total != tc.total {
				t.Errorf("got %v, total %d; want %v, total %d", names(got), total, tc.want, tc.total)
			}
		})
	}

	// The status filter agrees with User.TwoFactorStatus, the one definition of the status.
	for _, s := range backend.Statuses {
		got, _, err := db.FindUsers(ctx, backend.UserFilter{Status: s})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, u := range all {
			if u.TwoFactorStatus() == s {
				want = append(want, u.Username)
			}
		}
		slices.SortFunc(want, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		if !slices.Equal(names(got), want) {
			t.Errorf("status %q: got %v, want %v (by User.TwoFactorStatus)", s, names(got), want)
		}
	}

	_, _, err := db.FindUsers(ctx, backend.UserFilter{Status: "Maybe"})
	wantCode(t, err, backend.EINVALID)
	_, _, err = db.FindUsers(ctx, backend.UserFilter{Role: "root"})
	wantCode(t, err, backend.EINVALID)
}

// testSearchFollowsEdits: the search index follows changes of display name and email.
func testSearchFollowsEdits(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	if _, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{DisplayName: ptr("Robert Tables"), Email: ptr("rt@school.example")}); err != nil {
		t.Fatal(err)
	}
	// Writes that do not touch the searched columns leave the index alone.
	db.UpdateFailures(ctx, u.ID, func(f *backend.Failures, _ time.Time) error { f.Count++; return nil })
	for search, want := range map[string]int{"tables": 1, "school": 1, "Name of bob": 0, "bob@example": 0, "bob": 1} {
		if _, n, err := db.FindUsers(ctx, backend.UserFilter{Search: search}); err != nil || n != want {
			t.Errorf("search %q: %d, %v; want %d", search, n, err, want)
		}
	}
}

func testFindUsersDefaultPageSize(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	for i := range backend.DefaultPageSize + 5 {
		createUser(t, db, fmt.Sprintf("user%03d", i), backend.RoleUser)
	}
	got, total, err := db.FindUsers(ctx, backend.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != backend.DefaultPageSize || total != backend.DefaultPageSize+5 {
		t.Fatalf("Limit 0: got %d users, total %d; want %d, %d", len(got), total, backend.DefaultPageSize, backend.DefaultPageSize+5)
	}
}

func testCountUsersByStatus(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	c, err := db.CountUsersByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range backend.Statuses {
		if n, ok := c[s]; !ok || n != 0 {
			t.Errorf("empty store: count[%q] = %d, %v; want 0, present", s, n, ok)
		}
	}
	createFixtures(t, db)
	c, err = db.CountUsersByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := backend.StatusCounts{backend.StatusNo: 2, backend.StatusPending: 2, backend.StatusEnabled: 4}
	for _, s := range backend.Statuses {
		if c[s] != want[s] {
			t.Errorf("count[%q] = %d, want %d", s, c[s], want[s])
		}
	}
	if len(c) != 3 || c.Total() != 8 {
		t.Errorf("counts %v: want 3 statuses, total 8", c)
	}
}

func testUpdateUser(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	createUser(t, db, "admin", backend.RoleAdmin)
	u := createUser(t, db, "bob", backend.RoleUser)

	got, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{
		DisplayName: ptr("Robert"), Email: ptr("robert@example.com"), Role: ptr(backend.RoleAdmin),
		TwoFactorRequired: ptr(true), MustChangePassword: ptr(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := *u
	want.DisplayName, want.Email, want.Role = "Robert", "robert@example.com", backend.RoleAdmin
	want.TwoFactorRequired, want.MustChangePassword = true, true
	want.UpdatedAt = t0.Add(2 * time.Second)
	want.CredentialsVersion = 1 // a new role and more: one new version
	if *got != want {
		t.Fatalf("UpdateUser:\n got %+v\nwant %+v", *got, want)
	}
	if stored, _ := db.FindUserByID(ctx, u.ID); *stored != want {
		t.Fatalf("stored:\n got %+v\nwant %+v", *stored, want)
	}

	// nil fields are left alone.
	got, err = db.UpdateUser(ctx, u.ID, backend.UserUpdate{Disabled: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || got.DisplayName != "Robert" || !got.TwoFactorRequired {
		t.Fatalf("partial update: got %+v", *got)
	}

	_, err = db.UpdateUser(ctx, u.ID+100, backend.UserUpdate{DisplayName: ptr("x")})
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.UpdateUser(ctx, u.ID, backend.UserUpdate{Role: ptr(backend.Role("root"))})
	wantCode(t, err, backend.EINVALID)
}

// testCountEnabledAdmins: administrators who are not disabled, and only those. (The
// last-administrator rule it serves is the Service's: backend TestUpdateUserKeepsAnAdmin.)
func testCountEnabledAdmins(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	count := func(want int) {
		t.Helper()
		if n, err := db.CountEnabledAdmins(ctx); err != nil || n != want {
			t.Errorf("CountEnabledAdmins: got %d, %v; want %d", n, err, want)
		}
	}
	count(0)
	root := createUser(t, db, "root", backend.RoleAdmin)
	createUser(t, db, "user", backend.RoleUser)
	count(1)
	second := createUser(t, db, "second", backend.RoleAdmin)
	count(2)
	if _, err := db.UpdateUser(ctx, second.ID, backend.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	count(1)
	// Inside a transaction it sees the transaction's own writes.
	err := db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := db.UpdateUser(ctx, root.ID, backend.UserUpdate{Role: ptr(backend.RoleUser)}); err != nil {
			return err
		}
		if n, err := db.CountEnabledAdmins(ctx); err != nil || n != 0 {
			t.Errorf("CountEnabledAdmins after a demotion in the same transaction: got %d, %v; want 0", n, err)
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Atomically: got no error, want the rollback's")
	}
	count(1)
}

// enroll gives the user an app enrollment with recovery codes, a pending secret, a session and a
// login attempt.
func enroll(t *testing.T, db backend.Store, u *backend.User, session, attempt string) []backend.RecoveryCode {
	t.Helper()
	codes := []backend.RecoveryCode{{Salt: []byte("s1"), Hash: []byte("h1")}, {Salt: []byte("s2"), Hash: []byte("h2")}}
	beginApp(t, db, session, u.ID, "sealed", time.Hour)
	err := db.EnableTwoFactor(ctx, u.ID, backend.Enrollment{Method: backend.MethodApp, SealedTOTP: []byte("sealed"), TOTPStep: 1000, Owner: session}, codes)
	if err != nil {
		t.Fatal(err)
	}
	beginApp(t, db, session, u.ID, "pending", time.Hour)
	if _, err := db.BeginSMSEnrollment(ctx, attempt, u.ID, "code of "+attempt, []byte("sealed code"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: session, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: attempt, UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return codes
}

func testUpdateUserClearEnrollment(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	other := createUser(t, db, "carol", backend.RoleUser)
	codes := enroll(t, db, u, "bob-session", "bob-attempt")
	otherCodes := enroll(t, db, other, "carol-session", "carol-attempt")
	if _, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{TwoFactorRequired: ptr(true)}); err != nil {
		t.Fatal(err)
	}

	got, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{ClearEnrollment: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != backend.MethodNone || got.SMSPhone != "" || !got.TwoFactorRequired || got.TwoFactorStatus() != backend.StatusPending {
		t.Errorf("after ClearEnrollment: method %q, phone %q, required %v; want none, \"\", true (Pending)", got.Method, got.SMSPhone, got.TwoFactorRequired)
	}
	_, err = db.TOTPSecret(ctx, u.ID)
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.FindAppEnrollment(ctx, "bob-session")
	wantCode(t, err, backend.ENOTFOUND)
	_, err = db.FindSMSEnrollment(ctx, "bob-attempt")
	wantCode(t, err, backend.ENOTFOUND)
	if rc, _ := db.RecoveryCodes(ctx, u.ID); len(rc) != 0 {
		t.Errorf("recovery codes after ClearEnrollment: %d, want 0", len(rc))
	}
	if ok, _ := db.UseRecoveryCode(ctx, codes[0].ID); ok {
		t.Error("a recovery code of the cleared enrollment still works")
	}
	// The last used step is gone with the secret: a new enrollment starts afresh.
	if ok, _ := db.ConsumeTOTPStep(ctx, u.ID, 5); !ok {
		t.Error("ConsumeTOTPStep(5) after ClearEnrollment: got false, want true (last step cleared)")
	}
	// Without EndSessions, sessions stay.
	if _, _, err := db.FindSession(ctx, "bob-session"); err != nil {
		t.Errorf("session after ClearEnrollment alone: %v", err)
	}
	// Nobody else is touched.
	if rc, _ := db.RecoveryCodes(ctx, other.ID); len(rc) != len(otherCodes) {
		t.Errorf("other user's recovery codes: %d, want %d", len(rc), len(otherCodes))
	}
	if s, err := db.TOTPSecret(ctx, other.ID); err != nil || string(s) != "sealed" {
		t.Errorf("other user's secret: %q, %v", s, err)
	}
	if _, err := db.FindAppEnrollment(ctx, "carol-session"); err != nil {
		t.Errorf("other user's app setup: %v, want it kept", err)
	}
}

func testUpdateUserEndSessions(t *testing.T, o Opener) {
	db, _ := newDB(t, o)
	u := createUser(t, db, "bob", backend.RoleUser)
	other := createUser(t, db, "carol", backend.RoleUser)
	enroll(t, db, u, "bob-session", "bob-attempt")
	if err := db.CreateSession(ctx, &backend.Session{TokenHash: "bob-session-2", UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	enroll(t, db, other, "carol-session", "carol-attempt")

	got, err := db.UpdateUser(ctx, u.ID, backend.UserUpdate{Disabled: ptr(true), EndSessions: true})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || got.Method != backend.MethodApp {
		t.Errorf("EndSessions alone: disabled %v, method %q; want true, app (enrollment kept)", got.Disabled, got.Method)
	}
	for _, h := range []string{"bob-session", "bob-session-2"} {
		_, _, err := db.FindSession(ctx, h)
		wantCode(t, err, backend.ENOTFOUND)
	}
	_, err = db.FindLoginAttempt(ctx, "bob-attempt")
	wantCode(t, err, backend.ENOTFOUND)
	if _, _, err := db.FindSession(ctx, "carol-session"); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	if _, err := db.FindLoginAttempt(ctx, "carol-attempt"); err != nil {
		t.Errorf("other user's attempt: %v", err)
	}
}

func testSetPassword(t *testing.T, o Opener) {
	for _, tc := range []struct {
		name   string
		except *string
		left   []string // sessions left
		tries  bool     // login attempts left
	}{
		{"keep sessions", nil, []string{"s1", "s2"}, true},
		{"end all", ptr(""), nil, false},
		{"end all but one", ptr("s2"), []string{"s2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := newDB(t, o)
			u := createUser(t, db, "bob", backend.RoleUser)
			other := createUser(t, db, "carol", backend.RoleUser)
			for _, s := range []*backend.Session{{TokenHash: "s1", UserID: u.ID}, {TokenHash: "s2", UserID: u.ID}, {TokenHash: "o1", UserID: other.ID}} {
				if err := db.CreateSession(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.CreateLoginAttempt(ctx, &backend.LoginAttempt{TokenHash: "a1", UserID: u.ID, Step: backend.StepVerify, ExpiresAt: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}

			if err := db.SetPassword(ctx, u.ID, "new-hash", true, tc.except); err != nil {
				t.Fatal(err)
			}
			if h, _ := db.PasswordHash(ctx, u.ID); h != "new-hash" {
				t.Errorf("hash %q, want new-hash", h)
			}
			got, _ := db.FindUserByID(ctx, u.ID)
			if !got.MustChangePassword || !got.UpdatedAt.After(u.UpdatedAt) {
				t.Errorf("MustChangePassword %v, UpdatedAt %v; want true, after %v", got.MustChangePassword, got.UpdatedAt, u.UpdatedAt)
			}
			var left []string
			for _, h := range []string{"s1", "s2"} {
				if _, _, err := db.FindSession(ctx, h); err == nil {
					left = append(left, h)
				}
			}
			if !slices.Equal(left, tc.left) {
				t.Errorf("sessions left: %v, want %v", left, tc.left)
			}
			_, err := db.FindLoginAttempt(ctx, "a1")
			if tries := err == nil; tries != tc.tries {
				t.Errorf("login attempt left: %v, want %v", tries, tc.tries)
			}
			if _, _, err := db.FindSession(ctx, "o1"); err != nil {
				t.Errorf("other user's session: %v", err)
			}
		})
	}
	db, _ := newDB(t, o)
	wantCode(t, db.SetPassword(ctx, 42, "h", false, nil), backend.ENOTFOUND)
}
