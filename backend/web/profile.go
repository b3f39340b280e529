package web

import (
	"fmt"
	"net/http"

	"gatehouse/backend"
)

// profileNotices are the status bar messages of the profile page; the query names one.
var profileNotices = map[string]string{
	"disabled": "Two-Factor Authentication is turned off for your account. Your other sessions have ended.",
	"password": "Your password has been changed. Your other sessions have ended.",
}

func (s *Server) profilePage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	left := 0
	if id.User.Enrolled() {
		var err error
		if left, err = s.svc.RecoveryCodesLeft(r.Context(), id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := pageFor(id, "Profile", "profile")
	notice := r.URL.Query().Get("notice")
	p.Notice = profileNotices[notice]
	if notice == "recovery" && id.User.Enrolled() {
		p.Notice = recoveryCodeUsedNotice(left)
	}
	s.render(w, r, http.StatusOK, profileView(p, id.User, left))
}

// recoveryCodeUsedNotice is the status bar after a login with a recovery code: how many are
// left, and what to do about it.
func recoveryCodeUsedNotice(left int) string {
	switch left {
	case 0:
		return "You used your last recovery code. Regenerate recovery codes now: without them, a lost phone locks you out."
	case 1:
		return "You used a recovery code to log in. 1 recovery code left: regenerate recovery codes below for a new set, and if you lost your phone, set up Two-Factor again."
	}
	return fmt.Sprintf("You used a recovery code to log in. %d recovery codes left: regenerate recovery codes below for a new set, and if you lost your phone, set up Two-Factor again.", left)
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
	default:
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
	}
}

func (s *Server) disableOwnPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if !id.User.Enrolled() {
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, disableOwnView(pageFor(id, "Disable Two-Factor", "profile"), id.User))
}

func (s *Server) disableOwnSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	err := s.svc.DisableOwnTwoFactor(r.Context(), id)
	if backend.ErrorCode(err) == backend.EREAUTH {
		s.render(w, r, http.StatusForbidden, confirmPasswordView(pageFor(id, "Confirm your password", "profile"), actionDisable, ""))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/profile?notice=disabled", http.StatusSeeOther)
}

func (s *Server) regeneratePage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if !id.User.Enrolled() {
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, regenerateView(pageFor(id, "Regenerate recovery codes", "profile")))
}

func (s *Server) regenerateSubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	codes, err := s.svc.RegenerateRecoveryCodes(r.Context(), id)
	if backend.ErrorCode(err) == backend.EREAUTH {
		s.render(w, r, http.StatusForbidden, confirmPasswordView(pageFor(id, "Confirm your password", "profile"), actionRegenerate, ""))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sheets.put(tokenKey(cookieValue(r, s.sessionCk)), codeSheet{Username: id.User.Username, Codes: codes}, s.now())
	http.Redirect(w, r, "/recovery-codes", http.StatusSeeOther)
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
	http.Redirect(w, r, "/profile?notice=password", http.StatusSeeOther)
}
