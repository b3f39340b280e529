package web

import (
	"fmt"
	"net/url"
	"testing"

	"gatehouse/backend"
)

// TestCachedSessionEndsAtAdminDisable: with the session cache running (as under Run), bob's
// pages are answered from it; an administrator's rename through the edit form shows on bob's
// very next page, and a Disable ends bob's session on his very next request.
func TestCachedSessionEndsAtAdminDisable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.user("root", backend.RoleAdmin, false)
	bob := e.user("bob", backend.RoleUser, false)
	a, b := e.client(), e.client()
	a.signIn("root")
	b.signIn("bob")
	for range 3 {
		b.get("/profile").wantBody(t, "Bob Example")
	}
	edit := func(name, account string) {
		t.Helper()
		r := a.post(fmt.Sprintf("/admin/users/%d/edit", bob.ID), url.Values{"name": {name}, "email": {""}, "role": {"user"}, "account": {account}})
		r.wantRedirect(t, fmt.Sprintf("/admin/users/%d", bob.ID))
	}
	edit("Robert Example", "active")
	b.get("/profile").wantBody(t, "Robert Example")
	edit("Robert Example", "disabled")
	r := b.get("/profile")
	r.wantRedirect(t, "/login")
	b.follow(r).wantBody(t, "Your session has ended. Log in again.")
}
