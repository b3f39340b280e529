package web

import (
	"html"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestFooterVersionForAdmins: the footer shows backend's version text to administrators, on
// every page they see, and to nobody else: not on a user's pages, not before login.
func TestFooterVersionForAdmins(t *testing.T) {
	e := newEnv(t)
	e.user("root", backend.RoleAdmin, false)
	e.user("alice", backend.RoleUser, false)
	version := html.EscapeString(backend.VersionText())

	admin := e.client()
	admin.signIn("root")
	for _, path := range []string{"/admin", "/admin/users", "/profile"} {
		admin.get(path).wantBody(t, `id="version">`+version+"<")
	}
	user := e.client()
	for _, path := range []string{"/login"} {
		if r := user.get(path); strings.Contains(r.body, `id="version"`) || strings.Contains(r.body, version) {
			t.Errorf("%s before login shows the version", path)
		}
	}
	user.signIn("alice")
	if r := user.get("/profile"); strings.Contains(r.body, `id="version"`) || strings.Contains(r.body, version) {
		t.Errorf("a user's profile shows the version")
	}
}
