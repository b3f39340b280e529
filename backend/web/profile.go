package web

import (
	"net/http"

	"gatehouse/backend"
)

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	left := 0
	if id.User.Enrolled() {
		var err error
		if left, err = s.svc.RecoveryCodesLeft(r.Context(), id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	keys, err := s.svc.OwnKeys(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	refusal, err := s.svc.AddKeyRefusal(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := pageFor(id, "Profile", "profile")
	s.render(w, r, http.StatusOK, profileView(p, id.User, s.svc.ProfileActions(id), left, keys, refusal))
}

// Actions that need the password again. The confirmation form names one, and runs it once the
// password is confirmed, so the person clicks once and types the password once.
const (
	actionApp        = "app"
	actionSMS        = "sms"         // "Use SMS"
	actionSMSRestart = "sms-restart" // a new Authorization Code
	actionSMSConfirm = "sms-confirm" // "Confirm" the number the text came from
	actionRegenerate = "regenerate"
	actionDisable    = "disable"
)

// upfrontPassword is the name of the password field on the form of a two-factor change itself,
// shown when the session has not confirmed the password lately, so that one click does the
// change. It is not the confirmation page's "password": the action that page runs must not
// check the password a second time.
const upfrontPassword = "current_password"

// passwordFirst confirms the password typed on the form of the change, if there is one. It
// reports false after answering the request itself: again shows that form with the error.
// Without the field (the page was shown when no password was due, or at login) the action
// runs, and asks for the password if it is due by now (askPassword).
func (s *Server) passwordFirst(w http.ResponseWriter, r *http.Request, id *backend.Identity, again func(status int, msg string)) bool {
	pw := r.PostFormValue(upfrontPassword)
	if pw == "" || !id.SignedIn() {
		return true
	}
	if err := s.svc.ConfirmPassword(r.Context(), id, pw); err != nil {
		again(statusOf(err), s.message(r, err))
		return false
	}
	return true
}

// askPassword answers an action refused with EREAUTH (the confirmation lapsed while the person
// was on its page) with the password prompt, a normal step: once the password is confirmed,
// the action runs.
func (s *Server) askPassword(w http.ResponseWriter, r *http.Request, p page, action string) {
	p.Title = "Confirm your password"
	s.render(w, r, http.StatusOK, confirmPasswordView(p, action, ""))
}

func (s *Server) confirmPasswordSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	action := r.PostFormValue("action")
	p := pageFor(id, "Confirm your password", "profile")
	if err := s.svc.ConfirmPassword(r.Context(), id, r.PostFormValue("password")); err != nil {
		s.render(w, r, statusOf(err), confirmPasswordView(p, action, s.message(r, err)))
		return
	}
	switch action {
	case actionApp:
		s.profileEnrolling(s.beginApp)(w, r, id)
	case actionSMS:
		s.profileEnrolling(s.beginSMS(false))(w, r, id)
	case actionSMSRestart:
		s.profileEnrolling(s.beginSMS(true))(w, r, id)
	case actionSMSConfirm:
		s.profileEnrolling(s.confirmSMS)(w, r, id)
	case actionRegenerate:
		s.regenerateSubmit(w, r, id)
	case actionDisable:
		s.disableOwnSubmit(w, r, id)
	case actionKey:
		http.Redirect(w, r, "/profile/two-factor/key", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
	}
}

func (s *Server) disableOwnPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if _, offered := backend.ProfileAction(id.User, backend.ActionDisableOwnTwoFactor); !offered {
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	s.showDisableOwn(w, r, id, http.StatusOK, "")
}

func (s *Server) showDisableOwn(w http.ResponseWriter, r *http.Request, id *backend.Identity, status int, msg string) {
	a, _ := backend.ProfileAction(id.User, backend.ActionDisableOwnTwoFactor)
	s.render(w, r, status, confirmOwnView(pageFor(id, a.Label, "profile"), a, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) disableOwnSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if !s.passwordFirst(w, r, id, func(status int, msg string) { s.showDisableOwn(w, r, id, status, msg) }) {
		return
	}
	err := s.svc.DisableOwnTwoFactor(r.Context(), id)
	if backend.ErrorCode(err) == backend.EREAUTH {
		s.askPassword(w, r, pageFor(id, "", "profile"), actionDisable)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.profileChanged(w, r, id, backend.ActionDisableOwnTwoFactor, "/profile")
}

func (s *Server) regeneratePage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if _, offered := backend.ProfileAction(id.User, backend.ActionRegenerateRecoveryCodes); !offered {
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	s.showRegenerate(w, r, id, http.StatusOK, "")
}

func (s *Server) showRegenerate(w http.ResponseWriter, r *http.Request, id *backend.Identity, status int, msg string) {
	a, _ := backend.ProfileAction(id.User, backend.ActionRegenerateRecoveryCodes)
	s.render(w, r, status, confirmOwnView(pageFor(id, a.Label, "profile"), a, s.svc.NeedsPasswordConfirmation(id), msg))
}

func (s *Server) regenerateSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if !s.passwordFirst(w, r, id, func(status int, msg string) { s.showRegenerate(w, r, id, status, msg) }) {
		return
	}
	_, err := s.svc.RegenerateRecoveryCodes(r.Context(), id)
	if backend.ErrorCode(err) == backend.EREAUTH {
		s.askPassword(w, r, pageFor(id, "", "profile"), actionRegenerate)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	// The codes page shows no status bar: the sentence waits for the Profile after it.
	s.profileChanged(w, r, id, backend.ActionRegenerateRecoveryCodes, "/recovery-codes")
}

func (s *Server) changePasswordPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	s.render(w, r, http.StatusOK, changePasswordView(pageFor(id, "Change password", "profile"), ""))
}

func (s *Server) changePasswordSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	pw := r.PostFormValue("new_password")
	err := samePasswords(pw, r.PostFormValue("confirm_password"))
	if err == nil {
		err = s.svc.ChangePassword(r.Context(), id, r.PostFormValue("current_password"), pw)
	}
	if err != nil {
		s.render(w, r, statusOf(err), changePasswordView(pageFor(id, "Change password", "profile"), s.message(r, err)))
		return
	}
	s.profileChanged(w, r, id, backend.ActionChangePassword, "/profile")
}

// profileChanged answers one of the profile's actions that succeeded: the status bar says so
// (the flash of its Done) on the page at to.
func (s *Server) profileChanged(w http.ResponseWriter, r *http.Request, id *backend.Identity, key backend.ActionKey, to string) {
	a, _ := backend.ProfileAction(id.User, key)
	s.flash(w, r, id, a.Done)
	http.Redirect(w, r, to, http.StatusSeeOther)
}
