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
	Status backend.TwoFactorStatus // a status key, or ""
	Page   int                     // from 1
}

func (q userListQuery) url(page int) string {
	return listURL("/admin/users", page, "q", q.Search, "status", string(q.Status))
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
	q := userListQuery{Search: strings.TrimSpace(r.URL.Query().Get("q")), Status: backend.TwoFactorStatus(r.URL.Query().Get("status")), Page: pageNumber(r.URL.Query().Get("page"))}
	if !q.Status.Valid() {
		q.Status = ""
	}
	res, err := s.svc.Users(r.Context(), id, backend.UserFilter{
		Search: q.Search, Status: q.Status, Offset: (q.Page - 1) * usersPerPage, Limit: usersPerPage,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if last := pagination(0, usersPerPage, res.Total).Last; q.Page > last { // a stale or typed page number
		http.Redirect(w, r, q.url(last), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, usersView(adminPage(id, "Users", "users"), q, res, s.svc.AccountState))
}

// newUserForm is the "New User" form as typed; the password is never sent back.
type newUserForm struct {
	Username, Name, Email, Role string
	RequireTwoFactor            bool
	MustChangePassword          bool
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	d := backend.NewUserDefaults()
	f := newUserForm{Role: string(d.Role), RequireTwoFactor: d.RequireTwoFactor, MustChangePassword: d.MustChangePassword}
	s.render(w, r, http.StatusOK, newUserView(adminPage(id, "New User", "users"), f, false, ""))
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
	s.flash(w, r, id, backend.UserCreatedNotice(u))
	http.Redirect(w, r, userPath(u), http.StatusSeeOther)
}

// targetUser loads the user named by the {id} in the path.
func (s *Server) targetUser(w http.ResponseWriter, r *http.Request, id *backend.Identity) *backend.User {
	uid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPageTo(w, r, http.StatusNotFound, "Not found", "There is no such user.", usersBack)
		return nil
	}
	u, err := s.svc.User(r.Context(), id, uid)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		s.errorPageTo(w, r, http.StatusNotFound, "Not found", "There is no such user.", usersBack)
		return nil
	} else if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return u
}

// userPath is the path of u's page.
func userPath(u *backend.User) string { return fmt.Sprintf("/admin/users/%d", u.ID) }

// changed answers an administrator's change to u that succeeded: the status bar on u's page
// says so (the flash of action key's Done).
func (s *Server) changed(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, key backend.ActionKey) {
	s.flash(w, r, id, backend.DescribeUserAction(key, u).Done)
	http.Redirect(w, r, userPath(u), http.StatusSeeOther)
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	s.showUser(w, r, id, u, http.StatusOK, "")
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, status int, msg string) {
	p := adminPage(id, u.Name(), "users")
	keys, err := s.svc.UserKeys(r.Context(), id, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, userView(p, u, s.svc.AccountState(u), s.svc.UserActions(id, u), s.svc.NeedsPasswordConfirmation(id), msg, keys))
}

// unlockSubmit is "Unlock" on the user page of a locked account.
func (s *Server) unlockSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	again := func(status int, msg string) { s.showUser(w, r, id, u, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	if _, err := s.svc.UnlockUser(r.Context(), id, u.ID); backend.ErrorCode(err) == backend.EREAUTH {
		again(statusOf(err), s.message(r, err))
		return
	} else if err != nil {
		s.failTo(w, r, err, userBack(u))
		return
	}
	s.changed(w, r, id, u, backend.ActionUnlock)
}

// editUserForm is "Edit this User" as typed.
type editUserForm struct {
	Name, Email, Role string
	Disabled          bool
}

// changes is the form as the Service takes it.
func (f editUserForm) changes() backend.UserChanges {
	role := backend.Role(f.Role)
	return backend.UserChanges{DisplayName: &f.Name, Email: &f.Email, Role: &role, Disabled: &f.Disabled}
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
	// A change the rules refuse (the last administrator's role) is refused before the
	// password typed with it is checked, or asked for.
	if err := s.svc.CheckUserChanges(r.Context(), id, u.ID, f.changes()); err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	saved, err := s.svc.UpdateUser(r.Context(), id, u.ID, f.changes())
	if err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	s.flash(w, r, id, backend.UserUpdatedNotice(saved))
	http.Redirect(w, r, userPath(saved), http.StatusSeeOther)
}

// The administrator's forms that may need their password (see backend's requireAdminConfirmed)
// ask for it on the form itself when it is due (reauthField), and show the form again, with
// the field, when the confirmation lapsed meanwhile.

func (s *Server) showEditUser(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, f editUserForm, status int, msg string) {
	s.render(w, r, status, editUserView(adminPage(id, "Edit "+u.Name(), "users"), u, f, s.svc.UserActions(id, u), s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) showSetPassword(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, mustChange bool, status int, msg string) {
	a, _ := s.svc.UserAction(id, u, backend.ActionSetPassword)
	s.render(w, r, status, setPasswordView(adminPage(id, a.Label, "users"), u, a, mustChange, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) showAction(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, key backend.ActionKey, status int, msg string) {
	a, _ := s.svc.UserAction(id, u, key)
	s.render(w, r, status, confirmActionView(adminPage(id, a.Label, "users"), u, a, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) setPasswordPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if u := s.targetUser(w, r, id); u != nil {
		s.showSetPassword(w, r, id, u, backend.SetPasswordMustChange, http.StatusOK, "")
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
	s.changed(w, r, id, u, backend.ActionSetPassword)
}

// twoFactorChanges are the administrator's Two-Factor changes to a user, each confirmed first:
// in a <dialog> on the edit page with JavaScript, on a page of its own without, at
// /admin/users/{id}/{action key}. What each is called, says and needs is backend's
// (Service.UserAction); this is only which Service method runs it.
var twoFactorChanges = map[backend.ActionKey]func(s *backend.Service, r *http.Request, id *backend.Identity, userID int64) (*backend.User, error){
	backend.ActionRequireTwoFactor: func(s *backend.Service, r *http.Request, id *backend.Identity, uid int64) (*backend.User, error) {
		return s.RequireTwoFactor(r.Context(), id, uid)
	},
	backend.ActionDisableTwoFactor: func(s *backend.Service, r *http.Request, id *backend.Identity, uid int64) (*backend.User, error) {
		return s.DisableTwoFactor(r.Context(), id, uid)
	},
	backend.ActionResetTwoFactor: func(s *backend.Service, r *http.Request, id *backend.Identity, uid int64) (*backend.User, error) {
		return s.ResetTwoFactor(r.Context(), id, uid)
	},
}

// confirmable reports whether a is one of the actions confirmed in a dialog (twoFactorChanges).
func confirmable(a backend.Action) bool {
	_, ok := twoFactorChanges[a.Key]
	return ok
}

func (s *Server) twoFactorActionPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	key := backend.ActionKey(r.PathValue("action"))
	if _, ok := twoFactorChanges[key]; !ok {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
		return
	}
	if u := s.targetUser(w, r, id); u != nil {
		s.showAction(w, r, id, u, key, http.StatusOK, "")
	}
}

func (s *Server) twoFactorActionSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	key := backend.ActionKey(r.PathValue("action"))
	change, ok := twoFactorChanges[key]
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
		return
	}
	u := s.targetUser(w, r, id)
	if u == nil {
		return
	}
	again := func(status int, msg string) { s.showAction(w, r, id, u, key, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	if _, err := change(s.svc, r, id, u.ID); backend.ErrorCode(err) == backend.EREAUTH {
		again(statusOf(err), s.message(r, err))
		return
	} else if err != nil {
		s.failTo(w, r, err, userBack(u))
		return
	}
	s.changed(w, r, id, u, key)
}

// auditQuery is the audit log's filter and page, as in its URL.
type auditQuery struct {
	Action string // the key of one of backend.AuditKinds ("" for all)
	User   string
	Page   int
}

func (q auditQuery) url(page int) string {
	return listURL("/admin/audit", page, "action", q.Action, "user", q.User)
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	q := auditQuery{Action: r.URL.Query().Get("action"), User: strings.TrimSpace(r.URL.Query().Get("user")), Page: pageNumber(r.URL.Query().Get("page"))}
	known := false
	for _, a := range backend.AuditKinds {
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
