package web

import (
	"fmt"
	"net/http"

	"github.com/a-h/templ"

	"gatehouse/backend"
)

// enrollment is a two-factor setup in progress, from the profile ("Setup Two-Factor") or forced
// at login. The pages are the same; base is where they live.
type enrollment struct {
	id    *backend.Identity
	base  string // "/profile/two-factor" or "/login/enroll"
	page  page
	login bool // enrolling upon login: required by an administrator or an application, no way around it
	// required is what the choice page says upon login about who requires it.
	required backend.RequiredEnrollment
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
		h(w, r, s.loginEnrollment(r, id))
	}
}

// loginEnrollment is the setup of a login's enroll step, for id.
func (s *Server) loginEnrollment(r *http.Request, id *backend.Identity) *enrollment {
	return &enrollment{id: id, base: "/login/enroll", page: loginPage("Setup Two-Factor"), login: true,
		required: s.svc.RequiredEnrollmentText(r.Context(), id)}
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
	_, smsUnavailable := s.svc.SMSAvailable()
	keyRefusal, err := s.svc.AddKeyRefusal(r.Context(), e.id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, setupChoiceView(e.page, e.base, e.login, e.required, current, ask, msg, smsUnavailable, keyRefusal))
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

// enrolled finishes an enrollment of either method: upon login the next step's token in the
// browser, then the recovery code sheet, which backend keeps for that token (the new session,
// or the next login step's attempt) until it is acknowledged.
func (s *Server) enrolled(w http.ResponseWriter, r *http.Request, e *enrollment, res *backend.EnrollmentResult) {
	if res.Login != nil {
		s.storeLoginState(w, res.Login)
	} else {
		// Set up from the Profile: once the codes are saved, the Profile says it is on.
		s.flash(w, r, e.id, backend.TwoFactorEnabledNotice)
	}
	http.Redirect(w, r, "/recovery-codes", http.StatusSeeOther)
}

// sheetHolder is who looks at the recovery code sheet: a session, or a login still in progress
// (enrolled upon login, with a temporary password to change next).
type sheetHolder struct {
	id      *backend.Identity // the session; nil for a login in progress
	attempt string            // the login attempt's token, for a login in progress
	page    page              // the frame of the page
	next    string            // where "I have saved these codes" leads
}

// sheetHolder finds who is looking at the recovery code sheet; nil if nobody is signed in or
// logging in.
func (s *Server) sheetHolder(w http.ResponseWriter, r *http.Request) (*sheetHolder, error) {
	id, err := s.session(w, r)
	if err != nil {
		return nil, err
	}
	if id != nil {
		return &sheetHolder{id: id, page: pageFor(id, "Recovery codes", "profile"), next: "/profile"}, nil
	}
	token := cookieValue(r, s.attemptCk)
	st, err := s.svc.ResumeLogin(r.Context(), token)
	if backend.ErrorCode(err) == backend.EUNAUTHORIZED {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &sheetHolder{attempt: token, page: loginPage("Recovery codes"), next: stepPath(st.Step)}, nil
}

// holderSheet finds h's sheet: the codes backend handed to h and keeps until acknowledged,
// or nil.
func (s *Server) holderSheet(w http.ResponseWriter, r *http.Request) (*sheetHolder, *backend.RecoveryCodeSheet, error) {
	h, err := s.sheetHolder(w, r)
	if err != nil || h == nil {
		return nil, nil, err
	}
	var sh *backend.RecoveryCodeSheet
	if h.id != nil {
		sh, err = s.svc.RecoveryCodeSheet(r.Context(), h.id)
	} else {
		sh, err = s.svc.LoginRecoveryCodeSheet(r.Context(), h.attempt)
	}
	switch backend.ErrorCode(err) {
	case "":
		return h, sh, nil
	case backend.ENOTFOUND, backend.EUNAUTHORIZED:
		return h, nil, nil
	}
	return nil, nil, err
}

// codesPage shows the recovery codes just handed out, until they are acknowledged.
func (s *Server) codesPage(w http.ResponseWriter, r *http.Request) {
	h, sh, err := s.holderSheet(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sh == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, recoveryCodesView(h.page, sh))
}

// codesDownload sends the sheet as a text file.
func (s *Server) codesDownload(w http.ResponseWriter, r *http.Request) {
	h, sh, err := s.holderSheet(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sh == nil {
		// Saved meanwhile, in another tab perhaps: the page stays in the frame of whoever
		// looks, and leads back to where they were.
		back := backLink{}
		if h != nil {
			r = viewedBy(r, h.id)
			if h.id == nil {
				back = backLink{URL: templ.SafeURL(h.next), Label: "Continue logging in"}
			}
		}
		s.errorPageTo(w, r, http.StatusGone, "Recovery codes",
			"These recovery codes are no longer available. If you did not save them, regenerate them from your Profile.", back)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, backend.RecoveryCodeSheetFilename(sh.Username)))
	fmt.Fprint(w, s.svc.RecoveryCodeSheetText(sh))
}

// codesDone is "I have saved these codes": the sheet is gone for good.
func (s *Server) codesDone(w http.ResponseWriter, r *http.Request) {
	h, err := s.sheetHolder(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if h == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if h.id != nil {
		err = s.svc.AcknowledgeRecoveryCodes(r.Context(), h.id)
	} else {
		err = s.svc.AcknowledgeLoginRecoveryCodes(r.Context(), h.attempt)
	}
	if err != nil && backend.ErrorCode(err) != backend.EUNAUTHORIZED {
		s.fail(w, r, err)
		return
	}
	// A forced enrollment an application sent the person to (OpenID Connect or forward-auth)
	// goes back to the application.
	if u := s.resumeURL(r, h.id); u != "" {
		h.next = u
	}
	http.Redirect(w, r, h.next, http.StatusSeeOther)
}
