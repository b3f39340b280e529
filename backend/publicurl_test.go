package backend_test

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestKeysNeedAHostName: keys work only under a public URL whose host is a name. Under an IP
// address (what `serve --sms-sandbox` once used) the key option is not offered, beginning a
// registration is refused with a conflict rather than failing inside the library (a 500), and
// the administrator's reason names the cause.
func TestKeysNeedAHostName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		public string
		ok     bool
		why    string
	}{
		{"", false, "not set"},
		{"http://127.0.0.1:8080", false, "IP address"},
		{"http://[::1]:8080", false, "IP address"},
		{"https://192.0.2.7", false, "IP address"},
		{"http://localhost:8080", true, ""},
		{"https://gatehouse.example.com", true, ""},
	} {
		t.Run(tt.public, func(t *testing.T) {
			e := newEnv(t, func(c *backend.Config) { c.PublicURL = tt.public })
			e.createUser(backend.NewUser{Username: "alice"})
			id := e.signIn("alice", goodPassword)
			if got := e.svc.KeysAvailable(); got != tt.ok {
				t.Errorf("KeysAvailable() = %v, want %v", got, tt.ok)
			}
			why := e.svc.KeysUnavailableReason()
			if (why == "") != tt.ok || !strings.Contains(why, tt.why) {
				t.Errorf("KeysUnavailableReason() = %q, want one saying %q", why, tt.why)
			}
			_, err := e.svc.BeginKeyRegistration(ctx, id)
			if tt.ok {
				if err != nil {
					t.Errorf("BeginKeyRegistration: %v", err)
				}
				return
			}
			wantCode(t, "BeginKeyRegistration", err, backend.ECONFLICT)
		})
	}
}

// TestSMSUnavailableNamesKeys: where SMS is off, its sentence offers the other ways this server
// has: a security key too where keys work, the app alone where they do not.
func TestSMSUnavailableNamesKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		public, want string
	}{
		{"", "Use an authenticator app instead, or ask your administrator."},
		{"http://localhost:8080", "Use an authenticator app or a security key instead, or ask your administrator."},
	} {
		e := newEnv(t, func(c *backend.Config) { c.PublicURL = tt.public })
		if ok, why := e.svc.SMSAvailable(); ok || !strings.HasSuffix(why, tt.want) {
			t.Errorf("public URL %q: SMSAvailable() = %v, %q; want false and %q", tt.public, ok, why, tt.want)
		}
	}
}
