package cli

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// userReset2FA is `gatehouse user reset-2fa USERNAME`: the user's Two-Factor enrollment is
// cleared, the requirement stays.
func (e *Env) userReset2FA(ctx context.Context, args []string) error {
	return e.userChange(ctx, args, "user reset-2fa",
		"user reset-2fa USERNAME   (clears the enrollment; a required user enrolls again at next login)",
		(*backend.Service).ResetTwoFactor,
		func(u *backend.User) string {
			return fmt.Sprintf("Two-Factor Authentication of %q reset; status: %s.", u.Username, u.TwoFactorStatus().Label())
		})
}
