package backend_test

import (
	"testing"

	"gatehouse/backend"
	"gatehouse/backend/backendtest"
)

// TestKeepResume: what a login resumes is one thing, checked before it is kept: an
// application's sign-in still pending, or a page of a protected domain; anything else keeps
// nothing (a clear error for a page or for both at once; a sign-in that is over is dropped, the
// login standing). What is kept is taken once.
func TestKeepResume(t *testing.T) {
	t.Parallel()
	e, _, _ := forwardEnv(t)
	chat, _ := e.createApp(backend.NewApp{Name: "Chat", RedirectURIs: []string{"https://chat.example.com/cb"}})
	begin := func() string {
		t.Helper()
		r, err := e.svc.BeginAuthorization(ctx, backend.AuthRequestInput{ClientID: chat.ClientID, RedirectURI: "https://chat.example.com/cb",
			ResponseType: "code", Scopes: []string{"openid"}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	login := func() (*backend.LoginState, *backend.Identity) {
		t.Helper()
		st := backendtest.Login(t, e.svc, "bob", "bob's long password", backend.StepDone)
		return st, backendtest.Authenticate(t, e.svc, st.SessionToken)
	}
	pending := begin()

	for _, tc := range []struct {
		name string
		r    backend.LoginResume
		code string // "": no error
	}{
		{"both a sign-in and a page", backend.LoginResume{AuthRequestID: pending, URL: "https://app.example.com/"}, backend.EINVALID},
		{"a page of no protected domain", backend.LoginResume{URL: "https://evil.example.com/"}, backend.EFORBIDDEN},
		{"not a page to return to", backend.LoginResume{URL: "//evil.example.com/"}, backend.EINVALID},
		{"an unknown sign-in", backend.LoginResume{AuthRequestID: "no-such-request"}, ""},
	} {
		st, id := login()
		err := e.svc.KeepResume(ctx, st, tc.r)
		if backend.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
			t.Errorf("%s: KeepResume: got %v, want code %q", tc.name, err, tc.code)
		}
		if r, err := e.svc.TakeResume(ctx, id); err != nil || r != nil {
			t.Errorf("%s: TakeResume: got %+v, %v; want nothing kept", tc.name, r, err)
		}
	}

	// A pending sign-in is kept and taken once.
	st, id := login()
	if err := e.svc.KeepResume(ctx, st, backend.LoginResume{AuthRequestID: pending}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.svc.TakeResume(ctx, id); err != nil || r == nil || r.AuthRequestID != pending || r.URL != "" {
		t.Fatalf("TakeResume: got %+v, %v; want the sign-in %s", r, err, pending)
	}
	if r, _ := e.svc.TakeResume(ctx, id); r != nil {
		t.Fatalf("TakeResume twice: got %+v, want nothing", r)
	}
	// A sign-in that is complete is over: dropped, the login standing.
	if d, err := e.svc.AuthorizeApp(ctx, id, pending); err != nil || d.Step != backend.SSOCallback {
		t.Fatalf("AuthorizeApp: %+v, %v", d, err)
	}
	st, id = login()
	if err := e.svc.KeepResume(ctx, st, backend.LoginResume{AuthRequestID: pending}); err != nil {
		t.Fatalf("KeepResume of a complete sign-in: %v, want it dropped without an error", err)
	}
	if r, _ := e.svc.TakeResume(ctx, id); r != nil {
		t.Fatalf("TakeResume after a complete sign-in was kept: got %+v, want nothing", r)
	}
}
