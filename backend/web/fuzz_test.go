package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
	"gatehouse/backend/sqlite"
)

// Fuzz targets for every form and cookie the web server parses. `go test` runs their seed
// corpora (testdata/fuzz/FuzzXxx); the README has the command that fuzzes each for minutes.
// Each target drives the real handler tree in process (no network) over a real SQLite file.

// fuzzSystem is a System for fuzzing: a store, the Service (cheap argon2: the targets fuzz
// parsing, not hashing), the handler tree without the per-IP limit (every input comes from the
// same address), an administrator and a user, each signed in.
type fuzzSystem struct {
	db         *sqlite.DB
	svc        *backend.Service
	srv        *Server
	adminToken string
	userToken  string
}

func newFuzzSystem(tb testing.TB) *fuzzSystem {
	tb.Helper()
	h := backendtest.New(tb, backendtest.WithRealClock(), backendtest.WithoutLogs())
	srv, err := NewServer(Config{Service: h.Service, Logger: h.Logger, Addr: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	srv.limiter = newFailureLimiter(1<<30, time.Nanosecond, maxTrackedAddrs)
	fs := &fuzzSystem{db: h.Store.(*sqlite.DB), svc: h.Service, srv: srv}
	for _, u := range []struct {
		name string
		role backend.Role
		tok  *string
	}{{"admin", backend.RoleAdmin, &fs.adminToken}, {"alice", backend.RoleUser, &fs.userToken}} {
		backendtest.CreateUser(tb, h.Service, h.Service.Operator(), backend.NewUser{Username: u.name, Password: testPassword, Role: u.role})
		*u.tok = backendtest.Login(tb, h.Service, u.name, testPassword, backend.StepDone).SessionToken
	}
	return fs
}

// do serves one request in process. cookie, if not empty, is sent as the raw Cookie header.
func (fs *fuzzSystem) do(method, path, contentType, body, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", "http://127.0.0.1:8080")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	fs.srv.ServeHTTP(w, req)
	return w
}

// users is every user record, as a string to compare: what a request must not change.
func (fs *fuzzSystem) users(tb testing.TB) string {
	tb.Helper()
	us, _, err := fs.db.FindUsers(context.Background(), backend.UserFilter{Limit: 1000})
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	for _, u := range us {
		fmt.Fprintf(&b, "%+v\n", *u)
	}
	return b.String()
}

// FuzzLoginForms posts arbitrary bodies to every login step and the first-admin form, with
// and without a form content type: never a 5xx, never a session, no user record changed.
func FuzzLoginForms(f *testing.F) {
	for _, s := range []string{
		"username=alice&password=wrong+password",
		"username=alice&password=" + url.QueryEscape(testPassword) + "x",
		"username=&password=",
		"username=%00%ff&password=%zz",
		"username=" + strings.Repeat("a", 5000) + "&password=" + strings.Repeat("b", 5000),
		"code=123456", "code=ABCD-EFGH-JKMN-PQRS", "code=%F0%9F%98%80", "code=;;;&code=1",
		"new_password=a+new+passphrase&confirm_password=a+new+passphrase",
		"username=alice&username=admin&password=x&password=y",
		"=&&==&%", "\x00\x01\x02", "",
	} {
		f.Add(s, true)
	}
	f.Add("username=alice&password=wrong", false)
	fs := newFuzzSystem(f)
	before := fs.users(f)
	f.Fuzz(func(t *testing.T, body string, form bool) {
		ct := formType
		if !form {
			ct = "multipart/form-data; boundary=x"
		}
		for _, path := range []string{"/login", "/login/verify", "/login/recovery", "/login/password", "/login/enroll/app/confirm", "/setup/abc"} {
			w := fs.do(http.MethodPost, path, ct, body, "")
			if w.Code >= 500 {
				t.Fatalf("POST %s %q: status %d", path, body, w.Code)
			}
			for _, c := range w.Result().Cookies() {
				if c.Name == fs.srv.sessionCk && c.Value != "" {
					t.Fatalf("POST %s %q: a session cookie was set", path, body)
				}
			}
		}
		if after := fs.users(t); after != before {
			t.Fatalf("body %q changed users:\n%s\nwant\n%s", body, after, before)
		}
	})
}

// FuzzAdminForms posts arbitrary bodies to the administrator's forms as a signed-in
// administrator: never a 5xx; a new user is created only from a form that says exactly what
// was stored, and the edit and two-factor forms of a missing user change nothing.
func FuzzAdminForms(f *testing.F) {
	for _, s := range []string{
		"username=dave&name=Dave+Example&email=dave%40example.com&password=s3cret+passphrase&role=user&two_factor=yes",
		"username=dave&password=short&role=admin",
		"username=a%00b&password=s3cret+passphrase&role=root",
		"username=" + strings.Repeat("x", 300) + "&password=s3cret+passphrase&role=user",
		"username=eve&email=not+an+address&password=s3cret+passphrase&role=user",
		"name=%ff%fe&email=&role=&disabled=yes", "role=admin&role=user", "=", "%", "",
	} {
		f.Add(s)
	}
	fs := newFuzzSystem(f)
	ck := fs.srv.sessionCk + "=" + fs.adminToken
	f.Fuzz(func(t *testing.T, body string) {
		before := fs.users(t)
		w := fs.do(http.MethodPost, "/admin/users/new", formType, body, ck)
		if w.Code >= 500 {
			t.Fatalf("new user %q: status %d", body, w.Code)
		}
		after := fs.users(t)
		if w.Code == http.StatusSeeOther && strings.HasPrefix(w.Header().Get("Location"), "/admin/users/") {
			// Created: the new user is what the form said.
			v, _ := url.ParseQuery(body)
			u, err := fs.db.FindUserByUsername(context.Background(), strings.TrimSpace(v.Get("username")))
			if err != nil {
				t.Fatalf("new user %q: created, but %v", body, err)
			}
			if string(u.Role) != v.Get("role") || u.TwoFactorRequired != (v.Get("two_factor") == "yes") {
				t.Fatalf("new user %q: stored %+v", body, *u)
			}
			if _, err := fs.svc.Login(context.Background(), u.Username, v.Get("password")); err != nil {
				t.Fatalf("new user %q: cannot log in with the form's password: %v", body, err)
			}
		} else if after != before {
			t.Fatalf("refused new user %q (status %d) changed users", body, w.Code)
		}

		// Forms about a user that does not exist change nothing.
		for _, path := range []string{"/admin/users/999999/edit", "/admin/users/999999/password", "/admin/users/999999/require", "/admin/users/x/edit"} {
			w := fs.do(http.MethodPost, path, formType, body, ck)
			if w.Code >= 500 {
				t.Fatalf("POST %s %q: status %d", path, body, w.Code)
			}
		}
		if again := fs.users(t); again != after {
			t.Fatalf("forms about a missing user (%q) changed users", body)
		}
	})
}

// FuzzSessionCookie sends arbitrary session and login cookies: never a 5xx, never signed in.
func FuzzSessionCookie(f *testing.F) {
	for _, s := range []string{
		"", "x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%00", "\"quoted\"", "a;b=c", "a,b", "é",
		strings.Repeat("A", 4096), "Zm9vYmFy==", "../../etc/passwd", "' OR 1=1 --",
	} {
		f.Add(s)
	}
	fs := newFuzzSystem(f)
	f.Fuzz(func(t *testing.T, value string) {
		for _, name := range []string{fs.srv.sessionCk, fs.srv.attemptCk} {
			cookie := name + "=" + value
			for _, rq := range []struct{ method, path string }{
				{"GET", "/profile"}, {"GET", "/admin/users"}, {"GET", "/"}, {"GET", "/login"},
				{"GET", "/login/verify"}, {"GET", "/login/enroll"}, {"GET", "/recovery-codes"},
				{"POST", "/profile/recovery-codes"}, {"POST", "/logout"},
			} {
				w := fs.do(rq.method, rq.path, formType, "", cookie)
				if w.Code >= 500 {
					t.Fatalf("%s %s with %q: status %d", rq.method, rq.path, cookie, w.Code)
				}
				if w.Code == http.StatusOK && (rq.path == "/profile" || rq.path == "/admin/users" || rq.path == "/recovery-codes") {
					t.Fatalf("%s %s with %q: 200, a page for the signed-in", rq.method, rq.path, cookie)
				}
			}
		}
		// The real sessions still work: a junk cookie ends nobody's session.
		if w := fs.do("GET", "/profile", "", "", fs.srv.sessionCk+"="+fs.userToken); w.Code != http.StatusOK {
			t.Fatalf("alice's session: status %d after cookie %q", w.Code, value)
		}
	})
}
