package web

import (
	"net/http"

	"gatehouse/backend"
)

// firstAdminForm is the form that creates the first administrator, as typed.
type firstAdminForm struct {
	Username, Name, Email string
}

func (s *Server) setupGone(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "Link not valid",
		"This setup link is not valid: it was used already, has expired (links last 1 hour), or was replaced by a newer one. "+
			"Restart the server for a new link, or run, with your own username and password: "+firstAdminCommand)
}

func (s *Server) firstAdminPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if !s.setup.valid(token, s.now()) {
		s.setupGone(w, r)
		return
	}
	s.render(w, r, http.StatusOK, firstAdminView(page{Title: "Create the first administrator"}, token, firstAdminForm{}, ""))
}

func (s *Server) firstAdminSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	f := firstAdminForm{Username: r.PostFormValue("username"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	var err error
	ok := s.setup.use(token, s.now(), func() bool {
		_, err = s.svc.CreateFirstAdmin(r.Context(), backend.NewUser{
			Username: f.Username, DisplayName: f.Name, Email: f.Email, Password: r.PostFormValue("password"),
		})
		// An administrator exists either way once CreateFirstAdmin says ECONFLICT.
		return err == nil || backend.ErrorCode(err) == backend.ECONFLICT
	})
	switch {
	case !ok:
		s.setupGone(w, r)
	case err != nil:
		s.render(w, r, statusOf(err), firstAdminView(page{Title: "Create the first administrator"}, token, f, s.message(r, err)))
	default:
		http.Redirect(w, r, "/login?notice=created", http.StatusSeeOther)
	}
}
