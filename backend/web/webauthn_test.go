package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestRenameOwnKey: the Profile's key list links each key to a page that renames it; a name
// CheckKeyName refuses is shown on the field, with what was typed; another person's key is
// not found; the new name is listed, and audited.
func TestRenameOwnKey(t *testing.T) {
	e := newEnv(t, withKeys)
	u := e.user("carol", backend.RoleUser, false)
	c := e.client()
	c.signIn("carol")
	k := &backend.WebAuthnCredential{UserID: u.ID, CredentialID: []byte("carol-key"), Name: "YubiKey", Record: []byte(`{}`)}
	if err := e.h.Store.EnableWebAuthn(t.Context(), k, nil); err != nil {
		t.Fatal(err)
	}
	other := e.user("dave", backend.RoleUser, false)
	dk := &backend.WebAuthnCredential{UserID: other.ID, CredentialID: []byte("dave-key"), Name: "dave's key", Record: []byte(`{}`)}
	if err := e.h.Store.EnableWebAuthn(t.Context(), dk, nil); err != nil {
		t.Fatal(err)
	}
	path := "/profile/keys/" + strconv.FormatInt(k.ID, 10) + "/rename"

	c.get("/profile").wantBody(t, `href="`+path+`"`, `aria-label="Rename YubiKey"`)
	page := c.get(path)
	page.wantStatus(t, http.StatusOK)
	page.wantBody(t, "Rename security key or passkey", backend.RenameKeyText(backend.SecurityKey{Name: "YubiKey"}), `value="YubiKey"`)

	for _, tc := range []struct {
		name, typed, want string
	}{
		{"blank", "  ", "Name this key."},
		{"too long", strings.Repeat("k", backend.MaxKeyNameLength+1), "A key&#39;s name is at most"},
		{"control character", "tab\there", "cannot contain control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post(path, url.Values{backend.FieldKeyName: {tc.typed}})
			r.wantStatus(t, http.StatusBadRequest)
			r.wantBody(t, tc.want, `aria-invalid="true"`)
		})
	}
	c.post("/profile/keys/"+strconv.FormatInt(dk.ID, 10)+"/rename", url.Values{backend.FieldKeyName: {"mine now"}}).wantStatus(t, http.StatusNotFound)

	r := c.post(path, url.Values{backend.FieldKeyName: {"  Work laptop "}})
	r.wantRedirect(t, "/profile")
	c.follow(r).wantBody(t, backend.KeyRenamedNotice, "Work laptop")
	for _, tc := range []struct {
		userID int64
		want   string
	}{{u.ID, "Work laptop"}, {other.ID, "dave's key"}} {
		keys, err := e.h.Store.WebAuthnCredentials(t.Context(), tc.userID)
		if err != nil || len(keys) != 1 || keys[0].Name != tc.want {
			t.Errorf("keys of user %d: got %v, %v; want one named %q", tc.userID, keys, err, tc.want)
		}
	}
	if n := e.auditCount(backend.AuditKeyRenamed); n != 1 {
		t.Errorf("got %d key-renamed audit events, want 1", n)
	}
}

// TestKeyCapOnPages: with backend.MaxKeys keys the Profile and Setup Two-Factor say why no
// key can be added instead of offering one; below it they offer it.
func TestKeyCapOnPages(t *testing.T) {
	e := newEnv(t, withKeys)
	u := e.user("carol", backend.RoleUser, false)
	c := e.client()
	c.signIn("carol")
	capText := fmt.Sprintf("You have %d security keys, the most an account may have. Remove one first.", backend.MaxKeys)
	for i := range backend.MaxKeys {
		k := &backend.WebAuthnCredential{UserID: u.ID, CredentialID: fmt.Appendf(nil, "carol-key-%d", i), Name: fmt.Sprintf("key %d", i), Record: []byte(`{}`)}
		var err error
		if i == 0 {
			err = e.h.Store.EnableWebAuthn(t.Context(), k, nil)
		} else {
			err = e.h.Store.AddWebAuthnCredential(t.Context(), k)
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == backend.MaxKeys-2 { // MaxKeys-1 keys: offered
			c.get("/profile").wantBody(t, "Add a security key or passkey")
			c.get("/profile/two-factor").wantBody(t, `formaction="/profile/two-factor/key/start"`)
		}
	}
	for _, path := range []string{"/profile", "/profile/two-factor"} {
		r := c.get(path)
		r.wantBody(t, capText)
		if strings.Contains(r.body, "Add a security key or passkey") || strings.Contains(r.body, "/profile/two-factor/key/start") {
			t.Errorf("%s at the cap offers another key:\n%s", path, excerpt(r.body))
		}
	}
}

// TestKeyPagesBrowserWords: the pages hand the script backend's sentences for the browser's
// failures: at login a NotAllowedError says the key may not be registered; a wrong address
// names the public URL's origin.
func TestKeyPagesBrowserWords(t *testing.T) {
	e := newEnv(t, withKeys)
	u := e.user("carol", backend.RoleUser, false)
	c := e.client()
	c.signIn("carol")
	setup := c.get("/profile/two-factor/key")
	setup.wantStatus(t, http.StatusOK)
	k := &backend.WebAuthnCredential{UserID: u.ID, CredentialID: []byte("carol-key"), Name: "YubiKey", Record: []byte(`{}`)}
	if err := e.h.Store.EnableWebAuthn(t.Context(), k, nil); err != nil {
		t.Fatal(err)
	}
	texts := e.h.Service.KeyBrowserErrorTexts(true)
	origin := strings.TrimSuffix(e.ts.URL, "/")
	if !strings.Contains(texts["SecurityError"], "Open Gatehouse at "+origin+" ") {
		t.Errorf("SecurityError: got %q, want it to name %s", texts["SecurityError"], origin)
	}
	if !strings.Contains(texts["NotAllowedError"], "not registered for your account") {
		t.Errorf("NotAllowedError at login: got %q, want it to say the key may not be registered", texts["NotAllowedError"])
	}
	if got := e.h.Service.KeyBrowserErrorTexts(false)["NotAllowedError"]; got != backend.KeyBrowserErrors["NotAllowedError"] {
		t.Errorf("NotAllowedError at setup: got %q, want %q", got, backend.KeyBrowserErrors["NotAllowedError"])
	}
	setup.wantBody(t, `data-msg-securityerror="`+texts["SecurityError"]+`"`, `<a href="/profile/two-factor">Choose another way</a>`)

	// The JSON endpoints answer a dead end with where to go, never a redirect fetch would follow.
	anon := e.client()
	for _, path := range []string{"/profile/two-factor/key/options", "/login/enroll/key/options", "/login/verify/key/options"} {
		t.Run(path, func(t *testing.T) {
			r := anon.post(path, url.Values{})
			r.wantStatus(t, http.StatusUnauthorized)
			r.wantBody(t, `"location":"/login"`, `"link":"Log in"`)
		})
	}
}
