package web

import (
	"fmt"
	"net/http"

	"gatehouse/backend"
)

// enrollment is a two-factor setup in progress, from the profile ("Setup Two-Factor") or forced
// at login. The pages are the same; base is where they live.
type enrollment struct {
	id    *backend.Identity
	base  string // "/profile/two-factor" or "/login/enroll"
	page  page
	login bool // enrolling upon login: required by an administrator, no way around it
}

type enrollHandler func(w http.ResponseWriter, r *http.Request, e *enrollment)

// enrolling runs h for a login that waits at the enroll step.
func (s *Server) enrolling(h enrollHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.svc.EnrollmentIdentity(r.Context(), cookieValue(r, s.attemptCk))
		switch backend.ErrorCode(err) {
		case "":
		case backend.ECONFLICT: // the login is at another step
			if st := s.attemptAt(w, r, backend.StepEnroll); st != nil {
				s.fail(w, r, err)
			}
			return
		case backend.EUNAUTHORIZED:
			s.loginExpired(w, r, err)
			return
		default:
			s.fail(w, r, err)
			return
		}
		h(w, r, &enrollment{id: id, base: "/login/enroll", page: loginPage("Setup Two-Factor"), login: true})
	}
}

// profileEnrolling runs h for a signed-in user. A user who has two-factor already may set it up
// again ("Setup Two-Factor" from the profile): that is how the SMS phone changes, or the method;
// the new setup replaces the old one, and its recovery codes, only once it is confirmed.
func (s *Server) profileEnrolling(h enrollHandler) authHandler {
	return func(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
		h(w, r, &enrollment{id: id, base: "/profile/two-factor", page: pageFor(id, "Setup Two-Factor", "profile")})
	}
}

// setupChoicePage offers the two methods: green "Use an App", blue "Use SMS".
func (s *Server) setupChoicePage(w http.ResponseWriter, r *http.Request, e *enrollment) {
	s.showChoice(w, r, e, http.StatusOK, "")
}

func (s *Server) showChoice(w http.ResponseWriter, r *http.Request, e *enrollment, status int, msg string) {
	var current *backend.User
	if !e.login && e.id.User.Enrolled() {
		current = e.id.User
	}
	// Upon login the password was given moments ago: no field.
	ask := !e.login && s.svc.NeedsPasswordConfirmation(e.id)
	s.render(w, r, status, setupChoiceView(e.page, e.base, e.login, current, ask, msg))
}

// choicePasswordFirst is passwordFirst for the buttons of the choice page.
func (s *Server) choicePasswordFirst(w http.ResponseWriter, r *http.Request, e *enrollment) bool {
	return e.login || s.passwordFirst(w, r, e.id, func(status int, msg string) { s.showChoice(w, r, e, status, msg) })
}

// beginApp starts "Use an App" and shows its page. backend makes a new secret at each call, so
// this is a POST, and the page it leads to (a GET) shows the setup backend keeps for this
// session or login: a reload, a mistyped code or a restarted server keeps the key the user has
// scanned, and another session of the user sees none of it.
func (s *Server) beginApp(w http.ResponseWriter, r *http.Request, e *enrollment) {
	if !s.choicePasswordFirst(w, r, e) {
		return
	}
	_, err := s.svc.BeginAppEnrollment(r.Context(), e.id)
	if backend.ErrorCode(err) == backend.EREAUTH {
		s.askPassword(w, r, e.page, actionApp)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, e.base+"/app", http.StatusSeeOther)
}

// appPage is the 4-step "Use an App" page, or with no setup in progress here, the choice.
func (s *Server) appPage(w http.ResponseWriter, r *http.Request, e *enrollment) {
	app, err := s.svc.ResumeAppEnrollment(r.Context(), e.id)
	if backend.ErrorCode(err) == backend.ENOTFOUND {
		http.Redirect(w, r, e.base, http.StatusSeeOther)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	e.page.Title = "Use an App"
	s.render(w, r, http.StatusOK, appSetupView(e.page, e.base, app, ""))
}

// confirmApp is step 4, "Enable Two-Factor": the code from the app turns two-factor on, and the
// recovery codes follow.
func (s *Server) confirmApp(w http.ResponseWriter, r *http.Request, e *enrollment) {
	res, err := s.svc.ConfirmAppEnrollment(r.Context(), e.id, r.PostFormValue("code"))
	e.page.Title = "Use an App"
	switch backend.ErrorCode(err) {
	case "":
	case backend.EREAUTH:
		s.askPassword(w, r, e.page, actionApp)
		return
	case backend.ECONFLICT: // no setup here: expired, replaced, or begun elsewhere
		s.render(w, r, http.StatusConflict, appSetupView(e.page, e.base, nil, s.message(r, err)))
		return
	case backend.EINVALID, backend.EUNAUTHORIZED, backend.ETOOMANY:
		app, aerr := s.svc.ResumeAppEnrollment(r.Context(), e.id)
		if aerr != nil && backend.ErrorCode(aerr) != backend.ENOTFOUND {
			s.fail(w, r, aerr)
			return
		}
		s.render(w, r, statusOf(err), appSetupView(e.page, e.base, app, s.message(r, err)))
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.enrolled(w, r, e, res)
}

// enrolled finishes an enrollment of either method: the recovery code sheet, and upon login the
// next step's token in the browser.
func (s *Server) enrolled(w http.ResponseWriter, r *http.Request, e *enrollment, res *backend.EnrollmentResult) {
	// The sheet belongs to the token the browser holds from now on: the new session, or the
	// next login step's attempt (an administrator's temporary password is still to change).
	key := tokenKey(cookieValue(r, s.sessionCk))
	if res.Login != nil {
		s.storeLoginState(w, res.Login)
		key = tokenKey(res.Login.SessionToken)
		if res.Login.Step != backend.StepDone {
			key = tokenKey(res.Login.AttemptToken)
		}
	}
	s.sheets.put(key, codeSheet{Username: e.id.User.Username, Codes: res.RecoveryCodes}, s.now())
	http.Redirect(w, r, "/recovery-codes", http.StatusSeeOther)
}

// sheetHolder finds who is looking at the recovery code sheet: a session, or a login still in
// progress (enrolled upon login, with a temporary password to change next). It returns the key
// of their sheet, the frame of the page, and where "I have saved these codes" leads.
func (s *Server) sheetHolder(w http.ResponseWriter, r *http.Request) (key string, p page, next string, err error) {
	id, err := s.session(w, r)
	if err != nil {
		return "", p, "", err
	}
	if id != nil {
		return tokenKey(cookieValue(r, s.sessionCk)), pageFor(id, "Recovery codes", "profile"), "/profile", nil
	}
	token := cookieValue(r, s.attemptCk)
	st, err := s.svc.ResumeLogin(r.Context(), token)
	if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
		return "", p, "", nil
	} else if err != nil {
		return "", p, "", err
	}
	return tokenKey(token), loginPage("Recovery codes"), stepPath(st.Step), nil
}

// codesPage shows the recovery codes just handed out, until they are acknowledged.
func (s *Server) codesPage(w http.ResponseWriter, r *http.Request) {
	key, p, _, err := s.sheetHolder(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sh, ok := s.sheets.get(key, s.now())
	if key == "" || !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, recoveryCodesView(p, sh))
}

// codesDownload sends the sheet as a text file.
func (s *Server) codesDownload(w http.ResponseWriter, r *http.Request) {
	key, _, _, err := s.sheetHolder(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sh, ok := s.sheets.get(key, s.now())
	if key == "" || !ok {
		s.errorPage(w, r, http.StatusGone, "Recovery codes",
			"These recovery codes are no longer available. If you did not save them, regenerate them from your Profile.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, backend.RecoveryCodeSheetFilename(sh.Username)))
	fmt.Fprint(w, s.svc.RecoveryCodeSheet(sh.Username, sh.Codes, sh.Issued))
}

// codesDone is "I have saved these codes": the sheet is gone for good.
func (s *Server) codesDone(w http.ResponseWriter, r *http.Request) {
	key, _, next, err := s.sheetHolder(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if key == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.sheets.drop(key)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// dateLayout is how dates are written on pages and the code sheet.
const dateLayout = "2 January 2006 15:04 MST"
