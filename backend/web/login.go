package web

import (
	"errors"
	"net/http"

	"gatehouse/backend"
)

// home sends a signed-in user to their profile and anyone else to the login page.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	id, _, err := s.sessionOf(r) // an ended session's cookie stays for the login page to say so
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if id == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	// A login that ends here may have begun at an application (an OpenID Connect sign-in or
	// a page behind forward-auth): back to it, once.
	if u := s.resumeURL(r, id); u != "" {
		http.Redirect(w, r, u, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	id, ended, err := s.sessionOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resume := r.URL.Query().Get("resume")
	rd := r.URL.Query().Get("rd")
	if id != nil && resume == "" {
		if rd != "" {
			s.forwardReturn(w, r, id, rd)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if resume != "" {
		// A sign-in to an application sent the person here: a new login, whatever was begun
		// before (a login of someone signed in is the step-up to the second factor an
		// application requires).
		s.showLogin(w, r, http.StatusOK, page{Title: "Log in"}, r.URL.Query().Get("username"), "")
		return
	}
	r = viewedBy(r, nil) // the flash of "Log out" or of the first administrator shows here
	p := page{Title: "Log in"}
	if ended {
		// The browser's own session cookie names a session that has ended: say so, once.
		s.clearCookie(w, s.sessionCk)
		p.Notice = backend.SessionEndedNotice
	}
	// Someone part-way through a login (the logo, or /login typed) is offered to go on where
	// they were, or to start over; an empty form would hide that the login still waits.
	if token := cookieValue(r, s.attemptCk); token != "" {
		st, err := s.svc.ResumeLogin(r.Context(), token)
		switch {
		case backend.ErrorCode(err) == backend.EUNAUTHORIZED:
			s.clearCookie(w, s.attemptCk)
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			p.InLogin = true
			s.render(w, r, http.StatusOK, continueLoginView(p, st.User, st.Step, stepPath(st.Step)))
			return
		}
	}
	s.showLoginReturning(w, r, http.StatusOK, p, "", "", s.checkedReturn(r, rd))
}

// showLogin renders the login form; on a System without an administrator it says how to
// create the first one.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, p page, username, msg string) {
	s.showLoginReturning(w, r, status, p, username, msg, "")
}

// showLoginReturning is showLogin with the protected page (rd, checked) the form carries.
func (s *Server) showLoginReturning(w http.ResponseWriter, r *http.Request, status int, p page, username, msg, rd string) {
	noAdmin, err := s.svc.NeedsFirstAdmin(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, loginView(p, loginForm{Username: username, NoAdmin: noAdmin, FirstAdmin: s.firstAdmin,
		Resume: r.FormValue("resume"), Return: rd}, msg))
}

// busyRetryAfter is the Retry-After, in seconds, of a login refused because the System is busy
// (backend.ErrBusy): about what the queue it did not join takes to drain.
const busyRetryAfter = "2"

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	rd := s.checkedReturn(r, r.PostFormValue("rd"))
	st, err := s.svc.Login(r.Context(), username, password)
	if err != nil {
		if errors.Is(err, backend.ErrBusy) {
			w.Header().Set("Retry-After", busyRetryAfter)
		}
		s.showLoginReturning(w, r, statusOf(err), page{Title: "Log in"}, username, s.message(r, err), rd)
		return
	}
	// What sent the person here (an application's sign-in, the form's resume; or a protected
	// page, its rd) goes on with this login, in the store (backend.KeepResume).
	resume := backend.LoginResume{AuthRequestID: r.PostFormValue("resume"), URL: rd}
	if err := s.svc.KeepResume(r.Context(), st, resume); err != nil {
		// The login stands; only the way back is lost.
		s.log.Error("keep what the login resumes", "err", err)
	} else if resume.AuthRequestID != "" || resume.URL != "" {
		// A new login for an application (the step-up to a second factor it requires)
		// replaces the session the browser held, which was proven with less: it ends once
		// the password is accepted.
		s.endReplacedSession(r)
	}
	// A login started over leaves the previous attempt (if any) behind: end it.
	if old := cookieValue(r, s.attemptCk); old != "" {
		s.svc.CancelLogin(r.Context(), old)
	}
	s.advance(w, r, st)
}

// loginExpired shows the login page after a login attempt that is gone (expired, used up or
// cancelled), and forgets its cookie.
func (s *Server) loginExpired(w http.ResponseWriter, r *http.Request, err error) {
	s.clearCookie(w, s.attemptCk)
	s.showLogin(w, r, http.StatusUnauthorized, page{Title: "Log in"}, "", s.message(r, err))
}

// attemptAt returns the login in progress if it waits for step. Otherwise it answers the
// request itself (the login page, or a redirect to the step the login is at) and returns nil.
func (s *Server) attemptAt(w http.ResponseWriter, r *http.Request, step backend.LoginStep) *backend.LoginState {
	st, err := s.svc.ResumeLogin(r.Context(), cookieValue(r, s.attemptCk))
	switch {
	case backend.ErrorCode(err) == backend.EUNAUTHORIZED:
		s.loginExpired(w, r, err)
		return nil
	case err != nil:
		s.fail(w, r, err)
		return nil
	case st.Step != step:
		http.Redirect(w, r, stepPath(st.Step), http.StatusSeeOther)
		return nil
	}
	return st
}

func loginPage(title string) page { return page{Title: title, InLogin: true} }

func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	if st := s.attemptAt(w, r, backend.StepVerify); st != nil {
		if s.keyFirst(w, r, st.User) {
			return
		}
		if st.User.Method == backend.MethodSMS {
			s.verifySMSPage(w, r, st.User, http.StatusOK, "")
			return
		}
		s.render(w, r, http.StatusOK, verifyView(loginPage("Two-Factor Authentication"), st.User, s.codeStepKeyLink(r), ""))
	}
}

// codeStepKeyLink is the code step's link back to the key step, for a login whose user has
// keys beside their app or SMS ("" if not, or if that cannot be read: the link is a shortcut).
func (s *Server) codeStepKeyLink(r *http.Request) string {
	has, err := s.svc.LoginHasKeys(r.Context(), cookieValue(r, s.attemptCk))
	return backend.CodeStepKeyLink(err == nil && has)
}

func (s *Server) recoveryPage(w http.ResponseWriter, r *http.Request) {
	if st := s.attemptAt(w, r, backend.StepVerify); st != nil {
		s.render(w, r, http.StatusOK, recoveryView(loginPage("Use a recovery code"), st.User, ""))
	}
}

func (s *Server) verifySubmit(w http.ResponseWriter, r *http.Request) {
	token := cookieValue(r, s.attemptCk)
	st, err := s.svc.VerifyTOTP(r.Context(), token, r.PostFormValue("code"))
	if err != nil {
		s.stepFailed(w, r, err, func(u *backend.User, msg string) {
			if u.Method == backend.MethodSMS {
				s.verifySMSPage(w, r, u, statusOf(err), msg)
				return
			}
			s.render(w, r, statusOf(err), verifyView(loginPage("Two-Factor Authentication"), u, s.codeStepKeyLink(r), msg))
		})
		return
	}
	s.advance(w, r, st)
}

func (s *Server) recoverySubmit(w http.ResponseWriter, r *http.Request) {
	token := cookieValue(r, s.attemptCk)
	st, err := s.svc.VerifyRecoveryCode(r.Context(), token, r.PostFormValue("code"))
	if err != nil {
		s.stepFailed(w, r, err, func(u *backend.User, msg string) {
			s.render(w, r, statusOf(err), recoveryView(loginPage("Use a recovery code"), u, msg))
		})
		return
	}
	if st.Step == backend.StepDone {
		// Someone who needed a recovery code may have lost their phone, and has one code
		// fewer: the profile says how many are left and how to get new ones.
		s.storeLoginState(w, st)
		next := "/profile"
		if id, err := s.svc.Authenticate(r.Context(), st.SessionToken); err == nil {
			if left, err := s.svc.RecoveryCodesLeft(r.Context(), id); err == nil {
				s.flash(w, r, id, backend.RecoveryCodeUsedNotice(left, id.User.Method))
			}
			if u := s.resumeURL(r, id); u != "" {
				next = u
			}
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.advance(w, r, st)
}

// stepFailed answers a login step that failed: the same form again with the message if the
// login goes on, or the login page if the attempt has ended (an expired attempt and a wrong code
// are both EUNAUTHORIZED; asking again tells them apart).
func (s *Server) stepFailed(w http.ResponseWriter, r *http.Request, err error, again func(u *backend.User, msg string)) {
	st, rerr := s.svc.ResumeLogin(r.Context(), cookieValue(r, s.attemptCk))
	switch {
	case backend.ErrorCode(rerr) == backend.EUNAUTHORIZED:
		s.loginExpired(w, r, rerr)
	case rerr != nil:
		s.fail(w, r, rerr)
	default:
		again(st.User, s.message(r, err))
	}
}

func (s *Server) expiredPasswordPage(w http.ResponseWriter, r *http.Request) {
	if st := s.attemptAt(w, r, backend.StepChangePassword); st != nil {
		s.render(w, r, http.StatusOK, expiredPasswordView(loginPage("Choose a new password"), st.User, ""))
	}
}

func (s *Server) expiredPasswordSubmit(w http.ResponseWriter, r *http.Request) {
	pw, again := r.PostFormValue("new_password"), r.PostFormValue("confirm_password")
	var st *backend.LoginState
	err := samePasswords(pw, again)
	if err == nil {
		st, err = s.svc.ChangeExpiredPassword(r.Context(), cookieValue(r, s.attemptCk), pw)
	}
	if err != nil {
		s.stepFailed(w, r, err, func(u *backend.User, msg string) {
			s.render(w, r, statusOf(err), expiredPasswordView(loginPage("Choose a new password"), u, msg))
		})
		return
	}
	s.advance(w, r, st)
}

// samePasswords checks the "Confirm new password" field, the one check that is the form's own.
func samePasswords(pw, again string) error {
	if pw != again {
		return backend.WithFields(backend.Errorf(backend.EINVALID, "The two new passwords do not match. Type the same password in both fields."), backend.FieldConfirmPassword)
	}
	return nil
}

// cancelLogin is "Log out" during a login: the attempt ends.
func (s *Server) cancelLogin(w http.ResponseWriter, r *http.Request) {
	if token := cookieValue(r, s.attemptCk); token != "" {
		if err := s.svc.CancelLogin(r.Context(), token); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.clearCookie(w, s.attemptCk)
	if r.PostFormValue("restart") != "" { // "Log in as someone else": straight to an empty form
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.flash(w, r, nil, backend.LoggedOutNotice)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// logout ends the session (and a login in progress, if any).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if token := cookieValue(r, s.sessionCk); token != "" {
		id, err := s.svc.Authenticate(r.Context(), token)
		if err == nil {
			err = s.svc.Logout(r.Context(), id)
		}
		if err != nil && backend.ErrorCode(err) != backend.EUNAUTHORIZED {
			s.fail(w, r, err)
			return
		}
	}
	s.clearCookie(w, s.sessionCk)
	s.cancelLogin(w, r)
}

// endReplacedSession ends the session the browser held before a login that replaces it.
func (s *Server) endReplacedSession(r *http.Request) {
	token := cookieValue(r, s.sessionCk)
	if token == "" {
		return
	}
	if id, err := s.svc.Authenticate(r.Context(), token); err == nil {
		if err := s.svc.Logout(r.Context(), id); err != nil {
			s.log.Error("end replaced session", "err", err)
		}
	}
}
