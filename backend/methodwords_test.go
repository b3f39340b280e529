package backend_test

import (
	"strings"
	"testing"

	"gatehouse/backend"
)

// TestRecoveryWordsFollowMethod: the recovery code sentences keep the help article's phone
// for app and SMS users and speak of the key to a person enrolled with keys.
func TestRecoveryWordsFollowMethod(t *testing.T) {
	for _, tt := range []struct {
		m         backend.Method
		want, not string
	}{
		{backend.MethodApp, "phone", "security key"},
		{backend.MethodSMS, "phone", "security key"},
		{backend.MethodWebAuthn, "security key", "phone"},
	} {
		for name, s := range map[string]string{
			"sheet":        backend.RecoveryCodesLeadText(tt.m),
			"login":        backend.RecoveryLoginLeadText(tt.m),
			"notice, 0":    backend.RecoveryCodeUsedNotice(0, tt.m),
			"notice, 1":    backend.RecoveryCodeUsedNotice(1, tt.m),
			"notice, many": backend.RecoveryCodeUsedNotice(3, tt.m),
		} {
			if !strings.Contains(s, tt.want) || strings.Contains(s, tt.not) {
				t.Errorf("%s for %s: got %q, want %q in it and no %q", name, tt.m, s, tt.want, tt.not)
			}
		}
	}
	if got := backend.RecoveryCodeUsedNotice(3, backend.MethodApp); !strings.Contains(got, "3 recovery codes left") {
		t.Errorf("notice: got %q, want the count", got)
	}
}
