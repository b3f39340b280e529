package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gatehouse/backend"
)

// usersPerPage is the page size of the user list and the audit log.
const usersPerPage = 25

// statusKeys names the Two-Factor statuses in URLs (?status=pending).
var statusKeys = map[string]backend.TwoFactorStatus{
	"no":      backend.StatusNo,
	"pending": backend.StatusPending,
	"enabled": backend.StatusEnabled,
}

func statusKey(st backend.TwoFactorStatus) string {
	for k, v := range statusKeys {
		if v == st {
			return k
		}
	}
	return ""
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	counts, err := s.svc.StatusCounts(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, overviewView(adminPage(id, "Administration", "overview"), counts))
}

// userListQuery is the user list's search, filter and page, as in its URL.
type userListQuery struct {
	Search string
	Status string // a statusKeys key, or ""
	Page   int    // from 1
}

func (q userListQuery) url(page int) string {
	return listURL("/admin/users", page, "q", q.Search, "status", q.Status)
}

// listURL is the URL of one page of a filtered list: path with the non-empty filters (given as
// name, value pairs) and the page number past the first.
func listURL(path string, page int, filters ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(filters); i += 2 {
		if filters[i+1] != "" {
			v.Set(filters[i], filters[i+1])
		}
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func pageNumber(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	q := userListQuery{Search: strings.TrimSpace(r.URL.Query().Get("q")), Status: r.URL.Query().Get("status"), Page: pageNumber(r.URL.Query().Get("page"))}
	if _, ok := statusKeys[q.Status]; !ok {
		q.Status = ""
	}
	res, err := s.svc.Users(r.Context(), id, backend.UserFilter{
		Search: q.Search, Status: statusKeys[q.Status], Offset: (q.Page - 1) * usersPerPage, Limit: usersPerPage,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if last := pagination(0, usersPerPage, res.Total).Last; q.Page > last { // a stale or typed page number
		http.Redirect(w, r, q.url(last), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, usersView(adminPage(id, "Users", "users"), q, res, s.svc.Locked))
}

// newUserForm is the "New User" form as typed; the password is never sent back.
type newUserForm struct {
	Username, Name, Email, Role string
	RequireTwoFactor            bool
	MustChangePassword          bool
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	s.render(w, r, http.StatusOK, newUserView(adminPage(id, "New User", "users"), newUserForm{Role: string(backend.RoleUser)}, false, ""))
}

func (s *Server) newUserSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	f := newUserForm{
		Username: r.PostFormValue("username"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email"),
		Role: r.PostFormValue("role"), RequireTwoFactor: r.PostFormValue("two_factor") == "yes",
		MustChangePassword: r.PostFormValue("must_change") == "yes",
	}
	again := func(status int, msg string) {
		s.render(w, r, status, newUserView(adminPage(id, "New User", "users"), f, s.svc.NeedsPasswordConfirmation(id), msg))
	}
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	u, err := s.svc.CreateUser(r.Context(), id, backend.NewUser{
		Username: f.Username, DisplayName: f.Name, Email: f.Email, Password: r.PostFormValue("password"),
		Role: backend.Role(f.Role), RequireTwoFactor: f.RequireTwoFactor, MustChangePassword: f.MustChangePassword,
	})
	if err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?notice=created", u.ID), http.StatusSeeOther)
}

// targetUser loads the user named by the {id} in the path.
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request, id *backend.Identity) *backend.User {
	uid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "Not found", "There is no such user.")
		return nil
	}
	u, err := s.svc.User(r.Context(), id, uid)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		s.errorPage(w, r, http.StatusNotFound, "Not found", "There is no such user.")
		return nil
	} else if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return u
}

// userNotice is the light-blue status bar on a user's page after a change.
func userNotice(key string, u *backend.User) string {
	switch key {
	case "created":
		if u.TwoFactorRequired {
			return fmt.Sprintf("%s has been created and will be required to enroll in Two-Factor Authentication upon log in.", u.Name())
		}
		return fmt.Sprintf("%s has been created.", u.Name())
	case "updated":
		return fmt.Sprintf("The changes to %s have been saved.", u.Name())
	case "password":
		return fmt.Sprintf("The password of %s has been set. Their sessions have ended.", u.Name())
	case "required":
		return fmt.Sprintf("Two-Factor Authentication is now required: %s will be asked to enroll upon log in.", u.Name())
	case "disabled":
		return fmt.Sprintf("Two-Factor Authentication is disabled for %s.", u.Name())
	case "reset":
		return fmt.Sprintf("Two-Factor Authentication has been reset for %s.", u.Name())
	case "unlocked":
		return fmt.Sprintf("%s is unlocked and can log in again.", u.Name())
	}
	return ""
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	s.showUser(w, r, id, u, userNotice(r.URL.Query().Get("notice"), u), http.StatusOK, "")
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, notice string, status int, msg string) {
	p := adminPage(id, u.Name(), "users")
	p.Notice = notice
	s.render(w, r, status, userView(p, u, s.svc.Locked(u), s.svc.NeedsPasswordConfirmation(id), msg))
}

// unlockSubmit is "Unlock" on the user page of a locked account.
func (s *Server) unlockSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	again := func(status int, msg string) { s.showUser(w, r, id, u, "", status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	if _, err := s.svc.UnlockUser(r.Context(), id, u.ID); backend.ErrorCode(err) == backend.EREAUTH {
		again(statusOf(err), s.message(r, err))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?notice=unlocked", u.ID), http.StatusSeeOther)
}

// editUserForm is "Edit this User" as typed.
type editUserForm struct {
	Name, Email, Role string
	Disabled          bool
}

func (s *Server) editUserPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	f := editUserForm{Name: u.DisplayName, Email: u.Email, Role: string(u.Role), Disabled: u.Disabled}
	s.showEditUser(w, r, id, u, f, http.StatusOK, "")
}

func (s *Server) editUserSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	f := editUserForm{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Role: r.PostFormValue("role"),
		Disabled: r.PostFormValue("account") == "disabled"}
	again := func(status int, msg string) { s.showEditUser(w, r, id, u, f, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	role := backend.Role(f.Role)
	_, err := s.svc.UpdateUser(r.Context(), id, u.ID, backend.UserChanges{
		DisplayName: &f.Name, Email: &f.Email, Role: &role, Disabled: &f.Disabled,
	})
	if err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?notice=updated", u.ID), http.StatusSeeOther)
}

// The administrator's forms that may need their password (see backend's requireAdminConfirmed)
// ask for it on the form itself when it is due (reauthField), and show the form again, with
// the field, when the confirmation lapsed meanwhile.

func (s *Server) showEditUser(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, f editUserForm, status int, msg string) {
	s.render(w, r, status, editUserView(adminPage(id, "Edit "+u.Name(), "users"), u, f, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) showSetPassword(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, mustChange bool, status int, msg string) {
	s.render(w, r, status, setPasswordView(adminPage(id, "Set password", "users"), u, mustChange, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) showAction(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, a twoFactorAction, status int, msg string) {
	s.render(w, r, status, confirmActionView(adminPage(id, a.Label, "users"), u, a, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) setPasswordPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if u := s.targetUser(w, r, id); u != nil {
		s.showSetPassword(w, r, id, u, true, http.StatusOK, "")
	}
}

func (s *Server) setPasswordSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	mustChange := r.PostFormValue("must_change") == "yes"
	again := func(status int, msg string) { s.showSetPassword(w, r, id, u, mustChange, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	if err := s.svc.SetUserPassword(r.Context(), id, u.ID, r.PostFormValue("password"), mustChange); err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?notice=password", u.ID), http.StatusSeeOther)
}

// twoFactorAction is one of an administrator's two-factor changes to a user, each confirmed
// first: in a <dialog> on the edit page with JavaScript, on a page of its own without.
type twoFactorAction struct {
	Slug    string // in the URL: /admin/users/{id}/{slug}
	Label   string // the link and the button
	Notice  string // the userNotice key afterwards
	Guarded bool   // it removes a factor: the administrator's recently confirmed password is needed
	Explain func(u *backend.User) string
	Do      func(s *backend.Service, r *http.Request, id *backend.Identity, userID int64) (*backend.User, error)
}

var twoFactorActions = []twoFactorAction{
	{
		Slug: "require-two-factor", Label: "Require Two-Factor", Notice: "required",
		Explain: func(u *backend.User) string {
			return fmt.Sprintf("%s will now be required to enroll in Two-Factor Authentication upon log in.", u.Name())
		},
		Do: func(s *backend.Service, r *http.Request, id *backend.Identity, uid int64) (*backend.User, error) {
			return s.RequireTwoFactor(r.Context(), id, uid)
		},
	},
	{
		Slug: "disable-two-factor", Label: "Disable Two-Factor", Notice: "disabled", Guarded: true,
		Explain: func(u *backend.User) string {
			if !u.TwoFactorRequired {
				return fmt.Sprintf("Two-Factor Authentication will be turned off for %s. %s will be removed. Their sessions end now.", u.Name(), setupText(u.Method))
			}
			return fmt.Sprintf("%s will no longer be required to use Two-Factor Authentication, and their current setup and recovery codes will be removed. Their sessions end now.", u.Name())
		},
		Do: func(s *backend.Service, r *http.Request, id *backend.Identity, uid int64) (*backend.User, error) {
			return s.DisableTwoFactor(r.Context(), id, uid)
		},
	},
	{
		Slug: "reset-two-factor", Label: "Reset Two-Factor", Notice: "reset", Guarded: true,
		Explain: func(u *backend.User) string {
			if u.TwoFactorRequired {
				return fmt.Sprintf("%s of %s will be removed. Two-Factor Authentication stays required: they will enroll again upon log in. Their sessions end now.", setupText(u.Method), u.Name())
			}
			return fmt.Sprintf("%s of %s will be removed, and Two-Factor Authentication will be off. Their sessions end now.", setupText(u.Method), u.Name())
		},
		Do: func(s *backend.Service, r *http.Request, id *backend.Identity, uid int64) (*backend.User, error) {
			return s.ResetTwoFactor(r.Context(), id, uid)
		},
	},
}

// setupText names what a user's Two-Factor setup consists of, by method, for the sentences that
// say it will be removed.
func setupText(m backend.Method) string {
	switch m {
	case backend.MethodSMS:
		return "The phone number and recovery codes"
	case backend.MethodApp:
		return "The authenticator app and recovery codes"
	}
	return "The Two-Factor setup and recovery codes"
}

// offered reports whether the edit page offers action a for u.
func (a twoFactorAction) offered(u *backend.User) bool {
	switch a.Slug {
	case "require-two-factor":
		return u.CanRequireTwoFactor()
	case "disable-two-factor":
		return u.CanDisableTwoFactor()
	default:
		return u.CanResetTwoFactor()
	}
}

func findAction(slug string) (twoFactorAction, bool) {
	for _, a := range twoFactorActions {
		if a.Slug == slug {
			return a, true
		}
	}
	return twoFactorAction{}, false
}

func (s *Server) twoFactorActionPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a, ok := findAction(r.PathValue("action"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
		return
	}
	if u := s.targetUser(w, r, id); u != nil {
		s.showAction(w, r, id, u, a, http.StatusOK, "")
	}
}

func (s *Server) twoFactorActionSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a, ok := findAction(r.PathValue("action"))
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
		return
	}
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	again := func(status int, msg string) { s.showAction(w, r, id, u, a, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	if _, err := a.Do(s.svc, r, id, u.ID); backend.ErrorCode(err) == backend.EREAUTH {
		again(statusOf(err), s.message(r, err))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?notice=%s", u.ID, a.Notice), http.StatusSeeOther)
}

// auditQuery is the audit log's filter and page, as in its URL.
type auditQuery struct {
	Action string // one of auditActions' keys, or ""
	User   string
	Page   int
}

// auditActions are the audit log filter's choices: action prefixes (see backend.Audit*).
var auditActions = []struct{ Key, Label string }{
	{"", "All events"},
	{"login.", "Logins"},
	{"2fa.", "Two-Factor changes by users"},
	{"admin.", "Administration"},
	{"password.", "Password changes"},
	{"account.", "Account locks"},
	{"logout", "Log outs"},
}

func (q auditQuery) url(page int) string {
	return listURL("/admin/audit", page, "action", q.Action, "user", q.User)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	q := auditQuery{Action: r.URL.Query().Get("action"), User: strings.TrimSpace(r.URL.Query().Get("user")), Page: pageNumber(r.URL.Query().Get("page"))}
	known := false
	for _, a := range auditActions {
		known = known || a.Key == q.Action
	}
	if !known {
		q.Action = ""
	}
	res, err := s.svc.AuditLog(r.Context(), id, backend.AuditFilter{
		Action: q.Action, Username: q.User, Offset: (q.Page - 1) * usersPerPage, Limit: usersPerPage,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if last := pagination(0, usersPerPage, res.Total).Last; q.Page > last {
		http.Redirect(w, r, q.url(last), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, auditView(adminPage(id, "Audit log", "audit"), q, res))
}

// pages is the pagination of a list: the current page and whether there are others.
type pages struct {
	Current, Last int
}

func pagination(offset, limit, total int) pages {
	last := max(1, (total+limit-1)/limit)
	return pages{Current: offset/limit + 1, Last: last}
}
