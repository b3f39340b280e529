package web

import (
	"net/http"
	"strconv"

	"gatehouse/backend"
)

// The Administration → Applications pages: the list, "New Application", an application's page,
// "Edit this Application", and the confirmations of "Regenerate secret" and "Delete". Every
// rule is backend's (backend/application.go); these pages only show its words and forms.

// appRoutes registers the Applications pages on mux; the forms that may carry the
// administrator's password are limited like the other administrators' forms.
func (s *Server) appRoutes(mux *http.ServeMux, limited func(http.HandlerFunc) http.Handler) {
	mux.HandleFunc("GET /admin/apps", s.admin(s.appsPage))
	mux.HandleFunc("GET /admin/apps/new", s.admin(s.newAppPage))
	mux.Handle("POST /admin/apps/new", limited(s.admin(s.newAppSubmit)))
	mux.HandleFunc("GET /admin/apps/{id}", s.admin(s.applicationPage))
	mux.HandleFunc("GET /admin/apps/{id}/edit", s.admin(s.editAppPage))
	mux.Handle("POST /admin/apps/{id}/edit", limited(s.admin(s.editAppSubmit)))
	mux.HandleFunc("GET /admin/apps/{id}/secret", s.admin(s.appActionPage("secret")))
	mux.Handle("POST /admin/apps/{id}/secret", limited(s.admin(s.appSecretSubmit)))
	mux.HandleFunc("GET /admin/apps/{id}/delete", s.admin(s.appActionPage("delete")))
	mux.Handle("POST /admin/apps/{id}/delete", limited(s.admin(s.appDeleteSubmit)))
}

// appsBack leads back to the application list.
var appsBack = backLink{URL: "/admin/apps", Label: "Back to Applications", Section: "apps"}

// appForm is the new or edit form as typed.
type appForm struct {
	Name, RedirectURIs, Domains, Audience, BackchannelLogoutURI string
	RequireTwoFactor, Public                                    bool
}

// readAppForm reads the form of r.
func readAppForm(r *http.Request) appForm {
	return appForm{
		Name: r.PostFormValue("name"), RedirectURIs: r.PostFormValue("redirect_uris"), Domains: r.PostFormValue("domains"),
		Audience: r.PostFormValue("audience"), BackchannelLogoutURI: r.PostFormValue("backchannel_logout_uri"),
		RequireTwoFactor: r.PostFormValue("require_two_factor") == "yes", Public: r.PostFormValue("type") == "public",
	}
}

// changes is the edit form as the Service takes it.
func (f appForm) changes() backend.AppChanges {
	uris, aud := backend.ParseURIList(f.RedirectURIs), backend.AppAudience(f.Audience)
	domains := backend.ParseURIList(f.Domains)
	return backend.AppChanges{Name: &f.Name, RedirectURIs: &uris, Domains: &domains, Audience: &aud,
		RequireTwoFactor: &f.RequireTwoFactor, BackchannelLogoutURI: &f.BackchannelLogoutURI}
}

func (s *Server) appsPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	pg := pageNumber(r.URL.Query().Get("page"))
	res, err := s.svc.Apps(r.Context(), id, backend.AppFilter{Offset: (pg - 1) * usersPerPage, Limit: usersPerPage})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	url := func(page int) string { return listURL("/admin/apps", page) }
	if last := pagination(0, usersPerPage, res.Total).Last; pg > last {
		http.Redirect(w, r, url(last), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, appsView(adminPage(id, "Applications", "apps"), res, url))
}

func (s *Server) newAppPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	f := appForm{Audience: string(backend.AudienceEveryone)}
	s.render(w, r, http.StatusOK, newAppView(adminPage(id, "New Application", "apps"), f, s.svc.NeedsPasswordConfirmation(id), ""))
}

func (s *Server) newAppSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	f := readAppForm(r)
	again := func(status int, msg string) {
		s.render(w, r, status, newAppView(adminPage(id, "New Application", "apps"), f, s.svc.NeedsPasswordConfirmation(id), msg))
	}
	na := backend.NewApp{Name: f.Name, RedirectURIs: backend.ParseURIList(f.RedirectURIs), Domains: backend.ParseURIList(f.Domains), Public: f.Public,
		Audience: backend.AppAudience(f.Audience), RequireTwoFactor: f.RequireTwoFactor, BackchannelLogoutURI: f.BackchannelLogoutURI}
	// The form's mistakes before the password typed with it is checked.
	if err := backend.CheckNewApp(na); err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	a, secret, err := s.svc.CreateApp(r.Context(), id, na)
	if err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	if secret == "" {
		s.flash(w, r, id, backend.AppCreatedNotice(a))
		http.Redirect(w, r, string(appURL(a, "")), http.StatusSeeOther)
		return
	}
	s.showSecret(w, r, id, a, secret, backend.AppCreatedNotice(a))
}

// showSecret answers the post that made a client secret with the page that shows it, the
// only time: no redirect, so that the secret is kept nowhere for a later page (every page is
// no-store), and a reload shows the page the post came from, without it (data-reload).
func (s *Server) showSecret(w http.ResponseWriter, r *http.Request, id *backend.Identity, a *backend.App, secret, notice string) {
	p := adminPage(id, "Client secret of "+a.Name, "apps")
	p.Notice = notice
	s.render(w, r, http.StatusOK, appSecretView(p, a, secret))
}

// targetApp loads the application named by the {id} in the path, or answers "Not found".
func (s *Server) targetApp(w http.ResponseWriter, r *http.Request, id *backend.Identity) *backend.App {
	appID, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPageTo(w, r, http.StatusNotFound, "Not found", "There is no such application.", appsBack)
		return nil
	}
	a, err := s.svc.App(r.Context(), id, appID)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		s.errorPageTo(w, r, http.StatusNotFound, "Not found", "There is no such application.", appsBack)
		return nil
	} else if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return a
}

func (s *Server) applicationPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a := s.targetApp(w, r, id)
	if a == nil {
		return
	}
	st, err := s.svc.AppLogoutStatus(r.Context(), id, a.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, appView(adminPage(id, a.Name, "apps"), a, st.Text(a), s.svc.NeedsPasswordConfirmation(id)))
}

func (s *Server) editAppPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a := s.targetApp(w, r, id)
	if a == nil {
		return
	}
	f := appForm{Name: a.Name, RedirectURIs: uriLines(a.RedirectURIs), Domains: uriLines(a.Domains), Audience: string(a.Audience),
		BackchannelLogoutURI: a.BackchannelLogoutURI, RequireTwoFactor: a.RequireTwoFactor, Public: a.Public}
	s.render(w, r, http.StatusOK, editAppView(adminPage(id, "Edit "+a.Name, "apps"), a, f, s.svc.NeedsPasswordConfirmation(id), ""))
}

func (s *Server) editAppSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a := s.targetApp(w, r, id)
	if a == nil {
		return
	}
	f := readAppForm(r)
	again := func(status int, msg string) {
		s.render(w, r, status, editAppView(adminPage(id, "Edit "+a.Name, "apps"), a, f, s.svc.NeedsPasswordConfirmation(id), msg))
	}
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	saved, err := s.svc.UpdateApp(r.Context(), id, a.ID, f.changes())
	if err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	s.flash(w, r, id, backend.AppUpdatedNotice(saved))
	http.Redirect(w, r, string(appURL(saved, "")), http.StatusSeeOther)
}

// appActions are the confirmed actions on an application: their button and sentence.
var appActions = map[string]struct {
	label    string
	danger   bool
	sentence func(*backend.App) string
}{
	"secret": {"Regenerate secret", false, backend.RegenerateSecretConfirmation},
	"delete": {"Delete", true, backend.DeleteAppConfirmation},
}

func (s *Server) showAppAction(w http.ResponseWriter, r *http.Request, id *backend.Identity, a *backend.App, action string, status int, msg string) {
	c := appActions[action]
	s.render(w, r, status, appConfirmView(adminPage(id, c.label, "apps"), a, action, c.label, c.sentence(a), c.danger, s.svc.NeedsPasswordConfirmation(id), msg))
}

// appActionPage is the confirmation of action without JavaScript.
func (s *Server) appActionPage(action string) authHandler {
	return func(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
		if a := s.targetApp(w, r, id); a != nil {
			s.showAppAction(w, r, id, a, action, http.StatusOK, "")
		}
	}
}

func (s *Server) appSecretSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a := s.targetApp(w, r, id)
	if a == nil {
		return
	}
	again := func(status int, msg string) { s.showAppAction(w, r, id, a, "secret", status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	a, secret, err := s.svc.RegenerateAppSecret(r.Context(), id, a.ID)
	if err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	s.showSecret(w, r, id, a, secret, backend.AppSecretRegeneratedNotice(a))
}

func (s *Server) appDeleteSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	a := s.targetApp(w, r, id)
	if a == nil {
		return
	}
	again := func(status int, msg string) { s.showAppAction(w, r, id, a, "delete", status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	if _, err := s.svc.DeleteApp(r.Context(), id, a.ID); err != nil {
		again(statusOf(err), s.message(r, err))
		return
	}
	s.flash(w, r, id, backend.AppDeletedNotice(a))
	http.Redirect(w, r, "/admin/apps", http.StatusSeeOther)
}
