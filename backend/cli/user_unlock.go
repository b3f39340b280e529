package cli

import (
	"context"
	"fmt"

	"gatehouse/backend"
)

// userUnlock is `gatehouse user unlock USERNAME`: it lifts a lock after too many failed
// attempts, the way back for an administrator, who cannot unlock their own account.
func (e *Env) userUnlock(ctx context.Context, args []string) error {
	return e.userChange(ctx, args, "user unlock",
		"user unlock USERNAME   (lifts a lock after too many failed attempts)",
		(*backend.Service).UnlockUser,
		func(u *backend.User) string { return fmt.Sprintf("%q is unlocked.", u.Username) })
}
