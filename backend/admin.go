package backend

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// NewUser is the "New User" form.
type NewUser struct {
	Username           string
	DisplayName        string
	Email              string
	Password           string
	Role               Role // RoleUser if empty
	RequireTwoFactor   bool // "Two-Factor Authentication: Yes"; the form's default is No
	MustChangePassword bool // the user chooses their own password at first login
}

// UserChanges is the "Edit this User" form: nil fields stay as they are.
type UserChanges struct {
	DisplayName *string
	Email       *string
	Role        *Role
	Disabled    *bool
}

// UserPage is one page of the user list.
type UserPage struct {
	Users  []*User
	Total  int
	Offset int
	Limit  int
}

// The longest values an account's fields take (CheckUsername, checkDisplayName, checkEmail; the
// password's is MaxPasswordLength): front ends put them on their fields (maxlength), so that
// nobody types past what will be refused.
const (
	MaxUsernameLength    = 64  // characters, all ASCII
	MaxDisplayNameLength = 100 // characters
	MaxEmailLength       = 254 // bytes (RFC 5321's limit of a path); characters for an ASCII address
)

// Usernames are ASCII: letters a-z and A-Z only, no accented or other letters. They are
// compared case-insensitively (the store's NOCASE, and unknownName's folding), which is exact
// only for ASCII. The message says so, and says what is taken: "jürgen" is refused in words
// that tell why.
var usernamePattern = regexp.MustCompile(fmt.Sprintf(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,%d}$`, MaxUsernameLength-1))

// UsernameRule is the username rule as forms and errors state it (CheckUsername enforces it).
var UsernameRule = fmt.Sprintf("A username is 1 to %d characters: letters a–z or A–Z (no accents), digits 0–9 and . _ @ + -, starting with a letter or digit.", MaxUsernameLength)

// CheckUsername says why username may not be used, or returns nil.
func CheckUsername(username string) error {
	if username == "" {
		return Errorf(EINVALID, "Enter a username.")
	}
	if !usernamePattern.MatchString(username) {
		return Errorf(EINVALID, "%s", UsernameRule)
	}
	return nil
}

func checkDisplayName(name string) error {
	if utf8.RuneCountInString(name) > MaxDisplayNameLength || !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n") {
		return Errorf(EINVALID, "The name must be at most %d characters on one line.", MaxDisplayNameLength)
	}
	return nil
}

func checkEmail(email string) error {
	if email == "" {
		return nil
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > MaxEmailLength {
		return Errorf(EINVALID, "%q is not an email address.", email)
	}
	return nil
}

// CreateUser adds an account. Administrators only; creating an administrator needs a recently
// confirmed password (else a stolen session could make itself an administrator it knows the
// password of, and confirm that).
func (s *Service) CreateUser(ctx context.Context, id *Identity, nu NewUser) (*User, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	return s.createUser(ctx, id, nu)
}

// CheckNewUser reports what is wrong with a new account as CreateUser would, without creating
// it: EINVALID naming every bad field at once, so a form is corrected in one go rather than one
// field per try. A front end that checks something of its own first (two passwords that differ)
// calls it to report the rest with it. It does not look up whether the username is taken.
func CheckNewUser(nu NewUser) error {
	return checkNewUser(tidyNewUser(nu))
}

// tidyNewUser trims what was typed and fills in the default role.
func tidyNewUser(nu NewUser) NewUser {
	nu.Username = strings.TrimSpace(nu.Username)
	nu.DisplayName = strings.TrimSpace(nu.DisplayName)
	nu.Email = strings.TrimSpace(nu.Email)
	if nu.Role == "" {
		nu.Role = RoleUser
	}
	return nu
}

func checkNewUser(nu NewUser) error {
	return fieldChecks(
		fieldCheck{FieldUsername, CheckUsername(nu.Username)},
		fieldCheck{FieldName, checkDisplayName(nu.DisplayName)},
		fieldCheck{FieldEmail, checkEmail(nu.Email)},
		fieldCheck{FieldRole, checkRole(nu.Role)},
		fieldCheck{FieldPassword, CheckNewPassword(nu.Password, nu.Username)},
	)
}

// createUser creates nu for id, an administrator. The form's mistakes are reported before the
// password is asked for.
func (s *Service) createUser(ctx context.Context, id *Identity, nu NewUser) (*User, error) {
	nu = tidyNewUser(nu)
	if err := checkNewUser(nu); err != nil {
		return nil, err
	}
	if NewUserNeedsPassword(nu) {
		if err := s.requireAdminConfirmed(id); err != nil {
			return nil, err
		}
	}
	u, hash, err := s.newUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	if err := s.insertUser(ctx, id.actor(), u, hash); err != nil {
		return nil, err
	}
	return u, nil
}

// newUser hashes the password of nu, tidied and checked: the account to insert, and its hash.
// It writes nothing, so the hash (the slow part) is never computed inside a transaction.
func (s *Service) newUser(ctx context.Context, nu NewUser) (*User, string, error) {
	hash, err := s.passwords.hash(ctx, nu.Password)
	if err != nil {
		return nil, "", internal("hash password", err)
	}
	u := &User{
		Username: nu.Username, DisplayName: nu.DisplayName, Email: nu.Email, Role: nu.Role,
		TwoFactorRequired: nu.RequireTwoFactor, MustChangePassword: nu.MustChangePassword, Method: MethodNone,
	}
	return u, hash, nil
}

// insertUser stores u, created by actor (for the first administrator, who made it:
// firstAdminActor), and its audit event in one transaction (the caller's, if it runs in one).
func (s *Service) insertUser(ctx context.Context, actor *User, u *User, hash string) error {
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		if err := s.store.CreateUser(ctx, u, hash); err != nil {
			return internal("create user", err)
		}
		return s.audit(ctx, AuditUserCreated, actor, u, fmt.Sprintf("role %s, Two-Factor Authentication %s", u.Role, yesNo(u.TwoFactorRequired)))
	})
}

func checkRole(r Role) error {
	if !r.Valid() {
		return Errorf(EINVALID, "The role must be %q or %q.", RoleAdmin, RoleUser)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// NeedsFirstAdmin reports whether there is no administrator yet, so the first one may be created
// without signing in (the one-time setup link, the desktop console, or the command line).
func (s *Service) NeedsFirstAdmin(ctx context.Context) (bool, error) {
	_, n, err := s.store.FindUsers(ctx, UserFilter{Role: RoleAdmin, Limit: 1})
	return n == 0, internal("count admins", err)
}

// SetupLinkTTL is how long a first-administrator link stays valid.
const SetupLinkTTL = time.Hour

// SetupLinksKept is how many first-administrator links may be live at once: one per server
// that printed one (replicas starting together each print their own, and each works), the
// oldest dropped beyond it, so servers restarted in a loop do not grow the table.
const SetupLinksKept = 10

// ErrSetupLinkInvalid is the answer to a first-administrator link that is not a live one:
// expired, used, mistyped, one of more than SetupLinksKept printed since, or there is an
// administrator already.
var ErrSetupLinkInvalid = Errorf(ENOTFOUND, "This link to create the first administrator is not valid any more.")

// NewSetupLink returns the token of a new one-time link to create the first administrator in a
// browser, valid for SetupLinkTTL; "" once an administrator exists. The links other servers
// printed stay valid (up to SetupLinksKept), so whichever replica's link the operator opens
// works; creating the first administrator voids them all. Only the token's hash is stored, so
// every server on the store accepts the link, and a copy of the database creates no
// administrator. The token is a credential: it goes to the terminal of
// whoever started the server, never to a log.
func (s *Service) NewSetupLink(ctx context.Context) (string, error) {
	if need, err := s.NeedsFirstAdmin(ctx); err != nil || !need {
		return "", err
	}
	token, hash := newToken()
	if _, err := s.store.AddSetupLink(ctx, hash, SetupLinkTTL, SetupLinksKept); err != nil {
		return "", internal("setup link", err)
	}
	return token, nil
}

// SetupLinkValid reports whether token is a live first-administrator link and there is no
// administrator yet.
func (s *Service) SetupLinkValid(ctx context.Context, token string) (bool, error) {
	if need, err := s.NeedsFirstAdmin(ctx); err != nil || !need || token == "" {
		return false, err
	}
	ok, err := s.store.SetupLinkValid(ctx, hashToken(token))
	return ok, internal("setup link", err)
}

// CreateFirstAdmin creates the first administrator, for a front end that runs with the data
// directory at hand (the desktop console): whoever can open it could create one anyway.
// ECONFLICT once there is one.
func (s *Service) CreateFirstAdmin(ctx context.Context, nu NewUser) (*User, error) {
	return s.createFirstAdmin(ctx, nu, "")
}

// CreateFirstAdminByLink creates the first administrator with the one-time link (NewSetupLink),
// which it uses up, with every other link. ErrSetupLinkInvalid if the link is not a live one; ECONFLICT once there is
// an administrator. The form's mistakes leave the link valid for another try.
func (s *Service) CreateFirstAdminByLink(ctx context.Context, token string, nu NewUser) (*User, error) {
	if token == "" {
		return nil, ErrSetupLinkInvalid
	}
	return s.createFirstAdmin(ctx, nu, token)
}

// Who made the first administrator, as the audit log's "By" says it: nobody was signed in, so
// it names the way in, the one-time setup link or the console opened on the data directory.
const (
	AuditActorSetupLink = "setup link"
	AuditActorFirstRun  = "desktop console, first run"
)

// firstAdminActor is the actor recorded for the first administrator's creation (no account:
// its ID is 0).
func firstAdminActor(byLink bool) *User {
	if byLink {
		return &User{Username: AuditActorSetupLink}
	}
	return &User{Username: AuditActorFirstRun}
}

// createFirstAdmin checks that there is no administrator, uses the link (if token is not
// empty) and creates the administrator in one write transaction: the store's writer lock is
// held from the check to the insert, so of two forms, two consoles or two servers on one
// store racing, exactly one makes an administrator. No lock in process memory could do that.
func (s *Service) createFirstAdmin(ctx context.Context, nu NewUser, token string) (*User, error) {
	nu.Role = RoleAdmin
	nu = tidyNewUser(nu)
	if err := checkNewUser(nu); err != nil {
		return nil, err
	}
	if need, err := s.NeedsFirstAdmin(ctx); err != nil {
		return nil, err
	} else if !need {
		return nil, errAdminExists
	}
	u, hash, err := s.newUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		if need, err := s.NeedsFirstAdmin(ctx); err != nil {
			return err
		} else if !need {
			return errAdminExists
		}
		if token != "" {
			if ok, err := s.store.UseSetupLink(ctx, hashToken(token)); err != nil {
				return internal("use setup link", err)
			} else if !ok {
				return ErrSetupLinkInvalid
			}
		}
		// The links the other servers printed die with this one: they were for the
		// administrator who now exists (a link is also refused while one exists; this
		// leaves nothing in the table to find).
		if err := s.store.DeleteSetupLinks(ctx); err != nil {
			return internal("delete setup links", err)
		}
		return s.insertUser(ctx, firstAdminActor(token != ""), u, hash)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

var errAdminExists = Errorf(ECONFLICT, "An administrator already exists. Ask them to create your account.")

// Users returns one page of the user list. Administrators only.
func (s *Service) Users(ctx context.Context, id *Identity, f UserFilter) (*UserPage, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	if f.Status != "" && f.Status != StatusNo && f.Status != StatusPending && f.Status != StatusEnabled {
		return nil, Errorf(EINVALID, "Unknown Two-Factor status %q.", f.Status)
	}
	if f.Role != "" {
		if err := checkRole(f.Role); err != nil {
			return nil, err
		}
	}
	f.Search = strings.TrimSpace(f.Search)
	f.Offset = max(f.Offset, 0)
	f.Limit = pageLimit(f.Limit)
	users, total, err := s.store.FindUsers(ctx, f)
	if err != nil {
		return nil, internal("find users", err)
	}
	return &UserPage{Users: users, Total: total, Offset: f.Offset, Limit: f.Limit}, nil
}

// User returns one user. Administrators only.
func (s *Service) User(ctx context.Context, id *Identity, userID int64) (*User, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	return s.store.FindUserByID(ctx, userID)
}

// UserByUsername returns one user by username (case-insensitive). Administrators only.
func (s *Service) UserByUsername(ctx context.Context, id *Identity, username string) (*User, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	u, err := s.store.FindUserByUsername(ctx, strings.TrimSpace(username))
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "There is no user %q.", username)
	}
	return u, internal("find user", err)
}

// StatusCounts counts users by Two-Factor status, for the overview. Administrators only.
func (s *Service) StatusCounts(ctx context.Context, id *Identity) (StatusCounts, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	c, err := s.store.CountUsersByStatus(ctx)
	return c, internal("count users", err)
}

// UpdateUser applies "Edit this User": the fields of ch that differ from the user as stored,
// and only those are audited. Disabling a user ends their sessions. A form that changes
// nothing writes nothing and records nothing: ECONFLICT (errNothingToChange), so both front
// ends say so rather than "saved". The last enabled administrator can be neither demoted nor
// disabled (ECONFLICT). Administrators only; a new role, or enabling an account, with a
// recently confirmed password.
func (s *Service) UpdateUser(ctx context.Context, id *Identity, userID int64, ch UserChanges) (*User, error) {
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	// The form's own mistakes first, before anything is read or locked.
	ch, err := tidyUserChanges(ch)
	if err != nil {
		return nil, err
	}
	// What changed is decided on the row as locked, and written and audited in the same
	// transaction: the audit names what this update changed, not what the form held.
	var u *User
	err = s.store.Atomically(ctx, func(ctx context.Context) error {
		cur, err := s.store.FindUserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		upd, changed := userUpdate(cur, ch)
		if len(changed) == 0 {
			return errNothingToChange
		}
		// The last administrator's rule before the password: a change that cannot be made
		// is refused before anyone is asked to confirm it (issue 11, web 8).
		if err := s.keepAnAdmin(ctx, cur, upd); err != nil {
			return err
		}
		if UserChangesNeedPassword(cur, ch) {
			if err := s.requireAdminConfirmed(id); err != nil {
				return err
			}
		}
		if u, err = s.store.UpdateUser(ctx, userID, upd); err != nil {
			return internal("update user", err)
		}
		return s.audit(ctx, AuditUserUpdated, id.actor(), u, strings.Join(changed, ", "))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// errNothingToChange answers an "Edit this User" form that is the user as they are.
var errNothingToChange = Errorf(ECONFLICT, "Nothing to change: the user already has these details.")

// CheckUserChanges says whether "Edit this User" with ch on the user would be refused by a rule
// of the accounts, the last enabled administrator staying one (ECONFLICT), or nil. It asks for
// no password: front ends call it before they ask for one, so that a change that cannot be
// made is refused first. UpdateUser decides again, in its transaction. Administrators only.
func (s *Service) CheckUserChanges(ctx context.Context, id *Identity, userID int64, ch UserChanges) error {
	if err := id.requireAdmin(); err != nil {
		return err
	}
	ch, err := tidyUserChanges(ch)
	if err != nil {
		return err
	}
	cur, err := s.store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	upd, _ := userUpdate(cur, ch)
	return s.keepAnAdmin(ctx, cur, upd)
}

// tidyUserChanges trims ch's name and email and checks its fields, each on its own: the form's
// own mistakes (EINVALID).
func tidyUserChanges(ch UserChanges) (UserChanges, error) {
	if ch.DisplayName != nil {
		name := strings.TrimSpace(*ch.DisplayName)
		if err := checkDisplayName(name); err != nil {
			return ch, WithFields(err, FieldName)
		}
		ch.DisplayName = &name
	}
	if ch.Email != nil {
		email := strings.TrimSpace(*ch.Email)
		if err := checkEmail(email); err != nil {
			return ch, WithFields(err, FieldEmail)
		}
		ch.Email = &email
	}
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// userUpdate turns ch, tidied and checked, into the update of cur it makes, and says what it
// changes for the audit log: only the fields whose value differs.
func userUpdate(cur *User, ch UserChanges) (UserUpdate, []string) {
	var upd UserUpdate
	var changed []string
	if ch.DisplayName != nil && *ch.DisplayName != cur.DisplayName {
		upd.DisplayName, changed = ch.DisplayName, append(changed, "name")
	}
	if ch.Email != nil && *ch.Email != cur.Email {
		upd.Email, changed = ch.Email, append(changed, "email")
	}
	if ch.Role != nil && *ch.Role != cur.Role {
		upd.Role, changed = ch.Role, append(changed, "role "+string(*ch.Role))
	}
	if ch.Disabled != nil && *ch.Disabled != cur.Disabled {
		upd.Disabled = ch.Disabled
		upd.EndSessions = *ch.Disabled
		changed = append(changed, map[bool]string{true: "disabled", false: "enabled"}[*ch.Disabled])
	}
	return upd, changed
}

// keepAnAdmin refuses (ECONFLICT) an update that demotes or disables cur, an enabled
// administrator, when cur is the only one. It must run inside the update's transaction: the
// store counts under the write lock, so of two administrators demoting each other at once,
// or two servers on one store, the second sees the first one's change and is refused. A store
// with no enabled administrator (before setup) is not refused anything: the rule keeps the
// last one, it does not demand one. (CheckUserChanges runs it outside a transaction too, for a
// first answer before the password is asked for; only the run inside decides.)
func (s *Service) keepAnAdmin(ctx context.Context, cur *User, upd UserUpdate) error {
	if cur.Role != RoleAdmin || cur.Disabled {
		return nil
	}
	demoted := upd.Role != nil && *upd.Role != RoleAdmin
	disabled := upd.Disabled != nil && *upd.Disabled
	if !demoted && !disabled {
		return nil
	}
	n, err := s.store.CountEnabledAdmins(ctx)
	if err != nil {
		return internal("count administrators", err)
	}
	if n <= 1 {
		return Errorf(ECONFLICT, "This change would leave no enabled administrator.")
	}
	return nil
}

// requireAdminConfirmed lets through an administrator who confirmed their password within
// ReauthWindow (EREAUTH otherwise), or the operator. It guards the changes that would let a
// stolen administrator session take over accounts — its own included: removing a second
// factor, setting a password, changing a role, creating an administrator, enabling an account,
// lifting a lock.
func (s *Service) requireAdminConfirmed(id *Identity) error {
	if err := id.requireAdmin(); err != nil {
		return err
	}
	if id.operator {
		return nil
	}
	return s.requireRecentPassword(id)
}

// SetUserPassword sets a new password for a user who forgot theirs; with mustChange the user
// must choose their own at the next login. The user's sessions end, and so does a lock
// (mayLiftLock: not an administrator's own). Administrators only, with a recently confirmed
// password.
func (s *Service) SetUserPassword(ctx context.Context, id *Identity, userID int64, password string, mustChange bool) error {
	if err := s.requireAdminConfirmed(id); err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if err := CheckNewPassword(password, u.Username); err != nil {
		return err
	}
	hash, err := s.passwords.hash(ctx, password)
	if err != nil {
		return internal("hash password", err)
	}
	return s.store.Atomically(ctx, func(ctx context.Context) error {
		all := ""
		if err := s.store.SetPassword(ctx, userID, hash, mustChange, &all); err != nil {
			return internal("set password", err)
		}
		// A user the administrator just helped should not wait out a lock.
		if s.mayLiftLock(id, userID) {
			if err := s.resetFailures(ctx, userID); err != nil {
				return internal("unlock", err)
			}
		}
		return s.audit(ctx, AuditPasswordSet, id.actor(), u, "must change at next login: "+yesNo(mustChange))
	})
}

// mayLiftLock reports whether id may lift userID's lock, by Unlock or as part of helping them
// back in (Set password, Disable or Reset Two-Factor): anyone's but their own. A stolen
// administrator session could otherwise go on guessing passwords, its own administrator's
// included, past every lock. The operator (the command line, which needs the data directory)
// may: it is the way back in for a locked-out administrator.
func (s *Service) mayLiftLock(id *Identity, userID int64) bool {
	return id.operator || id.User.ID != userID
}

// Locked reports whether u is locked now, after too many failed attempts: until
// u.LockedUntil no login succeeds, not even with the right password.
func (s *Service) Locked(u *User) bool { return s.now().Before(u.LockedUntil) }

// UnlockUser lifts a lock for a user who asks for help (after checking who they are), and
// clears their failure count. ECONFLICT if the user is not locked. Administrators only, with a
// recently confirmed password, and not for their own account (EFORBIDDEN): else a stolen
// session could go on guessing passwords, its own administrator's included, past every lock.
func (s *Service) UnlockUser(ctx context.Context, id *Identity, userID int64) (*User, error) {
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, err
	}
	if !s.mayLiftLock(id, userID) {
		return nil, Errorf(EFORBIDDEN, "You cannot unlock your own account. Ask another administrator, run gatehouse user unlock on the server, or wait until the lock ends.")
	}
	// The check and the unlock are one transaction with the audit event, on the row as locked.
	var u *User
	err := s.store.Atomically(ctx, func(ctx context.Context) (err error) {
		if u, err = s.store.FindUserForUpdate(ctx, userID); err != nil {
			return err
		}
		if !s.Locked(u) {
			return Errorf(ECONFLICT, "%s is not locked.", u.Name())
		}
		if err := s.resetFailures(ctx, userID); err != nil {
			return internal("unlock", err)
		}
		u.LockedUntil = time.Time{}
		return s.audit(ctx, AuditUnlock, id.actor(), u, "")
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// RequireTwoFactor makes the user enroll at their next login, with no way to opt out; their
// status becomes "Pending setup on next login" (or stays "Enabled"). Administrators only.
func (s *Service) RequireTwoFactor(ctx context.Context, id *Identity, userID int64) (*User, error) {
	required := true
	if err := id.requireAdmin(); err != nil {
		return nil, err
	}
	return s.changeTwoFactor(ctx, id, userID, AuditRequireTwoFactor, UserUpdate{TwoFactorRequired: &required}, false, func(u *User) error {
		if !u.CanRequireTwoFactor() {
			return Errorf(ECONFLICT, "Two-Factor Authentication is already required for %s.", u.Name())
		}
		return nil
	})
}

// DisableTwoFactor removes both the requirement and the enrollment: the status becomes "No".
// Administrators only, with a recently confirmed password.
func (s *Service) DisableTwoFactor(ctx context.Context, id *Identity, userID int64) (*User, error) {
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, err
	}
	required := false
	return s.changeTwoFactor(ctx, id, userID, AuditDisableTwoFactor, UserUpdate{TwoFactorRequired: &required, ClearEnrollment: true}, true, func(u *User) error {
		if !u.CanDisableTwoFactor() {
			return Errorf(ECONFLICT, "Two-Factor Authentication is not on for %s: there is nothing to disable.", u.Name())
		}
		return nil
	})
}

// ResetTwoFactor removes the enrollment but keeps the requirement as it is, for a user who lost
// their phone and codes: a required user is "Pending setup on next login" again and enrolls anew
// at the next login; a user who had opted in is back to "No". Administrators only, with a
// recently confirmed password.
func (s *Service) ResetTwoFactor(ctx context.Context, id *Identity, userID int64) (*User, error) {
	if err := s.requireAdminConfirmed(id); err != nil {
		return nil, err
	}
	return s.changeTwoFactor(ctx, id, userID, AuditResetTwoFactor, UserUpdate{ClearEnrollment: true}, true, func(u *User) error {
		if !u.CanResetTwoFactor() {
			return Errorf(ECONFLICT, "%s has not set up Two-Factor Authentication: there is nothing to reset.", u.Name())
		}
		return nil
	})
}

// changeTwoFactor applies an administrator's two-factor change, the caller having checked the
// administrator. applies refuses (ECONFLICT) a change that would change nothing, which is then
// neither made nor audited. Every change ends the user's sessions, so it takes effect at once.
// With unlock, the user's failure counter is reset too: removing a lost factor is how an
// administrator helps a locked-out user back in (mayLiftLock: not their own). The check, the
// change and its audit event are one transaction.
func (s *Service) changeTwoFactor(ctx context.Context, id *Identity, userID int64, action string, upd UserUpdate, unlock bool, applies func(u *User) error) (*User, error) {
	var u *User
	err := s.store.Atomically(ctx, func(ctx context.Context) error {
		cur, err := s.store.FindUserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		if err := applies(cur); err != nil {
			return err
		}
		upd.EndSessions = true
		if u, err = s.store.UpdateUser(ctx, userID, upd); err != nil {
			return internal("change two-factor", err)
		}
		if unlock && s.mayLiftLock(id, userID) {
			if err := s.resetFailures(ctx, userID); err != nil {
				return internal("unlock", err)
			}
		}
		return s.audit(ctx, action, id.actor(), u, "status "+u.TwoFactorStatus().Label())
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
