package web

import (
	"errors"
	"net/http"

	"gatehouse/backend"
)

// firstAdminForm is the form that creates the first administrator, as typed.
type firstAdminForm struct {
	Username, Name, Email string
}

func (s *Server) setupGone(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, setupGoneView(page{Title: "Link not valid"}, s.firstAdmin))
}

func (s *Server) firstAdminPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if ok, err := s.svc.SetupLinkValid(r.Context(), token); err != nil {
		s.fail(w, r, err)
		return
	} else if !ok {
		s.setupGone(w, r)
		return
	}
	s.render(w, r, http.StatusOK, firstAdminView(page{Title: "Create the first administrator"}, token, firstAdminForm{}, ""))
}

// passwordsDiffer is the first-administrator form's answer when the two password fields differ.
const passwordsDiffer = "Password and Confirm password do not match. Type the same password in both; no administrator was created."

func (s *Server) firstAdminSubmit(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	f := firstAdminForm{Username: r.PostFormValue("username"), Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	pw := r.PostFormValue("password")
	// A typo in the only administrator's password would lock everyone out: the two fields
	// must match before anything is created, and the link stays valid for another try.
	if pw != r.PostFormValue("confirm_password") {
		if ok, err := s.svc.SetupLinkValid(r.Context(), token); err != nil {
			s.fail(w, r, err)
			return
		} else if !ok {
			s.setupGone(w, r)
			return
		}
		markFields(r.Context(), backend.FieldConfirmPassword)
		s.render(w, r, http.StatusBadRequest, firstAdminView(page{Title: "Create the first administrator"}, token, f, passwordsDiffer))
		return
	}
	u, err := s.svc.CreateFirstAdminByLink(r.Context(), token, backend.NewUser{
		Username: f.Username, DisplayName: f.Name, Email: f.Email, Password: pw,
	})
	switch {
	case errors.Is(err, backend.ErrSetupLinkInvalid), backend.ErrorCode(err) == backend.ECONFLICT:
		s.setupGone(w, r)
	case err != nil:
		s.render(w, r, statusOf(err), firstAdminView(page{Title: "Create the first administrator"}, token, f, s.message(r, err)))
	default:
		s.flash(w, r, nil, backend.FirstAdminCreatedNotice(u))
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
}
