package backend

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a user may do: admins manage users, users manage themselves.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// Label is the role in the words every front end shows.
func (r Role) Label() string {
	if r == RoleAdmin {
		return "Administrator"
	}
	return "User"
}

// Roles lists the roles in the order forms offer them.
var Roles = []Role{RoleUser, RoleAdmin}

// Method is the second factor a user has enrolled.
type Method string

// Methods. Recovery codes are not a method: every enrolled user has them.
const (
	MethodNone Method = "none"
	MethodApp  Method = "app" // an authenticator app (TOTP)
	MethodSMS  Method = "sms" // a code by text message
	// MethodWebAuthn: security keys and passkeys (WebAuthn), the third option after the help
	// article's two (backend/webauthn.go). A user enrolled with another method may register
	// keys too: u.Method names what they enrolled with first.
	MethodWebAuthn Method = "webauthn"
)

// Label is the method in the words every front end shows.
func (m Method) Label() string {
	switch m {
	case MethodApp:
		return "Authenticator app"
	case MethodSMS:
		return "SMS"
	case MethodWebAuthn:
		return "Security key or passkey"
	}
	return "None"
}

// Methods lists every method, for front ends that bind the keys (Wails EnumBind).
var Methods = []Method{MethodNone, MethodApp, MethodSMS, MethodWebAuthn}

// TwoFactorStatus is what administrators see in the "Two-Factor Authentication" column. The
// value is a stable key (in URLs, on the command line, in the desktop's bindings); Label is
// the help article's words. Front ends compare keys and show labels, never the reverse.
type TwoFactorStatus string

// Two-Factor statuses.
const (
	StatusNo      TwoFactorStatus = "no"
	StatusPending TwoFactorStatus = "pending"
	StatusEnabled TwoFactorStatus = "enabled"
)

// Statuses lists every status in display order.
var Statuses = []TwoFactorStatus{StatusNo, StatusPending, StatusEnabled}

// Label is the status in the help article's words.
func (st TwoFactorStatus) Label() string {
	switch st {
	case StatusPending:
		return "Pending setup on next login"
	case StatusEnabled:
		return "Enabled"
	}
	return "No"
}

// Valid reports whether st is a known status.
func (st TwoFactorStatus) Valid() bool { return slices.Contains(Statuses, st) }

// ParseTwoFactorStatus reads a status as people type it (on the command line, in a URL): its
// key or its label, in any case. EINVALID, naming the choices, for anything else.
func ParseTwoFactorStatus(s string) (TwoFactorStatus, error) {
	s = strings.TrimSpace(s)
	for _, st := range Statuses {
		if strings.EqualFold(s, string(st)) || strings.EqualFold(s, st.Label()) {
			return st, nil
		}
	}
	var choices []string
	for _, st := range Statuses {
		choices = append(choices, fmt.Sprintf("%q (%s)", string(st), st.Label()))
	}
	return "", Errorf(EINVALID, "Unknown Two-Factor status %q: use %s.", s, strings.Join(choices, ", "))
}

// User is an account.
type User struct {
	ID                 int64
	Username           string // unique, compared case-insensitively
	DisplayName        string
	Email              string
	Role               Role
	Disabled           bool
	TwoFactorRequired  bool      // set by an administrator
	Method             Method    // enrolled second factor
	SMSPhone           string    // E.164, set by SMS enrollment
	MustChangePassword bool      // set by an administrator with a new password
	LockedUntil        time.Time // the end of the last lock for too many failures (see Service.Locked)
	// CredentialsVersion goes up, in the store, with every change of what a login is checked
	// against or leads to: the password, Two-Factor (required, enrolled, disabled, reset), the
	// role, disabled. A login step refuses to go on from a version it did not verify.
	CredentialsVersion int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// TwoFactorStatus derives the status shown to administrators. It is the only place that does.
func (u *User) TwoFactorStatus() TwoFactorStatus {
	switch {
	case u.Method != MethodNone && u.Method != "":
		return StatusEnabled
	case u.TwoFactorRequired:
		return StatusPending
	default:
		return StatusNo
	}
}

// Enrolled reports whether the user has a second factor.
func (u *User) Enrolled() bool { return u.TwoFactorStatus() == StatusEnabled }

// Which of an administrator's Two-Factor changes would change something for the user: the
// Service refuses the others (ECONFLICT), and front ends offer only these.
func (u *User) CanRequireTwoFactor() bool { return !u.TwoFactorRequired }
func (u *User) CanDisableTwoFactor() bool { return u.TwoFactorRequired || u.Enrolled() }
func (u *User) CanResetTwoFactor() bool   { return u.Enrolled() }

// CanDisableOwnTwoFactor reports whether the user may turn their own Two-Factor off: they
// have it, and no administrator requires it (DisableOwnTwoFactor refuses the others).
func (u *User) CanDisableOwnTwoFactor() bool { return u.Enrolled() && !u.TwoFactorRequired }

// Name returns the display name, or the username when there is none.
func (u *User) Name() string {
	if strings.TrimSpace(u.DisplayName) != "" {
		return u.DisplayName
	}
	return u.Username
}

// UserFilter selects users for FindUsers. Zero fields do not filter.
type UserFilter struct {
	Search string          // substring of username, display name or email, case-insensitive
	Status TwoFactorStatus // one status, or "" for all
	Role   Role            // one role, or "" for all
	Offset int
	Limit  int // 0 means the default page size
}

// UserUpdate is a partial update: nil fields are left alone.
type UserUpdate struct {
	DisplayName        *string
	Email              *string
	Role               *Role
	Disabled           *bool
	TwoFactorRequired  *bool
	MustChangePassword *bool
	// ClearEnrollment removes the enrolled method, the TOTP secret (active and pending), the SMS
	// phone, the security keys (WebAuthn credentials) and the recovery codes, with any sheet of
	// them still on show.
	ClearEnrollment bool
	// EndSessions ends every session and login attempt of the user in the same transaction.
	EndSessions bool
}

// StatusCounts is how many users have each Two-Factor status.
type StatusCounts map[TwoFactorStatus]int

// Total is the number of users counted.
func (c StatusCounts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}
