package backend_test

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestDescribeKeyRemoval: the confirmation says beforehand what removing a key does: a
// required person's last key is not offered for removal, and an administrator's page names
// the user and the status their last key leaves them in.
func TestDescribeKeyRemoval(t *testing.T) {
	keyUser := func(required bool) *backend.User {
		return &backend.User{Username: "kim", Method: backend.MethodWebAuthn, TwoFactorRequired: required}
	}
	appUser := &backend.User{Username: "ann", Method: backend.MethodApp, TwoFactorRequired: true}
	one := backend.SecurityKey{Name: "YubiKey", Keys: 1}
	two := backend.SecurityKey{Name: "YubiKey", Keys: 2}
	for _, c := range []struct {
		name    string
		u       *backend.User
		k       backend.SecurityKey
		own     bool
		allowed bool
		want    string
	}{
		{"own, required, last", keyUser(true), one, true, false, "this is your last security key or passkey, so it cannot be removed"},
		{"own, last", keyUser(false), one, true, true, "It is your last one, so Two-Factor Authentication will be turned off"},
		{"own, one of two", keyUser(true), two, true, true, "It will no longer work to log in."},
		{"own, app user's only key", appUser, one, true, true, "It will no longer work to log in."},
		{"admin, required, last", keyUser(true), one, false, true, "of kim? It is their last one: their recovery codes go with it, and as Two-Factor Authentication stays required, their status will be Pending setup on next login."},
		{"admin, last", keyUser(false), one, false, true, "of kim? It is their last one: Two-Factor Authentication will be off for them"},
		{"admin, one of two", keyUser(true), two, false, true, "of kim? It will no longer work to log in. Their sessions end now."},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := backend.DescribeKeyRemoval(c.u, c.k, c.own)
			if got.Allowed != c.allowed || !strings.Contains(got.Confirm, c.want) {
				t.Errorf("got %+v, want allowed %v and a sentence with %q", got, c.allowed, c.want)
			}
		})
	}
	if got := backend.UserKeyRemovedText(&backend.User{Username: "kim", TwoFactorRequired: true}); !strings.Contains(got, "their status is now Pending setup on next login") {
		t.Errorf("after the last key: %q", got)
	}
}
