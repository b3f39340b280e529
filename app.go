package main

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"gatehouse/backend"
)

// assets is the built desktop front end. frontend/dist holds a tracked placeholder so that a
// fresh checkout compiles before the front end is built; `go tool wails build` builds it first.
//
//go:embed all:frontend/dist
var assets embed.FS

// appIcon is the window icon (also build/appicon.png for packaging).
//
//go:embed build/appicon.png
var appIcon []byte

// runDesktop opens the desktop console on svc and returns when its window closes. A binary built
// without the Wails build tags cannot open a window: wails.Run then returns an error.
//
// SIGTERM and SIGINT close the window as the user would, so the session is logged out and
// runDesktop returns nil: Wails installs no handler of its own, and without one the process
// would die mid-write.
func runDesktop(svc *backend.Service, logger *slog.Logger) error {
	app := NewApp(svc, logger)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(stop)
	err := wails.Run(&options.App{
		Title:     "Gatehouse",
		Width:     1100,
		Height:    760,
		MinWidth:  820,
		MinHeight: 560,
		AssetServer: &assetserver.Options{
			Assets: assets,
		},
		BackgroundColour: &options.RGBA{R: 243, G: 245, B: 248, A: 255},
		OnStartup: func(ctx context.Context) {
			app.startup(ctx)
			go func() {
				sig := <-stop
				app.log.Info("closing the desktop console", "signal", sig.String())
				runtime.Quit(ctx)
			}()
		},
		OnShutdown:     app.shutdown,
		Bind:           []any{app},
		EnumBind:       enumBindings,
		ErrorFormatter: app.formatError,
		// Setting any Linux option switches the GPU policy to Always unless it is set
		// explicitly; Never is what works everywhere, including under Xvfb.
		Linux: &linux.Options{
			ProgramName:      "gatehouse",
			Icon:             appIcon,
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
	if err == nil && afterBindings != nil {
		err = afterBindings()
	}
	return err
}

// afterBindings, set in the binary that generates the front end's bindings (bindings.go), puts
// the generated files in a stable order.
var afterBindings func() error

// App is what the desktop front end calls: one exported method per user action, each a
// translation to one backend call. It holds the console's login — the attempt token between
// the password and the second factor, then the session token — because inside the Wails
// window there are no cookies. No rule of the product is decided here.
type App struct {
	svc *backend.Service
	log *slog.Logger

	// ctx is the Wails context from OnStartup. Wails calls bound methods without a context,
	// and its runtime (dialogs) needs this one, so it is the exception to "never store a ctx".
	ctx context.Context

	// saveDialog asks where to save a file; runtime.SaveFileDialog unless a test replaces it.
	saveDialog func(ctx context.Context, opts runtime.SaveDialogOptions) (string, error)

	// client is who the audit log says a change came from: the console, on this machine.
	client backend.Client

	// The console's own tokens are all it holds: the recovery codes on screen, the setups in
	// progress and the codes sent are backend's, in the store, bound to these tokens.
	mu      sync.Mutex
	attempt string // login attempt token, between the password step and signing in
	session string // session token, once signed in
}

// NewApp returns an App over svc with nobody signed in.
func NewApp(svc *backend.Service, logger *slog.Logger) *App {
	if logger == nil {
		logger = slog.Default()
	}
	return &App{svc: svc, log: logger, ctx: context.Background(), saveDialog: runtime.SaveFileDialog, client: desktopClient()}
}

// desktopClient is the console as the audit log's "From" names it: "desktop on HOSTNAME", so
// that an administrator can tell which machine a change was made on (the web's entries carry
// the browser's address).
func desktopClient() backend.Client {
	from := "desktop"
	if host, err := os.Hostname(); err == nil && host != "" {
		from += " on " + host
	}
	return backend.Client{IP: from, UserAgent: "Gatehouse desktop console"}
}

// startup is Wails' OnStartup: it keeps the context the runtime needs.
func (a *App) startup(ctx context.Context) {
	a.ctx = ctx
	// A dev build driven by the desktop tests saves recovery codes to a directory instead of
	// opening the native dialog, which a test cannot click. Production builds ignore this.
	if dir := os.Getenv("GATEHOUSE_TEST_SAVE_DIR"); dir != "" && runtime.Environment(ctx).BuildType == "dev" {
		a.saveDialog = func(_ context.Context, o runtime.SaveDialogOptions) (string, error) {
			return filepath.Join(dir, o.DefaultFilename), nil
		}
	}
}

// shutdown is Wails' OnShutdown: closing the window logs out, so no session outlives it.
func (a *App) shutdown(ctx context.Context) {
	if err := a.Logout(); err != nil {
		a.log.Warn("logout at shutdown", "err", err)
	}
}

// call returns the context for one backend call: the Wails context, marked as coming from the
// desktop console for the audit log.
func (a *App) call() context.Context {
	return backend.WithClient(a.ctx, a.client)
}

// ErrorView is what a failed call rejects its promise with in the front end (see formatError).
type ErrorView struct {
	Code    string `json:"code"`    // a backend error code, e.g. "reauth"
	Message string `json:"message"` // safe to show as is
	// SignedOut reports that the console holds no login any more (the session or the login
	// attempt ended): the front end goes back to the login screen and shows Message there.
	SignedOut bool `json:"signedOut"`
	// Refused reports that the action was refused because of how things stand now (conflict,
	// forbidden, not found), which may not be what the screen shows: the front end shows the
	// fresh state with Message over it.
	Refused bool `json:"refused"`
	// Fields are the form fields the message is about (backend.ErrorFields: backend.FieldName,
	// backend.FieldRedirectURIs, …), for the screen to mark; empty if none.
	Fields []string `json:"fields"`
}

// formatError is the Wails ErrorFormatter: it turns every error of a bound method into an
// ErrorView. This is the desktop layer's one code-to-message table: backend messages are
// written for people already; anything unrecognised is logged and shown as a generic sentence.
func (a *App) formatError(err error) any {
	code := backend.ErrorCode(err)
	if code == backend.EINTERNAL {
		a.log.Error("desktop call failed", "err", err)
	}
	var ended *loginEnded
	refused := code == backend.ECONFLICT || code == backend.EFORBIDDEN || code == backend.ENOTFOUND
	fields := backend.ErrorFields(err)
	if fields == nil {
		fields = []string{}
	}
	return ErrorView{Code: code, Message: backend.ErrorMessage(err), SignedOut: errors.As(err, &ended), Refused: refused, Fields: fields}
}

// loginEnded marks the error of a call that needed the console's login (session or login
// attempt) and found it over or absent. Only such errors send the front end to the login
// screen: a refused first-administrator form or a wrong password on Log in, made while nobody
// is signed in, stay on their form.
type loginEnded struct{ err error }

func (e *loginEnded) Error() string { return e.err.Error() }
func (e *loginEnded) Unwrap() error { return e.err }

// ---- Views: what the front end receives. Times are RFC 3339 strings. ----

// UserView is a user as the front end shows it.
type UserView struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Name        string `json:"name"` // display name, or username when there is none
	Email       string `json:"email"`
	// Keys (bound as TypeScript enums: compare these) and their labels (show these).
	Role                 backend.Role            `json:"role"`
	RoleLabel            string                  `json:"roleLabel"`
	Method               backend.Method          `json:"method"`
	MethodLabel          string                  `json:"methodLabel"`
	TwoFactorStatus      backend.TwoFactorStatus `json:"twoFactorStatus"`
	TwoFactorStatusLabel string                  `json:"twoFactorStatusLabel"`
	Disabled             bool                    `json:"disabled"`
	TwoFactorRequired    bool                    `json:"twoFactorRequired"`
	SMSPhone             string                  `json:"smsPhone"`        // E.164; "" during a login (see loginUserView)
	SMSPhoneDisplay      string                  `json:"smsPhoneDisplay"` // the same, for reading: "+1 650-253-0000"
	SMSPhoneMasked       string                  `json:"smsPhoneMasked"`  // "+1 ••• ••• ••67"
	MustChangePassword   bool                    `json:"mustChangePassword"`
	// Administration only: whether the account can log in, the end of a lock after too many
	// failed attempts (RFC 3339, else ""), and the actions offered on the user's page.
	Account      backend.AccountState `json:"account"`
	AccountLabel string               `json:"accountLabel"`
	LockedUntil  string               `json:"lockedUntil"`
	Actions      []ActionView         `json:"actions"`
	CreatedAt    string               `json:"createdAt"`
	UpdatedAt    string               `json:"updatedAt"`
	// Notice is the status bar's sentence after the call that returned the user (CreateUser,
	// UpdateUser, CreateFirstAdmin), backend's, as the web shows it; "" from any other.
	Notice string `json:"notice"`
}

// ActionView is an action offered on a user or a profile, as backend words it (backend.Action).
type ActionView struct {
	Key           backend.ActionKey `json:"key"`
	Label         string            `json:"label"`
	Confirm       string            `json:"confirm"` // the pop-up's sentence; "" for none
	Help          string            `json:"help"`
	Done          string            `json:"done"` // the status bar afterwards
	NeedsPassword bool              `json:"needsPassword"`
	Danger        bool              `json:"danger"`
}

func actionViews(actions []backend.Action) []ActionView {
	out := []ActionView{}
	for _, x := range actions {
		out = append(out, ActionView{Key: x.Key, Label: x.Label, Confirm: x.Confirm, Help: x.Help, Done: x.Done, NeedsPassword: x.NeedsPassword, Danger: x.Danger})
	}
	return out
}

// enumBindings are the keys the front end compares, bound as TypeScript enums
// (frontend/wailsjs/go/models.ts, namespace backend).
var enumBindings = []any{
	enumOf(backend.Statuses), enumOf(backend.Roles), enumOf(backend.Methods),
	enumOf(backend.AccountStates), enumOf(backend.ActionKeys),
}

// enumOf is the form Wails' EnumBind takes: each key with its TypeScript name, the key in
// CamelCase ("require-two-factor" is RequireTwoFactor).
func enumOf[T ~string](keys []T) []struct {
	Value  T
	TSName string
} {
	out := make([]struct {
		Value  T
		TSName string
	}, len(keys))
	for i, k := range keys {
		name := ""
		for _, w := range strings.Split(string(k), "-") {
			name += strings.ToUpper(w[:1]) + w[1:]
		}
		out[i].Value, out[i].TSName = k, name
	}
	return out
}

func userView(u *backend.User) *UserView {
	if u == nil {
		return nil
	}
	v := &UserView{
		ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Name: u.Name(), Email: u.Email,
		Role: u.Role, RoleLabel: u.Role.Label(), Method: u.Method, MethodLabel: u.Method.Label(),
		TwoFactorStatus: u.TwoFactorStatus(), TwoFactorStatusLabel: u.TwoFactorStatus().Label(),
		Disabled: u.Disabled, TwoFactorRequired: u.TwoFactorRequired, MustChangePassword: u.MustChangePassword,
		Actions: []ActionView{}, CreatedAt: timeString(u.CreatedAt), UpdatedAt: timeString(u.UpdatedAt),
	}
	if u.SMSPhone != "" {
		v.SMSPhone, v.SMSPhoneDisplay, v.SMSPhoneMasked = u.SMSPhone, backend.FormatPhone(u.SMSPhone), backend.MaskPhone(u.SMSPhone)
	}
	return v
}

// adminUserView is userView for administrator id's screens: with the account state, the lock
// if there is one, and the actions offered.
func (a *App) adminUserView(id *backend.Identity, u *backend.User) *UserView {
	v := userView(u)
	if v == nil {
		return nil
	}
	v.Account = a.svc.AccountState(u)
	v.AccountLabel = v.Account.Label()
	if a.svc.Locked(u) {
		v.LockedUntil = timeString(u.LockedUntil)
	}
	v.Actions = actionViews(a.svc.UserActions(id, u))
	return v
}

// loginUserView is the user of a login that has not passed its second factor: the SMS phone
// only masked, since whoever is at the screen has so far shown the password alone.
func loginUserView(u *backend.User) *UserView {
	v := userView(u)
	if v != nil {
		v.SMSPhone, v.SMSPhoneDisplay = "", ""
	}
	return v
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// LoginView is where a login stands. Step is "verify" (second factor), "enroll" (required
// enrollment), "change_password" (temporary password) or "done" (signed in).
type LoginView struct {
	Step   string    `json:"step"`
	User   *UserView `json:"user"`
	Notice string    `json:"notice"` // to show on the Profile once signed in, e.g. after a recovery code
}

// login keeps the token of a login step and describes the step. A finished login replaces the
// attempt with the session.
func (a *App) login(st *backend.LoginState, err error) (*LoginView, error) {
	if err != nil {
		// A wrong code is "unauthorized" too, and leaves the attempt alive: ask the backend
		// whether it still stands rather than guess from the code.
		if attempt := a.token(&a.attempt); attempt != "" && backend.ErrorCode(err) == backend.EUNAUTHORIZED {
			if _, rerr := a.svc.ResumeLogin(a.call(), attempt); backend.ErrorCode(rerr) == backend.EUNAUTHORIZED {
				a.dropIfEnded(rerr, &a.attempt)
				return nil, &loginEnded{err}
			}
		}
		return nil, err
	}
	a.mu.Lock()
	user := userView(st.User)
	if st.Step == backend.StepDone {
		a.attempt, a.session = "", st.SessionToken
	} else {
		a.attempt, a.session = st.AttemptToken, ""
		user = loginUserView(st.User)
	}
	a.mu.Unlock()
	return &LoginView{Step: string(st.Step), User: user}, nil
}

// dropIfEnded forgets the token *tok when err says the login or session it stands for has ended,
// so that formatError reports the console as signed out.
func (a *App) dropIfEnded(err error, tok *string) error {
	if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
		a.mu.Lock()
		*tok = ""
		a.mu.Unlock()
		return &loginEnded{err}
	}
	return err
}

// ---- Login ----

// NeedsFirstAdmin reports whether no administrator exists yet, so the login screen offers to
// create the first one.
func (a *App) NeedsFirstAdmin() (bool, error) {
	return a.svc.NeedsFirstAdmin(a.call())
}

// CreateFirstAdmin creates the first administrator; refused once there is one.
func (a *App) CreateFirstAdmin(f NewUserForm) (*UserView, error) {
	u, err := a.svc.CreateFirstAdmin(a.call(), f.newUser())
	if err != nil {
		return nil, err
	}
	v := userView(u)
	v.Notice = backend.FirstAdminCreatedNotice(u)
	return v, nil
}

// Login is the password step. It ends any earlier login of this console first.
func (a *App) Login(username, password string) (*LoginView, error) {
	if err := a.Logout(); err != nil {
		return nil, err
	}
	return a.login(a.svc.Login(a.call(), username, password))
}

// VerifyTOTP is the second step with the 6-digit code of the authenticator app.
func (a *App) VerifyTOTP(code string) (*LoginView, error) {
	return a.login(a.svc.VerifyTOTP(a.call(), a.token(&a.attempt), code))
}

// VerifyRecoveryCode is the second step with a recovery code.
func (a *App) VerifyRecoveryCode(code string) (*LoginView, error) {
	v, err := a.login(a.svc.VerifyRecoveryCode(a.call(), a.token(&a.attempt), code))
	if err != nil || v.Step != string(backend.StepDone) {
		return v, err
	}
	// Signed in with a recovery code: say how many are left.
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	left, err := a.svc.RecoveryCodesLeft(a.call(), id)
	if err != nil {
		return nil, err
	}
	v.Notice = backend.RecoveryCodeUsedNotice(left, id.User.Method)
	return v, nil
}

// SMSCodeSentView says where a login code went and when "Send again" works.
type SMSCodeSentView struct {
	MaskedPhone string `json:"maskedPhone"` // "+1 ••• ••• ••67"
	ExpiresAt   string `json:"expiresAt"`   // the code is refused after this
	ResendAt    string `json:"resendAt"`    // "Send again" works from this time on
}

// SendSMSCode is "Send code" / "Send again" on the verify screen of a user enrolled with SMS: it
// texts a login code to the user's SMS phone.
func (a *App) SendSMSCode() (*SMSCodeSentView, error) {
	sent, err := a.svc.SendSMSCode(a.call(), a.token(&a.attempt))
	if err != nil {
		return nil, a.dropIfEnded(err, &a.attempt)
	}
	return &SMSCodeSentView{MaskedPhone: sent.MaskedPhone, ExpiresAt: timeString(sent.ExpiresAt), ResendAt: timeString(sent.ResendAt)}, nil
}

// VerifySMSCode is the second step with a code received by text message.
func (a *App) VerifySMSCode(code string) (*LoginView, error) {
	return a.login(a.svc.VerifySMSCode(a.call(), a.token(&a.attempt), code))
}

// ChangeExpiredPassword is the login step after an administrator set a temporary password.
func (a *App) ChangeExpiredPassword(newPassword string) (*LoginView, error) {
	return a.login(a.svc.ChangeExpiredPassword(a.call(), a.token(&a.attempt), newPassword))
}

// Logout ends the session, or the login in progress ("Log out" on the enroll and verify
// screens), and with it any recovery codes on screen (backend deletes their sheet).
func (a *App) Logout() error {
	a.mu.Lock()
	attempt, session := a.attempt, a.session
	a.attempt, a.session = "", ""
	a.mu.Unlock()
	if attempt != "" {
		if err := a.svc.CancelLogin(a.call(), attempt); err != nil {
			return err
		}
	}
	if session == "" {
		return nil
	}
	id, err := a.svc.Authenticate(a.call(), session)
	if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
		return nil // already over
	} else if err != nil {
		return err
	}
	return a.svc.Logout(a.call(), id)
}

func (a *App) token(tok *string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return *tok
}

// signedIn returns the identity of the signed-in user.
func (a *App) signedIn() (*backend.Identity, error) {
	id, err := a.svc.Authenticate(a.call(), a.token(&a.session))
	return id, a.dropIfEnded(err, &a.session)
}

// enroller returns the identity that enrolls: the login at its enroll step, or else the
// signed-in user (Profile, "Setup Two-Factor").
func (a *App) enroller() (*backend.Identity, error) {
	if attempt := a.token(&a.attempt); attempt != "" {
		id, err := a.svc.EnrollmentIdentity(a.call(), attempt)
		return id, a.dropIfEnded(err, &a.attempt)
	}
	return a.signedIn()
}

// Session returns the signed-in user. It fails with "unauthorized" (signedOut) when the session
// has ended, for example after the idle timeout.
func (a *App) Session() (*UserView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	return userView(id.User), nil
}

// ---- Profile and enrollment ----

// ProfileView is the signed-in user's profile page.
type ProfileView struct {
	User              UserView `json:"user"`
	RecoveryCodesLeft int      `json:"recoveryCodesLeft"`
	SMSConfigured     bool     `json:"smsConfigured"`  // "Use SMS" works on this System
	SMSUnavailable    string   `json:"smsUnavailable"` // why not, when it does not
	// Actions are the profile's buttons: Setup Two-Factor, Regenerate recovery codes, …
	Actions []ActionView `json:"actions"`
	// Keys are the user's security keys and passkeys; KeysNote says they are added and used in
	// a browser (this window has no WebAuthn), at KeysURL ("" when the public URL is not set).
	Keys     []KeyView `json:"keys"`
	KeysNote string    `json:"keysNote"`
	KeysURL  string    `json:"keysUrl"`
}

// KeyView is a security key or passkey as the console lists it.
type KeyView struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Added     string `json:"added"`
	LastUsed  string `json:"lastUsed"`
	Warning   string `json:"warning"`   // the administrator's warning of a key that may be copied
	Confirm   string `json:"confirm"`   // the sentence of its removal, or why it cannot be removed
	Removable bool   `json:"removable"` // false: Remove is not offered (Confirm says why)
}

// keyViews are u's keys as the console lists them, for u themselves (own) or an administrator.
func keyViews(u *backend.User, own bool, keys []backend.SecurityKey, err error) ([]KeyView, error) {
	out := []KeyView{}
	for _, k := range keys {
		rm := backend.DescribeKeyRemoval(u, k, own)
		out = append(out, KeyView{ID: k.ID, Name: k.Name, Added: k.AddedText(), LastUsed: k.LastUsedText(), Warning: k.Warning(),
			Confirm: rm.Confirm, Removable: rm.Allowed})
	}
	return out, err
}

// RemoveOwnKey removes one of the signed-in user's security keys (its errors have code
// "reauth" when the password is due). It returns the notice to show.
func (a *App) RemoveOwnKey(keyID int64) (string, error) {
	id, err := a.signedIn()
	if err != nil {
		return "", err
	}
	if err := a.svc.RemoveOwnKey(a.call(), id, keyID); err != nil {
		return "", err
	}
	if !id.User.Enrolled() {
		return backend.LastKeyRemovedNotice, nil
	}
	return backend.KeyRemovedNotice, nil
}

// UserKeys lists a user's security keys. Administrators only.
func (a *App) UserKeys(userID int64) ([]KeyView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	u, err := a.svc.User(a.call(), id, userID)
	if err != nil {
		return nil, err
	}
	keys, err := a.svc.UserKeys(a.call(), id, userID)
	return keyViews(u, false, keys, err)
}

// RemoveUserKey removes a user's security key. Administrators only, with a recently confirmed
// password.
func (a *App) RemoveUserKey(userID, keyID int64) (*UserView, error) {
	return a.adminChange(userID, func(ctx context.Context, id *backend.Identity, userID int64) (*backend.User, error) {
		return a.svc.RemoveUserKey(ctx, id, userID, keyID)
	})
}

// Profile returns the signed-in user's profile.
func (a *App) Profile() (*ProfileView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	left, err := a.svc.RecoveryCodesLeft(a.call(), id)
	if err != nil {
		return nil, err
	}
	own, err := a.svc.OwnKeys(a.call(), id)
	keys, err := keyViews(id.User, true, own, err)
	if err != nil {
		return nil, err
	}
	ok, why := a.svc.SMSAvailable()
	return &ProfileView{User: *userView(id.User), RecoveryCodesLeft: left, SMSConfigured: ok, SMSUnavailable: why, Actions: actionViews(a.svc.ProfileActions(id)),
		Keys: keys, KeysNote: backend.KeysInBrowserText, KeysURL: a.svc.KeysWebPage()}, nil
}

// ConfirmPassword confirms the signed-in user's password, which the two-factor changes of the
// profile need (their errors have code "reauth" when it is due).
func (a *App) ConfirmPassword(password string) error {
	id, err := a.signedIn()
	if err != nil {
		return err
	}
	return a.svc.ConfirmPassword(a.call(), id, password)
}

// ChangePassword changes the signed-in user's password.
func (a *App) ChangePassword(current, newPassword string) error {
	id, err := a.signedIn()
	if err != nil {
		return err
	}
	return a.svc.ChangePassword(a.call(), id, current, newPassword)
}

// AppEnrollmentView is the "Use an App" page: the QR code and the same key for typing.
type AppEnrollmentView struct {
	Key       string `json:"key"`       // base32, in groups of four
	URI       string `json:"uri"`       // the otpauth:// URI the QR code encodes
	QRCodeURL string `json:"qrCodeUrl"` // the QR code as a data: URL (PNG)
	Issuer    string `json:"issuer"`    // the name the app lists the account under
	Account   string `json:"account"`   // the username
}

// BeginAppEnrollment starts "Use an App", from a required login or from the profile.
func (a *App) BeginAppEnrollment() (*AppEnrollmentView, error) {
	id, err := a.enroller()
	if err != nil {
		return nil, err
	}
	e, err := a.svc.BeginAppEnrollment(a.call(), id)
	if err != nil {
		return nil, err
	}
	issuer := ""
	if u, err := url.Parse(e.URI); err == nil {
		issuer = u.Query().Get("issuer")
	}
	return &AppEnrollmentView{
		Key: e.Key, URI: e.URI, Issuer: issuer, Account: id.User.Username,
		QRCodeURL: "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCodePNG),
	}, nil
}

// EnrollmentView is the end of an enrollment: the recovery codes to show once, and for a
// required login the step that follows (normally "done").
type EnrollmentView struct {
	RecoveryCodes []string   `json:"recoveryCodes"`
	Login         *LoginView `json:"login"` // nil when enrolling from the profile
}

// ConfirmAppEnrollment finishes "Use an App" with a code from the app.
func (a *App) ConfirmAppEnrollment(code string) (*EnrollmentView, error) {
	id, err := a.enroller()
	if err != nil {
		return nil, err
	}
	res, err := a.svc.ConfirmAppEnrollment(a.call(), id, code)
	if err != nil {
		return nil, err
	}
	return a.enrolled(res)
}

// enrolled turns a finished enrollment into its view: the recovery codes to show, and at the
// enroll step of a login the step that follows.
func (a *App) enrolled(res *backend.EnrollmentResult) (*EnrollmentView, error) {
	v := &EnrollmentView{RecoveryCodes: res.RecoveryCodes}
	var err error
	if res.Login != nil {
		if v.Login, err = a.login(res.Login, nil); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// SMSEnrollmentView is the "Use SMS" page: text Code to the System Phone Number.
type SMSEnrollmentView struct {
	Code         string `json:"code"`         // the Authorization Code, e.g. "7KQ4X-W2PD9"
	PhoneNumber  string `json:"phoneNumber"`  // the System Phone Number, E.164
	PhoneDisplay string `json:"phoneDisplay"` // the same, for reading: "+1 650-253-0000"
	ExpiresAt    string `json:"expiresAt"`    // the code is refused after this
}

// BeginSMSEnrollment starts "Use SMS", from a required login or from the profile: a new
// Authorization Code, which replaces this console's SMS setup not yet confirmed (not another
// console's). It fails with code "unavailable" and a sentence saying why when SMS is not
// configured on this System.
func (a *App) BeginSMSEnrollment() (*SMSEnrollmentView, error) {
	id, err := a.enroller()
	if err != nil {
		return nil, err
	}
	e, err := a.svc.BeginSMSEnrollment(a.call(), id)
	if err != nil {
		return nil, err
	}
	return smsEnrollmentView(e), nil
}

func smsEnrollmentView(e *backend.SMSEnrollment) *SMSEnrollmentView {
	return &SMSEnrollmentView{Code: e.Code, PhoneNumber: e.PhoneNumber, PhoneDisplay: e.PhoneDisplay, ExpiresAt: timeString(e.ExpiresAt)}
}

// SMSEnrollmentStatusView is where "Use SMS" stands; the page polls it.
type SMSEnrollmentStatusView struct {
	// State is "none" (no SMS setup in progress), "waiting" (no text yet), "received" (confirm
	// MaskedPhone), "expired" (start again) or "refused" (the text came from a number no login
	// code can go to: start again from the mobile phone, Refused says so).
	State       string `json:"state"`
	MaskedPhone string `json:"maskedPhone"` // "received": the sender's number, masked
	ExpiresAt   string `json:"expiresAt"`   // "waiting": the code's end; "received": the confirmation's
	// Refused is backend's sentence for "refused" (SMSRefusedSenderText), the web's too; ""
	// otherwise.
	Refused string `json:"refused"`
	// Setup is the Authorization Code to text and the number, while "waiting"; null otherwise.
	Setup *SMSEnrollmentView `json:"setup"`
}

// SMSEnrollmentStatus tells the "Use SMS" page whether the text with the Authorization Code has
// arrived. It works after the page is left and opened again: the state is the backend's, and
// belongs to this console's login (another console of the same user sees "none").
func (a *App) SMSEnrollmentStatus() (*SMSEnrollmentStatusView, error) {
	id, err := a.enroller()
	if err != nil {
		return nil, err
	}
	st, err := a.svc.SMSEnrollmentStatus(a.call(), id)
	if err != nil {
		return nil, err
	}
	v := &SMSEnrollmentStatusView{State: string(st.State), MaskedPhone: st.MaskedPhone, ExpiresAt: timeString(st.ExpiresAt)}
	if st.State == backend.SMSStateRefused {
		v.Refused = backend.SMSRefusedSenderText
	}
	if st.Setup != nil {
		v.Setup = smsEnrollmentView(st.Setup)
	}
	return v, nil
}

// ConfirmSMSEnrollment is "Confirm" once the text has arrived: two-factor is enabled with the
// sender's number as the SMS phone, and the recovery codes are shown as for the app.
func (a *App) ConfirmSMSEnrollment() (*EnrollmentView, error) {
	id, err := a.enroller()
	if err != nil {
		return nil, err
	}
	res, err := a.svc.ConfirmSMSEnrollment(a.call(), id)
	if err != nil {
		return nil, err
	}
	return a.enrolled(res)
}

// RegenerateRecoveryCodes replaces the signed-in user's recovery codes with a new set.
func (a *App) RegenerateRecoveryCodes() ([]string, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	codes, err := a.svc.RegenerateRecoveryCodes(a.call(), id)
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableOwnTwoFactor turns off the signed-in user's two-factor authentication (refused when an
// administrator requires it).
func (a *App) DisableOwnTwoFactor() error {
	id, err := a.signedIn()
	if err != nil {
		return err
	}
	return a.svc.DisableOwnTwoFactor(a.call(), id)
}

// RecoveryCodeSheetView is the recovery codes on screen as backend keeps them.
type RecoveryCodeSheetView struct {
	// Text is the sheet as Print shows it and Save writes it (backend's text, the web's
	// download too).
	Text string `json:"text"`
	// Replaced is backend's sentence saying the old codes stopped working
	// (RecoveryCodesReplacedText) when these replaced a set (Regenerate, or a new setup over
	// an old one); "" otherwise.
	Replaced string `json:"replaced"`
}

// RecoveryCodeSheet is the sheet of the recovery codes on screen: its text for Print and
// whether it replaced a set.
func (a *App) RecoveryCodeSheet() (*RecoveryCodeSheetView, error) {
	sh, err := a.sheet()
	if err != nil {
		return nil, err
	}
	v := &RecoveryCodeSheetView{Text: a.svc.RecoveryCodeSheetText(sh)}
	if sh.Replaced {
		v.Replaced = backend.RecoveryCodesReplacedText
	}
	return v, nil
}

// SaveRecoveryCodes saves the recovery codes on screen to a text file the user chooses in the
// native save dialog. It returns the file's path, or "" if the user cancelled.
func (a *App) SaveRecoveryCodes() (string, error) {
	sh, err := a.sheet()
	if err != nil {
		return "", err
	}
	path, err := a.saveDialog(a.ctx, runtime.SaveDialogOptions{
		Title:           "Save recovery codes",
		DefaultFilename: backend.RecoveryCodeSheetFilename(sh.Username),
		Filters:         []runtime.FileFilter{{DisplayName: "Text files (*.txt)", Pattern: "*.txt"}},
	})
	if err != nil || path == "" {
		return "", err
	}
	sheet := a.svc.RecoveryCodeSheetText(sh)
	if err := writePrivateFile(path, []byte(sheet)); err != nil {
		return "", backend.Errorf(backend.EINVALID, "Could not save the file: %v", errors.Unwrap(err))
	}
	return path, nil
}

// writePrivateFile writes data to path readable by its owner only (0600: the file is as good as
// a second factor), over a file already there too. os.WriteFile's mode applies only to a file it
// creates: over an older sheet readable by all, the new codes were readable by all (L6). A temp
// file (CreateTemp makes it 0600) in the same directory is renamed over path, which also leaves
// no half-written sheet.
func writePrivateFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// sheet returns the recovery codes on screen, as backend keeps them for this console's
// session, or its login still in progress (enrolled at login, a temporary password next).
func (a *App) sheet() (*backend.RecoveryCodeSheet, error) {
	var sh *backend.RecoveryCodeSheet
	var err error
	if attempt := a.token(&a.attempt); attempt != "" {
		sh, err = a.svc.LoginRecoveryCodeSheet(a.call(), attempt)
		err = a.dropIfEnded(err, &a.attempt)
	} else {
		var id *backend.Identity
		if id, err = a.signedIn(); err == nil {
			sh, err = a.svc.RecoveryCodeSheet(a.call(), id)
		}
	}
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		return nil, backend.Errorf(backend.ECONFLICT, "There are no recovery codes on screen to save.")
	}
	return sh, err
}

// AcknowledgeRecoveryCodes is "I have saved these codes": backend forgets them, and no one can
// show them again.
func (a *App) AcknowledgeRecoveryCodes() error {
	if attempt := a.token(&a.attempt); attempt != "" {
		return a.dropIfEnded(a.svc.AcknowledgeLoginRecoveryCodes(a.call(), attempt), &a.attempt)
	}
	id, err := a.signedIn()
	if err != nil {
		return err
	}
	return a.svc.AcknowledgeRecoveryCodes(a.call(), id)
}

// ---- What the forms say (backend's) ----

// RoleOption is one choice of the role select.
type RoleOption struct {
	Key   backend.Role `json:"key"`
	Label string       `json:"label"`
}

// StatusOption is one choice of the Two-Factor status filter.
type StatusOption struct {
	Key   backend.TwoFactorStatus `json:"key"`
	Label string                  `json:"label"`
}

// AuditKindOption is one choice of the audit log's filter (backend.AuditKinds).
type AuditKindOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// FormsView is what the console's forms state that backend decides: the password rule, the
// recovery-code count, the defaults of New User and Set password, the choices of role and
// Two-Factor status.
type FormsView struct {
	MinPasswordLength     int               `json:"minPasswordLength"`
	MaxPasswordLength     int               `json:"maxPasswordLength"`
	PasswordHintOwn       string            `json:"passwordHintOwn"`     // choosing one's own
	PasswordHintForUser   string            `json:"passwordHintForUser"` // an administrator setting someone's
	RecoveryCodeCount     int               `json:"recoveryCodeCount"`
	NewUser               NewUserForm       `json:"newUser"` // the New User form's defaults
	SetPasswordMustChange bool              `json:"setPasswordMustChange"`
	Roles                 []RoleOption      `json:"roles"`
	Statuses              []StatusOption    `json:"statuses"`
	AuditKinds            []AuditKindOption `json:"auditKinds"` // the audit log's filter, as the web offers it
	Notices               NoticesView       `json:"notices"`
	Apps                  AppFormsView      `json:"apps"` // what the Applications forms state
	// SMSUnavailable is why "Use SMS" cannot work on this System (backend's sentence, the one
	// the web's choice screen shows); "" when it can.
	SMSUnavailable string `json:"smsUnavailable"`
}

// NoticesView are backend's status-bar sentences that name nobody (the web shows the same).
type NoticesView struct {
	LoggedOut        string `json:"loggedOut"`        // the login screen after Log out
	TwoFactorEnabled string `json:"twoFactorEnabled"` // the Profile once set up and the codes saved
	UserKeyRemoved   string `json:"userKeyRemoved"`   // an administrator removed a user's security key
}

// Forms returns what the forms state; it needs no login.
func (a *App) Forms() *FormsView {
	d := backend.NewUserDefaults()
	v := &FormsView{
		MinPasswordLength: backend.MinPasswordLength, MaxPasswordLength: backend.MaxPasswordLength,
		PasswordHintOwn: backend.PasswordHintOwn, PasswordHintForUser: backend.PasswordHintForUser,
		RecoveryCodeCount:     backend.RecoveryCodeCount,
		NewUser:               NewUserForm{Role: d.Role, RequireTwoFactor: d.RequireTwoFactor, MustChangePassword: d.MustChangePassword},
		SetPasswordMustChange: backend.SetPasswordMustChange,
		Notices:               NoticesView{LoggedOut: backend.LoggedOutNotice, TwoFactorEnabled: backend.TwoFactorEnabledNotice, UserKeyRemoved: backend.UserKeyRemovedNotice},
	}
	if ok, why := a.svc.SMSAvailable(); !ok {
		v.SMSUnavailable = why
	}
	v.Apps = appFormsView()
	for _, r := range backend.Roles {
		v.Roles = append(v.Roles, RoleOption{Key: r, Label: r.Label()})
	}
	for _, st := range backend.Statuses {
		v.Statuses = append(v.Statuses, StatusOption{Key: st, Label: st.Label()})
	}
	for _, k := range backend.AuditKinds {
		v.AuditKinds = append(v.AuditKinds, AuditKindOption{Key: k.Key, Label: k.Label})
	}
	return v
}

// About is the console's About: backend's version text, the one `gatehouse version` prints and
// the web's footer shows administrators. It needs no login.
func (a *App) About() string {
	return backend.VersionText()
}

// ---- Administration ----

// UserQuery filters the user list.
type UserQuery struct {
	Search string                  `json:"search"`
	Status backend.TwoFactorStatus `json:"status"` // a key, or "" for all
	Offset int                     `json:"offset"`
	Limit  int                     `json:"limit"`
}

// UserListView is one page of the user list.
type UserListView struct {
	Users  []*UserView `json:"users"`
	Total  int         `json:"total"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
}

// Users returns one page of the user list. Administrators only.
func (a *App) Users(q UserQuery) (*UserListView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	p, err := a.svc.Users(a.call(), id, backend.UserFilter{
		Search: q.Search, Status: q.Status, Offset: q.Offset, Limit: q.Limit,
	})
	if err != nil {
		return nil, err
	}
	v := &UserListView{Users: []*UserView{}, Total: p.Total, Offset: p.Offset, Limit: p.Limit}
	for _, u := range p.Users {
		v.Users = append(v.Users, a.adminUserView(id, u))
	}
	return v, nil
}

// User returns one user. Administrators only.
func (a *App) User(userID int64) (*UserView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	u, err := a.svc.User(a.call(), id, userID)
	return a.adminUserView(id, u), err
}

// NewUserForm is the "New User" form.
type NewUserForm struct {
	Username           string       `json:"username"`
	DisplayName        string       `json:"displayName"`
	Email              string       `json:"email"`
	Password           string       `json:"password"`
	Role               backend.Role `json:"role"`
	RequireTwoFactor   bool         `json:"requireTwoFactor"` // "Two-Factor Authentication: Yes"
	MustChangePassword bool         `json:"mustChangePassword"`
}

func (f NewUserForm) newUser() backend.NewUser {
	return backend.NewUser{
		Username: f.Username, DisplayName: f.DisplayName, Email: f.Email, Password: f.Password,
		Role: f.Role, RequireTwoFactor: f.RequireTwoFactor, MustChangePassword: f.MustChangePassword,
	}
}

// CheckNewUser reports every problem of a new-user form at once (EINVALID), creating nothing:
// the screen calls it when a check of its own fails first, to report everything together.
func (a *App) CheckNewUser(f NewUserForm) error {
	return backend.CheckNewUser(f.newUser())
}

// CreateUser adds a user. Administrators only.
func (a *App) CreateUser(f NewUserForm) (*UserView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	u, err := a.svc.CreateUser(a.call(), id, f.newUser())
	if err != nil {
		return nil, err
	}
	v := userView(u)
	v.Notice = backend.UserCreatedNotice(u)
	return v, nil
}

// UserForm is the "Edit this User" form.
type UserForm struct {
	DisplayName string       `json:"displayName"`
	Email       string       `json:"email"`
	Role        backend.Role `json:"role"`
	Disabled    bool         `json:"disabled"`
}

// UpdateUser saves "Edit this User"; the Service changes, and audits, only the fields whose
// value differs. Administrators only.
func (a *App) UpdateUser(userID int64, f UserForm) (*UserView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	u, err := a.svc.UpdateUser(a.call(), id, userID, backend.UserChanges{DisplayName: &f.DisplayName, Email: &f.Email, Role: &f.Role, Disabled: &f.Disabled})
	if err != nil {
		return nil, err
	}
	v := a.adminUserView(id, u)
	v.Notice = backend.UserUpdatedNotice(u)
	return v, nil
}

// SetUserPassword sets a new password for a user; with mustChange the user chooses their own at
// the next login. Administrators only.
func (a *App) SetUserPassword(userID int64, password string, mustChange bool) error {
	id, err := a.signedIn()
	if err != nil {
		return err
	}
	return a.svc.SetUserPassword(a.call(), id, userID, password, mustChange)
}

// RequireTwoFactor makes the user enroll at their next login. Administrators only.
func (a *App) RequireTwoFactor(userID int64) (*UserView, error) {
	return a.adminChange(userID, a.svc.RequireTwoFactor)
}

// DisableTwoFactor removes the requirement and the enrollment. Administrators only.
func (a *App) DisableTwoFactor(userID int64) (*UserView, error) {
	return a.adminChange(userID, a.svc.DisableTwoFactor)
}

// ResetTwoFactor removes the enrollment and keeps the requirement. Administrators only.
func (a *App) ResetTwoFactor(userID int64) (*UserView, error) {
	return a.adminChange(userID, a.svc.ResetTwoFactor)
}

// UnlockUser lifts the lock of an account locked after too many failed attempts.
// Administrators only.
func (a *App) UnlockUser(userID int64) (*UserView, error) {
	return a.adminChange(userID, a.svc.UnlockUser)
}

func (a *App) adminChange(userID int64, change func(context.Context, *backend.Identity, int64) (*backend.User, error)) (*UserView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	u, err := change(a.call(), id, userID)
	return a.adminUserView(id, u), err
}

// StatusCount is how many users have one Two-Factor status.
type StatusCount struct {
	Status backend.TwoFactorStatus `json:"status"`
	Label  string                  `json:"label"`
	Count  int                     `json:"count"`
}

// StatusCounts counts users by Two-Factor status, in display order (No, Pending, Enabled), for
// the overview chart. Administrators only.
func (a *App) StatusCounts() ([]StatusCount, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	c, err := a.svc.StatusCounts(a.call(), id)
	if err != nil {
		return nil, err
	}
	out := make([]StatusCount, 0, len(backend.Statuses))
	for _, s := range backend.Statuses {
		out = append(out, StatusCount{Status: s, Label: s.Label(), Count: c[s]})
	}
	return out, nil
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	Action   string `json:"action"`   // exact action, or a prefix ending in "." such as "admin."
	Username string `json:"username"` // events by or about this user
	Offset   int    `json:"offset"`
	Limit    int    `json:"limit"`
}

// AuditEventView is one entry of the audit log.
type AuditEventView struct {
	ID     int64  `json:"id"`
	At     string `json:"at"`
	Time   string `json:"time"` // At as every front end writes it (backend.FormatTime)
	Action string `json:"action"`
	Text   string `json:"text"` // the action in plain words (backend.AuditActionText)
	Actor  string `json:"actor"`
	Target string `json:"target"` // the user the event is about
	App    string `json:"app"`    // the application the event is about
	Detail string `json:"detail"`
	IP     string `json:"ip"`
}

// AuditLogView is one page of the audit log, newest first.
type AuditLogView struct {
	Events []AuditEventView `json:"events"`
	Total  int              `json:"total"`
	Offset int              `json:"offset"`
	Limit  int              `json:"limit"`
}

// AuditLog returns one page of the audit log. Administrators only.
func (a *App) AuditLog(q AuditQuery) (*AuditLogView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	p, err := a.svc.AuditLog(a.call(), id, backend.AuditFilter{
		Action: q.Action, Username: strings.TrimSpace(q.Username), Offset: q.Offset, Limit: q.Limit,
	})
	if err != nil {
		return nil, err
	}
	v := &AuditLogView{Events: []AuditEventView{}, Total: p.Total, Offset: p.Offset, Limit: p.Limit}
	for _, e := range p.Events {
		v.Events = append(v.Events, AuditEventView{
			ID: e.ID, At: timeString(e.At), Time: backend.FormatTime(e.At), Action: e.Action, Text: backend.AuditActionText(e.Action), Actor: e.ActorName, Target: e.TargetName,
			App: e.TargetApp, Detail: e.Detail, IP: e.IP,
		})
	}
	return v, nil
}

// ---- Administration → Applications ----

// AppView is an application as the console shows it: never its secret, nor the secret's hash.
type AppView struct {
	ID           int64    `json:"id"`
	ClientID     string   `json:"clientId"`
	Name         string   `json:"name"`
	Public       bool     `json:"public"`
	TypeLabel    string   `json:"typeLabel"` // "Confidential (client secret)", …
	TypeFixed    string   `json:"typeFixed"` // what Edit says of the type, which cannot change
	RedirectURIs []string `json:"redirectUris"`
	Domains      []string `json:"domains"` // "Protected domains" (forward-auth)
	// Audience is a backend.AppAudience key (compare it); AudienceLabel is what people read.
	Audience             string `json:"audience"`
	AudienceLabel        string `json:"audienceLabel"`
	RequireTwoFactor     bool   `json:"requireTwoFactor"`
	BackchannelLogoutURI string `json:"backchannelLogoutUri"`
	Created              string `json:"created"` // as every front end writes a time (backend.FormatTime)
	Updated              string `json:"updated"`
	// The pop-ups' sentences (backend's, the web's) and the status bar after a change.
	DeleteConfirm     string `json:"deleteConfirm"`
	RegenerateConfirm string `json:"regenerateConfirm"` // "" for a public app, which has no secret
	Notice            string `json:"notice"`            // after UpdateApp; "" from any other call
}

func appView(x *backend.App) *AppView {
	if x == nil {
		return nil
	}
	v := &AppView{
		ID: x.ID, ClientID: x.ClientID, Name: x.Name, Public: x.Public, TypeLabel: x.TypeLabel(), TypeFixed: backend.AppTypeFixedText(x),
		RedirectURIs: append([]string{}, x.RedirectURIs...), Domains: append([]string{}, x.Domains...), Audience: string(x.Audience), AudienceLabel: x.Audience.Label(),
		RequireTwoFactor: x.RequireTwoFactor, BackchannelLogoutURI: x.BackchannelLogoutURI,
		Created: backend.FormatTime(x.CreatedAt), Updated: backend.FormatTime(x.UpdatedAt),
		DeleteConfirm: backend.DeleteAppConfirmation(x),
	}
	if !x.Public {
		v.RegenerateConfirm = backend.RegenerateSecretConfirmation(x)
	}
	return v
}

// AppSecretView answers the calls that make a client secret (CreateApp of a confidential
// application, RegenerateAppSecret): the only time the secret leaves the backend. The console
// keeps it nowhere: the screen that shows it is not one that refresh shows again.
type AppSecretView struct {
	App    *AppView `json:"app"`
	Secret string   `json:"secret"` // "" for a public application, which has none
	Once   string   `json:"once"`   // backend.SecretShownOnce, said beside it
	Notice string   `json:"notice"` // the status bar: created, or a new secret made
}

// AppOption is one choice of "Who may use it".
type AppOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// AppTypeOption is one choice of New Application's Type.
type AppTypeOption struct {
	Public bool   `json:"public"`
	Help   string `json:"help"`
}

// AppFormsView is what the Applications forms state, backend's, as the web pages say it.
type AppFormsView struct {
	Lead             string          `json:"lead"`
	Empty            string          `json:"empty"`
	RedirectHelp     string          `json:"redirectHelp"`
	DomainsHelp      string          `json:"domainsHelp"`
	RequireHelp      string          `json:"requireHelp"`
	BackchannelHelp  string          `json:"backchannelHelp"`
	PasswordReason   string          `json:"passwordReason"` // why the password is asked again
	Audiences        []AppOption     `json:"audiences"`
	DefaultAudience  string          `json:"defaultAudience"`
	Types            []AppTypeOption `json:"types"`
	FieldName        string          `json:"fieldName"` // the keys of ErrorView.Fields
	FieldRedirectURI string          `json:"fieldRedirectUris"`
	FieldDomains     string          `json:"fieldDomains"`
	FieldAudience    string          `json:"fieldAudience"`
	FieldBackchannel string          `json:"fieldBackchannel"`
}

func appFormsView() AppFormsView {
	v := AppFormsView{
		Lead: backend.AppsLead, Empty: backend.NoAppsText, RedirectHelp: backend.AppRedirectURIsHelp, DomainsHelp: backend.AppDomainsHelp,
		RequireHelp: backend.AppRequireTwoFactor, BackchannelHelp: backend.AppBackchannelHelp, PasswordReason: backend.AppPasswordReason,
		DefaultAudience: string(backend.AudienceEveryone),
		FieldName:       backend.FieldName, FieldRedirectURI: backend.FieldRedirectURIs, FieldDomains: backend.FieldDomains, FieldAudience: backend.FieldAudience,
		FieldBackchannel: backend.FieldBackchannelLogoutURI,
	}
	for _, x := range backend.AppAudiences {
		v.Audiences = append(v.Audiences, AppOption{Key: string(x), Label: x.Label()})
	}
	for _, t := range backend.AppTypes {
		v.Types = append(v.Types, AppTypeOption{Public: t.Public, Help: t.Help})
	}
	return v
}

// AppQuery is a page of the application list.
type AppQuery struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// AppListView is one page of the application list, ordered by name.
type AppListView struct {
	Apps   []*AppView `json:"apps"`
	Total  int        `json:"total"`
	Offset int        `json:"offset"`
	Limit  int        `json:"limit"`
}

// Apps returns one page of the applications. Administrators only.
func (a *App) Apps(q AppQuery) (*AppListView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	p, err := a.svc.Apps(a.call(), id, backend.AppFilter{Offset: q.Offset, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	v := &AppListView{Apps: []*AppView{}, Total: p.Total, Offset: p.Offset, Limit: p.Limit}
	for _, x := range p.Apps {
		v.Apps = append(v.Apps, appView(x))
	}
	return v, nil
}

// Application returns one application. Administrators only.
func (a *App) Application(appID int64) (*AppView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	x, err := a.svc.App(a.call(), id, appID)
	return appView(x), err
}

// AppForm is the New Application and the Edit this Application form, as typed: the redirect
// URIs one per line, as the web's textarea has them. Public is New Application's only.
type AppForm struct {
	Name                 string `json:"name"`
	RedirectURIs         string `json:"redirectUris"`
	Domains              string `json:"domains"` // one per line, like RedirectURIs
	Public               bool   `json:"public"`
	Audience             string `json:"audience"`
	RequireTwoFactor     bool   `json:"requireTwoFactor"`
	BackchannelLogoutURI string `json:"backchannelLogoutUri"`
}

// CreateApp is "Create Application". A confidential application's secret is in the answer,
// the only time it is shown. Administrators only, with a recently confirmed password (code
// "reauth"); the form's mistakes first, every bad field at once (ErrorView.Fields).
func (a *App) CreateApp(f AppForm) (*AppSecretView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	x, secret, err := a.svc.CreateApp(a.call(), id, backend.NewApp{
		Name: f.Name, RedirectURIs: backend.ParseURIList(f.RedirectURIs), Domains: backend.ParseURIList(f.Domains), Public: f.Public,
		Audience:         backend.AppAudience(f.Audience),
		RequireTwoFactor: f.RequireTwoFactor, BackchannelLogoutURI: f.BackchannelLogoutURI,
	})
	if err != nil {
		return nil, err
	}
	return secretView(x, secret, backend.AppCreatedNotice(x)), nil
}

func secretView(x *backend.App, secret, notice string) *AppSecretView {
	v := &AppSecretView{App: appView(x), Secret: secret, Notice: notice}
	if secret != "" {
		v.Once = backend.SecretShownOnce
	}
	return v
}

// UpdateApp saves "Edit this Application"; the Service changes, and audits, only the fields
// whose value differs. Administrators only, with a recently confirmed password.
func (a *App) UpdateApp(appID int64, f AppForm) (*AppView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	uris, domains, aud := backend.ParseURIList(f.RedirectURIs), backend.ParseURIList(f.Domains), backend.AppAudience(f.Audience)
	x, err := a.svc.UpdateApp(a.call(), id, appID, backend.AppChanges{
		Name: &f.Name, RedirectURIs: &uris, Domains: &domains, Audience: &aud, RequireTwoFactor: &f.RequireTwoFactor, BackchannelLogoutURI: &f.BackchannelLogoutURI,
	})
	if err != nil {
		return nil, err
	}
	v := appView(x)
	v.Notice = backend.AppUpdatedNotice(x)
	return v, nil
}

// RegenerateAppSecret is "Regenerate secret": the new secret is in the answer, the only time
// it is shown, and the old one stops working. Administrators only, with a recently confirmed
// password.
func (a *App) RegenerateAppSecret(appID int64) (*AppSecretView, error) {
	id, err := a.signedIn()
	if err != nil {
		return nil, err
	}
	x, secret, err := a.svc.RegenerateAppSecret(a.call(), id, appID)
	if err != nil {
		return nil, err
	}
	return secretView(x, secret, backend.AppSecretRegeneratedNotice(x)), nil
}

// DeleteApp removes an application and returns the status bar's sentence. Administrators
// only, with a recently confirmed password.
func (a *App) DeleteApp(appID int64) (string, error) {
	id, err := a.signedIn()
	if err != nil {
		return "", err
	}
	x, err := a.svc.DeleteApp(a.call(), id, appID)
	if err != nil {
		return "", err
	}
	return backend.AppDeletedNotice(x), nil
}
