package web

import (
	"encoding/json"
	"net/http"
	"time"

	"gatehouse/backend"
)

// "Use SMS", the help article's way: the page shows an Authorization Code and the System Phone
// Number; the user texts the code to that number; Twilio's webhook delivers the text to
// backend, which records the sender's number; the page notices (static/sms.js polls the status
// endpoint; without JavaScript, a button reloads) and asks the user to confirm the masked
// number; then the recovery codes, as for the app.
//
// The state is backend's (SMSEnrollmentStatus), code included, and belongs to the session or
// login that began the setup: a reload, another tab or a restarted server shows the same setup
// to that browser, and another session of the user sees none.

// smsSetup is what the "Use SMS" page shows.
type smsSetup struct {
	State       backend.SMSEnrollmentState // SMSStateNone also when a code must be made again
	Code        *backend.SMSEnrollment     // SMSStateWaiting: the code to text and where
	MaskedPhone string                     // SMSStateReceived: the number to confirm
	Expired     bool                       // the last code expired before a text arrived
	Refused     string                     // the last code's text came from a number no code can go to: why
	Replaces    *backend.User              // set when the user has two-factor already (from the profile)
	Sandbox     bool                       // serve --sms-sandbox: link to the sandbox page
	MinutesLeft int                        // SMSStateWaiting: how long the code stays valid
}

// smsSetupOf reads where the user's SMS setup stands.
func (s *Server) smsSetupOf(r *http.Request, e *enrollment) (*smsSetup, error) {
	st, err := s.svc.SMSEnrollmentStatus(r.Context(), e.id)
	if err != nil {
		return nil, err
	}
	v := &smsSetup{State: st.State, Sandbox: s.sandbox != nil}
	if !e.login && e.id.User.Enrolled() {
		v.Replaces = e.id.User
	}
	switch st.State {
	case backend.SMSStateReceived:
		v.MaskedPhone = st.MaskedPhone
	case backend.SMSStateExpired:
		v.State, v.Expired = backend.SMSStateNone, true
	case backend.SMSStateRefused:
		v.State, v.Refused = backend.SMSStateNone, backend.SMSRefusedSenderText
	case backend.SMSStateWaiting:
		v.Code = st.Setup
		v.MinutesLeft = max(1, int((st.Setup.ExpiresAt.Sub(s.now())+time.Minute-1)/time.Minute))
	}
	return v, nil
}

// smsUnavailable answers with the page that says why SMS cannot be used, if it cannot.
func (s *Server) smsUnavailable(w http.ResponseWriter, r *http.Request, e *enrollment) bool {
	ok, why := s.svc.SMSAvailable()
	if !ok {
		e.page.Title = "Use SMS"
		s.render(w, r, http.StatusServiceUnavailable, smsUnavailableView(e.page, e.base, why))
	}
	return !ok
}

// smsPage is "Use SMS" (GET): the code to text, or the number to confirm, or a button for a new
// code. It changes nothing.
func (s *Server) smsPage(w http.ResponseWriter, r *http.Request, e *enrollment) {
	if s.smsUnavailable(w, r, e) {
		return
	}
	v, err := s.smsSetupOf(r, e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderSMS(w, r, e, http.StatusOK, v, "")
}

func (s *Server) renderSMS(w http.ResponseWriter, r *http.Request, e *enrollment, status int, v *smsSetup, msg string) {
	e.page.Title = "Use SMS"
	e.page.Script = "sms.js"
	s.render(w, r, status, smsSetupView(e.page, e.base, v, msg))
}

// beginSMS is the blue "Use SMS" button (POST): it shows the setup in progress if there is one,
// and otherwise a new Authorization Code. restart ("Use another phone", "Get a new code") always
// makes a new code, which replaces the old one and any number received.
func (s *Server) beginSMS(restart bool) enrollHandler {
	return func(w http.ResponseWriter, r *http.Request, e *enrollment) {
		if s.smsUnavailable(w, r, e) || !s.choicePasswordFirst(w, r, e) {
			return
		}
		if !restart {
			v, err := s.smsSetupOf(r, e)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if v.State != backend.SMSStateNone {
				http.Redirect(w, r, e.base+"/sms", http.StatusSeeOther)
				return
			}
		}
		_, err := s.svc.BeginSMSEnrollment(r.Context(), e.id)
		switch backend.ErrorCode(err) {
		case "":
		case backend.EREAUTH:
			action := actionSMS
			if restart {
				action = actionSMSRestart
			}
			s.askPassword(w, r, e.page, action)
			return
		case backend.EUNAVAILABLE:
			e.page.Title = "Use SMS"
			s.render(w, r, http.StatusServiceUnavailable, smsUnavailableView(e.page, e.base, s.message(r, err)))
			return
		default:
			s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, e.base+"/sms", http.StatusSeeOther)
	}
}

// smsStatusJSON is the answer of the status endpoint that static/sms.js polls.
type smsStatusJSON struct {
	State     backend.SMSEnrollmentState `json:"state"`
	ExpiresAt *time.Time                 `json:"expiresAt,omitempty"`
}

// smsStatus tells the waiting page whether the text has arrived. It says only the state: the
// page then reloads and shows what comes next.
func (s *Server) smsStatus(w http.ResponseWriter, r *http.Request, e *enrollment) {
	st, err := s.svc.SMSEnrollmentStatus(r.Context(), e.id)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statusOf(err))
		json.NewEncoder(w).Encode(map[string]string{"error": s.message(r, err)})
		return
	}
	out := smsStatusJSON{State: st.State}
	if !st.ExpiresAt.IsZero() {
		out.ExpiresAt = &st.ExpiresAt
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// confirmSMS is "Confirm" under the masked number: two-factor is on with that phone, and the
// recovery codes follow.
func (s *Server) confirmSMS(w http.ResponseWriter, r *http.Request, e *enrollment) {
	res, err := s.svc.ConfirmSMSEnrollment(r.Context(), e.id)
	switch backend.ErrorCode(err) {
	case "":
	case backend.EREAUTH:
		s.askPassword(w, r, e.page, actionSMSConfirm)
		return
	case backend.ECONFLICT: // no text yet, expired, or replaced: show where it stands
		v, verr := s.smsSetupOf(r, e)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		s.renderSMS(w, r, e, http.StatusConflict, v, s.message(r, err))
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.enrolled(w, r, e, res)
}

// verifySMSPage is the verify step of a user who gets codes by text message.
func (s *Server) verifySMSPage(w http.ResponseWriter, r *http.Request, u *backend.User, status int, msg string) {
	p := loginPage("Two-Factor Authentication")
	p.Script = "sms.js"
	// What was sent is backend's, from the codes it keeps for this login: a reload, another
	// server or a restarted one says the same.
	sent, err := s.svc.SMSCodeState(r.Context(), cookieValue(r, s.attemptCk))
	if err != nil {
		sent = nil // the step's own answer (msg) says what went wrong
	}
	wait := 0
	if sent != nil {
		wait = max(0, int(sent.ResendAt.Sub(s.now()).Round(time.Second)/time.Second))
	}
	s.render(w, r, status, verifySMSView(p, u, backend.MaskPhone(u.SMSPhone), sent, wait, s.codeStepKeyLink(r), msg))
}

// sendSMSCode is "Send code" and "Send again": a login code by text message, bound to this login.
func (s *Server) sendSMSCode(w http.ResponseWriter, r *http.Request) {
	token := cookieValue(r, s.attemptCk)
	_, err := s.svc.SendSMSCode(r.Context(), token)
	if err != nil {
		s.stepFailed(w, r, err, func(u *backend.User, msg string) {
			s.verifySMSPage(w, r, u, statusOf(err), msg)
		})
		return
	}
	http.Redirect(w, r, "/login/verify", http.StatusSeeOther)
}

// verifySMSSubmit is "Verify" with a code received by text message.
func (s *Server) verifySMSSubmit(w http.ResponseWriter, r *http.Request) {
	token := cookieValue(r, s.attemptCk)
	st, err := s.svc.VerifySMSCode(r.Context(), token, r.PostFormValue("code"))
	if err != nil {
		s.stepFailed(w, r, err, func(u *backend.User, msg string) {
			s.verifySMSPage(w, r, u, statusOf(err), msg)
		})
		return
	}
	s.advance(w, r, st)
}
