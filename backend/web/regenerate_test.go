package web

import (
	"html"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestRegeneratedCodesPageSaysOldStopped pins issue 11 (web 8): after Regenerate, the recovery
// codes page says the old set stopped working; after the first setup it does not.
func TestRegeneratedCodesPageSaysOldStopped(t *testing.T) {
	e := newEnv(t)
	e.user("alice", backend.RoleUser, false)
	c := e.client()
	c.signIn("alice")
	c.post("/profile/two-factor/app", nil).wantRedirect(t, "/profile/two-factor/app")
	key := appKey(t, c.get("/profile/two-factor/app").body)
	c.post("/profile/two-factor/app/confirm", map[string][]string{"code": {e.code(key)}}).wantRedirect(t, "/recovery-codes")
	want := html.EscapeString(backend.RecoveryCodesReplacedText)
	if first := c.get("/recovery-codes").body; strings.Contains(first, want) {
		t.Error("the first set's page says old codes stopped working")
	}
	c.post("/recovery-codes/done", nil).wantRedirect(t, "/profile")
	c.post("/profile/recovery-codes", nil).wantRedirect(t, "/recovery-codes")
	c.get("/recovery-codes").wantBody(t, `id="codes-replaced"`, want)
}
