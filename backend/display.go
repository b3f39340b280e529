package backend

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// What front ends show, decided here once: the web pages, the desktop console and the command
// line render these keys, labels, actions and sentences and decide none of them, so that the
// same user reads the same everywhere (DESIGN.md, "backend also decides what front ends show").

// AccountState is whether an account can log in, as the "Account" column shows it. The value
// is a stable key; Label is what people read.
type AccountState string

// Account states.
const (
	AccountActive   AccountState = "active"
	AccountDisabled AccountState = "disabled" // by an administrator
	AccountLocked   AccountState = "locked"   // after too many failed attempts, for a while
)

// AccountStates lists every account state.
var AccountStates = []AccountState{AccountActive, AccountDisabled, AccountLocked}

// Label is the account state in the words every front end shows.
func (a AccountState) Label() string {
	switch a {
	case AccountDisabled:
		return "Disabled"
	case AccountLocked:
		return "Locked"
	}
	return "Active"
}

// AccountState says whether u can log in now. Disabled beats Locked: a disabled account stays
// shut when its lock ends, so that is the state worth telling, and Unlock would change nothing.
func (s *Service) AccountState(u *User) AccountState {
	switch {
	case u.Disabled:
		return AccountDisabled
	case s.Locked(u):
		return AccountLocked
	}
	return AccountActive
}

// AccountStateLabel is u's account state in the words every front end shows, with a lock's
// end: "Locked until 2026-03-01 10:00:00 UTC". Locks reached by wrong codes grow to a day
// (LockoutPolicy.lockFor), so the administrator is told when this one ends.
func (s *Service) AccountStateLabel(u *User) string {
	st := s.AccountState(u)
	if st == AccountLocked {
		return st.Label() + " until " + FormatTime(u.LockedUntil)
	}
	return st.Label()
}

// ActionKey names an action front ends offer: stable, for URLs (/admin/users/{id}/{key}), the
// desktop's bindings and tests.
type ActionKey string

// An administrator's actions on a user (UserActions).
const (
	ActionUnlock           ActionKey = "unlock"
	ActionRequireTwoFactor ActionKey = "require-two-factor"
	ActionDisableTwoFactor ActionKey = "disable-two-factor"
	ActionResetTwoFactor   ActionKey = "reset-two-factor"
	ActionSetPassword      ActionKey = "set-password"
)

// A user's actions on their own profile (ProfileActions).
const (
	ActionSetupTwoFactor          ActionKey = "setup-two-factor"
	ActionRegenerateRecoveryCodes ActionKey = "regenerate-recovery-codes"
	ActionDisableOwnTwoFactor     ActionKey = "disable-own-two-factor"
	ActionChangePassword          ActionKey = "change-password"
)

// ActionKeys lists every action, for front ends that bind the keys (Wails EnumBind).
var ActionKeys = []ActionKey{
	ActionUnlock, ActionRequireTwoFactor, ActionDisableTwoFactor, ActionResetTwoFactor, ActionSetPassword,
	ActionSetupTwoFactor, ActionRegenerateRecoveryCodes, ActionDisableOwnTwoFactor, ActionChangePassword,
}

// Action is one thing a front end offers on a user or a profile, worded for that user.
type Action struct {
	Key   ActionKey
	Label string // the button, the link and the title of its confirmation
	// Confirm is the sentence of its confirmation pop-up or page ("" when it runs on a click or
	// opens a form of its own).
	Confirm string
	// Help is a line said next to the button ("" for none).
	Help string
	// Done is the status-bar sentence once it succeeded.
	Done string
	// NeedsPassword reports that the Service runs it only after a recently confirmed password
	// (EREAUTH otherwise): front ends ask for the password with it when
	// NeedsPasswordConfirmation says one is due.
	NeedsPassword bool
	// Danger marks an action that removes something (a factor, the codes): shown as such.
	Danger bool
}

// UserActions are the actions an administrator id is offered on u's page, in display order:
// only those that would change something (the Service refuses the others). Set password is
// always there; the Edit form is not an action.
func (s *Service) UserActions(id *Identity, u *User) []Action {
	var out []Action
	for _, k := range []ActionKey{ActionUnlock, ActionRequireTwoFactor, ActionDisableTwoFactor, ActionResetTwoFactor, ActionSetPassword} {
		if a, ok := s.UserAction(id, u, k); ok {
			out = append(out, a)
		}
	}
	return out
}

// UserAction is the administrator id's action key on u, worded for u (DescribeUserAction), and
// whether it is offered now: only when it would change something (the Service refuses the
// others). offered is false for a key that is not an administrator's action.
func (s *Service) UserAction(id *Identity, u *User, key ActionKey) (a Action, offered bool) {
	a = DescribeUserAction(key, u)
	switch key {
	case ActionUnlock:
		// Not a disabled account's (its state reads Disabled, and it stays shut), and not
		// one's own (UnlockUser refuses: mayLiftLock).
		return a, s.AccountState(u) == AccountLocked && s.mayLiftLock(id, u.ID)
	case ActionRequireTwoFactor:
		return a, u.CanRequireTwoFactor()
	case ActionDisableTwoFactor:
		return a, u.CanDisableTwoFactor()
	case ActionResetTwoFactor:
		return a, u.CanResetTwoFactor()
	case ActionSetPassword:
		return a, true
	}
	return a, false
}

// DescribeUserAction is an administrator's action key on u as front ends word it, whether or
// not it is offered (see UserAction): a zero Action for a key that is not an administrator's.
func DescribeUserAction(key ActionKey, u *User) Action {
	name := u.Name()
	switch key {
	case ActionUnlock:
		return Action{
			Key: key, Label: "Unlock", NeedsPassword: true,
			Done: fmt.Sprintf("%s is unlocked and can log in again.", name),
		}
	case ActionRequireTwoFactor:
		return Action{
			Key: key, Label: "Require Two-Factor",
			// The help article's sentence.
			Confirm: fmt.Sprintf("%s will now be required to enroll in Two-Factor Authentication upon log in.", name),
			Done:    fmt.Sprintf("Two-Factor Authentication is now required: %s will be asked to enroll upon log in.", name),
		}
	case ActionDisableTwoFactor:
		confirm := fmt.Sprintf("%s will no longer be required to use Two-Factor Authentication, and their current setup and recovery codes will be removed. Their sessions end now.", name)
		switch {
		case u.TwoFactorRequired && !u.Enrolled():
			// Pending setup on next login: there is no setup to remove, and saying so
			// would send the administrator looking for one.
			confirm = fmt.Sprintf("%s will no longer be required to use Two-Factor Authentication. They have not set it up yet, so nothing else changes. Their sessions end now.", name)
		case !u.TwoFactorRequired:
			confirm = fmt.Sprintf("Two-Factor Authentication will be turned off for %s. %s will be removed. Their sessions end now.", name, setupText(u.Method))
		}
		return Action{
			Key: key, Label: "Disable Two-Factor", Confirm: confirm, NeedsPassword: true, Danger: true,
			Done: fmt.Sprintf("Two-Factor Authentication is disabled for %s.", name),
		}
	case ActionResetTwoFactor:
		confirm := fmt.Sprintf("%s of %s will be removed, and Two-Factor Authentication will be off. Their sessions end now.", setupText(u.Method), name)
		if u.TwoFactorRequired {
			confirm = fmt.Sprintf("%s of %s will be removed. Two-Factor Authentication stays required: they will enroll again upon log in. Their sessions end now.", setupText(u.Method), name)
		}
		return Action{
			Key: key, Label: "Reset Two-Factor", Confirm: confirm, NeedsPassword: true, Danger: true,
			Done: fmt.Sprintf("Two-Factor Authentication has been reset for %s.", name),
		}
	case ActionSetPassword:
		return Action{
			Key: key, Label: "Set password", NeedsPassword: true,
			Confirm: fmt.Sprintf("Set a new password for %s, who forgot theirs. Their sessions end.", name),
			Done:    fmt.Sprintf("The password of %s has been set. Their sessions have ended.", name),
		}
	}
	return Action{}
}

// setupText names what a user's Two-Factor setup consists of, by method, for the sentences that
// say it will be removed. Disable and Reset remove security keys too, which a person enrolled
// with the app or SMS may also have: the sentence says so rather than let them go unmentioned.
func setupText(m Method) string {
	switch m {
	case MethodSMS:
		return "The phone number, any security keys or passkeys and the recovery codes"
	case MethodApp:
		return "The authenticator app, any security keys or passkeys and the recovery codes"
	case MethodWebAuthn:
		return "The security keys or passkeys and the recovery codes"
	}
	return "The Two-Factor setup and recovery codes"
}

// ProfileActions are the actions the signed-in id is offered on their own profile, in display
// order.
func (s *Service) ProfileActions(id *Identity) []Action {
	var out []Action
	for _, k := range []ActionKey{ActionSetupTwoFactor, ActionRegenerateRecoveryCodes, ActionDisableOwnTwoFactor, ActionChangePassword} {
		if a, ok := ProfileAction(id.User, k); ok {
			out = append(out, a)
		}
	}
	return out
}

// ProfileAction is u's own action key, worded for u, and whether it is offered now.
func ProfileAction(u *User, key ActionKey) (a Action, offered bool) {
	switch key {
	case ActionSetupTwoFactor:
		// Offered once enrolled too: setting it up again is how to move to a new phone or
		// switch methods (the current setup holds until the new one is confirmed).
		a := Action{Key: key, Label: "Setup Two-Factor", NeedsPassword: true}
		if u.Enrolled() {
			a.Help = setupAgainHelp(u.Method)
		}
		return a, true
	case ActionRegenerateRecoveryCodes:
		return Action{
			Key: key, Label: "Regenerate recovery codes", NeedsPassword: true,
			Confirm: fmt.Sprintf("You will get %d new recovery codes. Your current codes, used or not, will stop working at once.", RecoveryCodeCount),
			Done:    "New recovery codes generated. The old codes no longer work.",
		}, u.Enrolled()
	case ActionDisableOwnTwoFactor:
		return Action{
			Key: key, Label: "Disable Two-Factor", NeedsPassword: true, Danger: true,
			Confirm: "Your account will be protected by your password only. " + ownSetupText(u.Method) + " and your recovery codes will stop working.",
			Done:    "Two-Factor Authentication is turned off for your account. Your other sessions have ended.",
		}, u.CanDisableOwnTwoFactor()
	case ActionChangePassword:
		// Its form asks for the current password itself.
		return Action{
			Key: key, Label: "Change password",
			Done: "Your password has been changed. Your other sessions have ended.",
		}, true
	}
	return Action{}, false
}

// The status bar's sentences after the changes that are not actions (whose sentence is
// Action.Done) and after the console or browser signs out: both front ends show these.

// UserCreatedNotice is the status bar after an administrator created u.
func UserCreatedNotice(u *User) string {
	if u.TwoFactorRequired {
		return fmt.Sprintf("%s has been created and will be required to enroll in Two-Factor Authentication upon log in.", u.Name())
	}
	return fmt.Sprintf("%s has been created.", u.Name())
}

// UserUpdatedNotice is the status bar after "Edit this User" saved u.
func UserUpdatedNotice(u *User) string {
	return fmt.Sprintf("The changes to %s have been saved.", u.Name())
}

// FirstAdminCreatedNotice is the login screen's status bar once the first administrator, u,
// exists.
func FirstAdminCreatedNotice(u *User) string {
	return fmt.Sprintf("The administrator account %s is ready. Log in with it.", u.Username)
}

const (
	// LoggedOutNotice is the login screen's status bar after "Log out".
	LoggedOutNotice = "You have logged out."
	// SessionEndedNotice is the login screen's status bar when the session ended under the
	// person (idle or absolute timeout, an administrator's change, disabled): the message of
	// every refusal of an ended session too.
	SessionEndedNotice = "Your session has ended. Log in again."
	// TwoFactorEnabledNotice is the Profile's status bar once Two-Factor Authentication set up
	// from the Profile is on and its recovery codes are saved.
	TwoFactorEnabledNotice = "Two-Factor Authentication is enabled."
)

// ownSetupText names what the user's own Two-Factor setup consists of, by method.
func ownSetupText(m Method) string {
	switch m {
	case MethodSMS:
		return "Your phone number for login codes"
	case MethodApp:
		return "Your authenticator app setup"
	}
	return "Your Two-Factor setup"
}

// NewUserNeedsPassword reports whether creating nu needs the administrator's recently confirmed
// password: creating an administrator does (CreateUser refuses with EREAUTH otherwise).
func NewUserNeedsPassword(nu NewUser) bool { return nu.Role == RoleAdmin }

// UserChangesNeedPassword reports whether "Edit this User" with ch on cur needs the
// administrator's recently confirmed password (UpdateUser refuses with EREAUTH otherwise): a
// new role, or an account enabled again, whose password the session's holder may know.
func UserChangesNeedPassword(cur *User, ch UserChanges) bool {
	return (ch.Role != nil && *ch.Role != cur.Role) || (ch.Disabled != nil && !*ch.Disabled && cur.Disabled)
}

// The password rules as forms state them (CheckNewPassword enforces them).
var (
	// PasswordRule is the rule itself.
	PasswordRule = fmt.Sprintf("At least %d characters.", MinPasswordLength)
	// PasswordHintOwn is under the field where people choose their own password.
	PasswordHintOwn = PasswordRule + " A few unrelated words make a strong, memorable password."
	// PasswordHintForUser is under the field where an administrator sets someone's password.
	PasswordHintForUser = PasswordRule + " Give it to the user in person or by phone."
)

// NewUserDefaults is the "New User" form before anything is typed: role User, Two-Factor
// Authentication No (the help article's default), and no forced password change. That last
// one is the web's default, kept over the console's: the article's form asks only about
// Two-Factor, a forced change at the first login puts a step before the enrollment the
// administrator may have required, and an administrator handing over a temporary password
// ticks it knowingly (Set password, for a forgotten one, does tick it: SetPasswordMustChange).
func NewUserDefaults() NewUser {
	return NewUser{Role: RoleUser, RequireTwoFactor: false, MustChangePassword: false}
}

// SetPasswordMustChange is "Set password"'s checkbox before it is touched: a password set by
// an administrator for someone who forgot theirs is known to two people, so by default the
// user replaces it at the next login.
const SetPasswordMustChange = true

// RecoveryCodeSheetFilename is the name a saved or downloaded sheet is offered under.
func RecoveryCodeSheetFilename(account string) string {
	return "gatehouse-recovery-codes-" + account + ".txt"
}

// RecoveryCodeSheetText is the recovery-code sheet as text, the same for the web's download and
// the console's Save and Print: whose codes, which Gatehouse (the name authenticator apps list
// the account under, Config.Issuer, and where people log in, Config.PublicURL, if set), when
// they were made, the codes, and how to use them. Lines end in "\n" and are at most
// SheetWidth columns, words kept whole (a single word longer than that, such as a long
// address, stays on a line of its own): a text editor shows them unwrapped, and the printed
// sheet fits them across A4 with 20 mm margins, so no sentence breaks where the text does not.
func (s *Service) RecoveryCodeSheetText(sh *RecoveryCodeSheet) string {
	system := s.issuer
	if s.public != "" {
		system += " (" + s.public + ")"
	}
	var b strings.Builder
	b.WriteString("Gatehouse recovery codes\n\n")
	// The labels' values line up, and so do their continuation lines.
	b.WriteString(wrapWords("System:  ", system))
	b.WriteString(wrapWords("Account: ", sh.Username))
	b.WriteString(wrapWords("Created: ", sh.Issued.Format(SheetDateLayout)))
	b.WriteString("\n")
	for _, c := range sh.Codes {
		fmt.Fprintf(&b, "    %s\n", c)
	}
	b.WriteString("\n")
	b.WriteString(wrapWords("", fmt.Sprintf("Each code can be used once, in place of a code from your authenticator app or text message, "+
		"when you log in to %s. Keep them in a secure place: they are as good as your phone. "+
		"Generating new codes voids these.", system)))
	return b.String()
}

// SheetWidth is the longest line of the recovery-code sheet, in columns: 64 columns of an
// 11 pt monospace font (the console prints this text) take 150 mm, inside A4's 170 mm between
// 20 mm margins, and fit a text editor's window unwrapped.
const SheetWidth = 64

// wrapWords writes label and then the paragraph p in lines of at most SheetWidth columns,
// broken between words, each ending in "\n"; the lines after the first are indented as far as
// label is long. A word longer than a line gets one of its own.
func wrapWords(label, p string) string {
	var b strings.Builder
	b.WriteString(label)
	indent := utf8.RuneCountInString(label)
	line := indent // columns on the current line
	for i, w := range strings.Fields(p) {
		n := utf8.RuneCountInString(w)
		switch {
		case i == 0:
		case line+1+n <= SheetWidth:
			b.WriteByte(' ')
			line++
		default:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			line = indent
		}
		b.WriteString(w)
		line += n
	}
	b.WriteByte('\n')
	return b.String()
}

// SheetDateLayout is how the recovery-code sheet writes its date.
const SheetDateLayout = TimeLayout

// The sentences of Administration → Applications that the web pages and the desktop console
// both show (the rest are in application.go, beside the rules they state).
const (
	AppsLead            = "The company's applications that people sign in to with their Gatehouse login."
	NoAppsText          = "No applications yet."
	AppRequireTwoFactor = "No one signs in to this application without a second factor; people who have not set one up must do so first."
	AppBackchannelHelp  = "Where Gatehouse tells the application that a person's session has ended."
)

// AppRedirectURIsHelp is the help under the redirect URIs field: CheckRedirectURI's rule.
var AppRedirectURIsHelp = fmt.Sprintf("One per line, at most %d, each matched exactly: https://…, or http:// only on localhost. No wildcards (*) and no fragments (#).", MaxRedirectURIs)

// AppDomainsHelp is the help under the protected domains field: CheckDomain's rule.
var AppDomainsHelp = fmt.Sprintf("For forward-auth (nginx, Caddy, Traefik in front of an application without OpenID Connect): the host names it serves, one per line, at most %d, such as app.example.com, or *.tools.example.com for every name one level below. No scheme, port or path. A domain belongs to one application.", MaxAppDomains)

// AppTypeFixedText is what "Edit this Application" says of the type, which cannot change.
func AppTypeFixedText(a *App) string { return "Type: " + a.TypeLabel() + ". It cannot be changed." }

// AppType is one choice of the New Application form's Type.
type AppType struct {
	Public bool
	Value  string // the form's value
	Help   string // the choice as people read it
}

// AppTypes are the choices of Type, in the order front ends offer them.
var AppTypes = []AppType{
	{false, "confidential", "Confidential: a server-side application that keeps a client secret."},
	{true, "public", "Public: a single-page or native application that cannot keep a secret (no secret; PKCE)."},
}
