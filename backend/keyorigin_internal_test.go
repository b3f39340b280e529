package backend

import "testing"

// TestKeyOrigin: the relying party ID and origin are the public URL's as a browser writes
// them, however the URL was typed.
func TestKeyOrigin(t *testing.T) {
	for _, tc := range []struct{ public, rpID, origin string }{
		{"https://auth.example.com", "auth.example.com", "https://auth.example.com"},
		{"https://Auth.Example.COM", "auth.example.com", "https://auth.example.com"},
		{"HTTPS://auth.example.com:443/", "auth.example.com", "https://auth.example.com"},
		{"https://auth.example.com:443/login/", "auth.example.com", "https://auth.example.com"},
		{"https://auth.example.com:8443", "auth.example.com", "https://auth.example.com:8443"},
		{"http://localhost:80", "localhost", "http://localhost"},
		{"http://localhost:8080", "localhost", "http://localhost:8080"},
		{"http://127.0.0.1:8080/", "127.0.0.1", "http://127.0.0.1:8080"},
		{"https://[::1]:443", "::1", "https://[::1]"},
		{"https://[::1]:8443", "::1", "https://[::1]:8443"},
	} {
		rpID, origin, err := keyOrigin(tc.public)
		if err != nil || rpID != tc.rpID || origin != tc.origin {
			t.Errorf("keyOrigin(%q): got %q, %q, %v; want %q, %q", tc.public, rpID, origin, err, tc.rpID, tc.origin)
		}
	}
	for _, bad := range []string{"", "auth.example.com", "ftp://auth.example.com", "https://", "https://:443"} {
		if _, _, err := keyOrigin(bad); err == nil {
			t.Errorf("keyOrigin(%q): no error", bad)
		}
	}
}
