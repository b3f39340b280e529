package web

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestLoginOtherWaysFollowMethod: the code step and the recovery code step offer the ways the
// person has. A person enrolled with keys is not told of a phone or an app; one with an app and
// a key gets back from the recovery code step to the app's code (not the key step, which comes
// first otherwise), and from the code step back to the key.
func TestLoginOtherWaysFollowMethod(t *testing.T) {
	e := newEnv(t, withKeys)
	// Ann: an authenticator app, and a key beside it.
	e.user("ann", backend.RoleUser, false)
	ann := e.client()
	ann.signIn("ann")
	ann.enrollFromProfile()
	u := e.userNamed("ann")
	if err := e.h.Store.AddWebAuthnCredential(t.Context(), &backend.WebAuthnCredential{UserID: u.ID, CredentialID: []byte("ann-key"), Name: "ann's key", Record: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	// Kim: keys only.
	kim := e.user("kim", backend.RoleUser, false)
	if err := e.h.Store.EnableWebAuthn(t.Context(), &backend.WebAuthnCredential{UserID: kim.ID, CredentialID: []byte("kim-key"), Name: "kim's key", Record: []byte(`{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	// Bob: an app, no key.
	e.user("bob", backend.RoleUser, false)
	bob := e.client()
	bob.signIn("bob")
	bob.enrollFromProfile()

	tests := []struct {
		user      string
		path      string
		want, not []string
	}{
		{"ann", "/login/verify?method=code", []string{`<a href="/login/verify">Use your security key instead</a>`, `href="/login/recovery"`}, nil},
		{"ann", "/login/recovery", []string{"No access to your phone?", `<a href="/login/verify?method=code">Use a code from your app instead</a>`}, []string{"security key instead"}},
		{"kim", "/login/recovery", []string{"No security key or passkey with you?", `<a href="/login/verify">Use your security key instead</a>`}, []string{"phone", "from your app"}},
		{"bob", "/login/verify", []string{`href="/login/recovery"`}, []string{"security key"}},
		{"bob", "/login/recovery", []string{"No access to your phone?", "Use a code from your app instead"}, []string{"security key"}},
	}
	for _, tt := range tests {
		t.Run(tt.user+tt.path, func(t *testing.T) {
			c := e.client()
			c.login(tt.user, testPassword)
			r := c.get(tt.path)
			r.wantStatus(t, 200)
			r.wantBody(t, tt.want...)
			for _, s := range tt.not {
				if strings.Contains(r.body, s) {
					t.Errorf("GET %s for %s: page has %q:\n%s", tt.path, tt.user, s, excerpt(r.body))
				}
			}
		})
	}
}

// TestSetupChoiceWords: the article's sentence stands above its two options and the key under
// its own lead, so "two options" reads true; to a person enrolled already the page says that
// setting up again replaces the app or phone and keeps the keys.
func TestSetupChoiceWords(t *testing.T) {
	e := newEnv(t, withKeys)
	e.user("ann", backend.RoleUser, false)
	c := e.client()
	c.signIn("ann")
	c.enrollFromProfile()
	page := c.get("/profile/two-factor")
	page.wantBody(t, backend.SetupAgainText(backend.MethodApp), "Security keys you added stay")
	order := []string{"Two Factor Authentication supports two options for authenticating:", ">Use an App<", ">Use SMS<", "<p>Or use a security key or passkey:</p>", ">Use a security key or passkey<"}
	at := 0
	for _, s := range order {
		i := strings.Index(page.body[at:], s)
		if i < 0 {
			t.Fatalf("the choice page lacks %q after the text before it (order %q):\n%s", s, order, excerpt(page.body))
		}
		at += i + len(s)
	}
	c.get("/profile").wantBody(t, "security keys you added stay")
}
