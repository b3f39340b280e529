package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"

	"gatehouse/backend"
)

// Security keys and passkeys (WebAuthn): the pages of webauthn.templ. The ceremony's options
// come from a POST that answers JSON (the script asks for them when the person clicks; the
// challenge is stored with the session or login attempt); the browser's answer goes back with
// the page's form, so the result is a page like any other step's.

const actionKey = "key" // "Use a security key or passkey" from the Profile, once the password is confirmed

// maxKeyResponse bounds the browser's answer (an attestation object of "none" is well under).
const maxKeyResponse = 64 << 10

func (s *Server) keyRoutes(mux *http.ServeMux, limited func(http.HandlerFunc) http.Handler) {
	// The key step of a login.
	mux.Handle("POST /login/verify/key/options", limited(s.loginKeyOptions))
	mux.Handle("POST /login/verify/key", limited(s.loginKeySubmit))
	// "Use a security key or passkey", forced at login and from the Profile.
	mux.HandleFunc("POST /login/enroll/key/start", s.enrolling(s.beginKey))
	mux.HandleFunc("GET /login/enroll/key", s.enrolling(s.keyPage))
	mux.Handle("POST /login/enroll/key/options", limited(s.keyEnrolling(s.keyOptions)))
	mux.Handle("POST /login/enroll/key", limited(s.enrolling(s.keySubmit)))
	mux.Handle("POST /profile/two-factor/key/start", limited(s.signedIn(s.profileEnrolling(s.beginKey))))
	mux.HandleFunc("GET /profile/two-factor/key", s.signedIn(s.profileEnrolling(s.keyPage)))
	mux.Handle("POST /profile/two-factor/key/options", limited(s.keySignedIn(s.profileEnrolling(s.keyOptions))))
	mux.Handle("POST /profile/two-factor/key", limited(s.signedIn(s.profileEnrolling(s.keySubmit))))
	// Renaming one's own key.
	mux.HandleFunc("GET /profile/keys/{key}/rename", s.signedIn(s.renameOwnKeyPage))
	mux.Handle("POST /profile/keys/{key}/rename", limited(s.signedIn(s.renameOwnKeySubmit)))
	// Removing a key: the person's own, or an administrator's.
	mux.HandleFunc("GET /profile/keys/{key}/remove", s.signedIn(s.removeOwnKeyPage))
	mux.Handle("POST /profile/keys/{key}/remove", limited(s.signedIn(s.removeOwnKeySubmit)))
	mux.HandleFunc("GET /admin/users/{id}/keys/{key}/remove", s.admin(s.removeUserKeyPage))
	mux.Handle("POST /admin/users/{id}/keys/{key}/remove", limited(s.admin(s.removeUserKeySubmit)))
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// keyMove is a JSON endpoint's answer when the page cannot go on where it is (the login or
// session ended, the password must be confirmed again): the sentence, where to go, and the
// words of the link there. The script shows them: a redirect would be followed by fetch, and
// the page would be left with an answer it cannot read.
type keyMove struct {
	Error    string `json:"error"`
	Location string `json:"location"`
	Link     string `json:"link"`
}

// keyOptionsAnswer answers the options of a ceremony, or the error: its sentence as
// {"error": …}, with where to go when it is a dead end here (keyMove). base is the key setup's
// (where a confirmed password returns), "" at the key step of a login.
func (s *Server) keyOptionsAnswer(w http.ResponseWriter, r *http.Request, base string, options json.RawMessage, err error) {
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(options)
	case err == backend.ErrLoginEnded:
		s.clearCookie(w, s.attemptCk)
		writeJSON(w, http.StatusUnauthorized, keyMove{Error: s.message(r, err), Location: "/login", Link: "Log in"})
	case backend.ErrorCode(err) == backend.EREAUTH && base != "":
		// The key page shows the password's confirmation, which comes back to it.
		writeJSON(w, statusOf(err), keyMove{Error: s.message(r, err), Location: base + "/key", Link: "Confirm your password"})
	default:
		writeJSON(w, statusOf(err), map[string]string{"error": s.message(r, err)})
	}
}

// keySignedIn is signedIn for a JSON endpoint: a session that ended answers where to log in
// again (keyMove) instead of a redirect.
func (s *Server) keySignedIn(h authHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _, err := s.sessionOf(r)
		if err != nil {
			writeJSON(w, statusOf(err), map[string]string{"error": s.message(r, err)})
			return
		}
		if id == nil {
			if s.tossed(r) { // as signedIn
				s.clearSession(w, r)
			}
			writeJSON(w, http.StatusUnauthorized, keyMove{Error: backend.SessionEndedNotice, Location: "/login", Link: "Log in"})
			return
		}
		h(w, viewedBy(r, id), id)
	}
}

// keyEnrolling is enrolling for a JSON endpoint: a login that ended, or is at another step,
// answers where to go (keyMove) instead of a page or a redirect.
func (s *Server) keyEnrolling(h enrollHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.svc.EnrollmentIdentity(r.Context(), cookieValue(r, s.attemptCk))
		switch backend.ErrorCode(err) {
		case "":
		case backend.ECONFLICT: // the login is at another step: its page
			st, rerr := s.svc.ResumeLogin(r.Context(), cookieValue(r, s.attemptCk))
			if rerr != nil {
				s.keyOptionsAnswer(w, r, "", nil, rerr)
				return
			}
			writeJSON(w, http.StatusConflict, keyMove{Error: s.message(r, err), Location: stepPath(st.Step), Link: "Continue your login"})
			return
		case backend.EUNAUTHORIZED:
			s.keyOptionsAnswer(w, r, "", nil, backend.ErrLoginEnded)
			return
		default:
			writeJSON(w, statusOf(err), map[string]string{"error": s.message(r, err)})
			return
		}
		h(w, r, s.loginEnrollment(r, id))
	}
}

// keyResponse is the browser's answer the form carries.
func keyResponse(r *http.Request) []byte {
	v := r.PostFormValue("response")
	if len(v) > maxKeyResponse {
		return nil
	}
	return []byte(v)
}

// keyFirst shows the key step instead of the code step to a person with a key, unless they
// chose their other method (?method=code); a person whose only method is keys always gets it.
func (s *Server) keyFirst(w http.ResponseWriter, r *http.Request, u *backend.User) bool {
	if u.Method != backend.MethodWebAuthn && r.URL.Query().Get("method") == "code" {
		return false
	}
	has, err := s.svc.LoginHasKeys(r.Context(), cookieValue(r, s.attemptCk))
	if err != nil {
		s.fail(w, r, err)
		return true
	} else if !has {
		return false
	}
	s.showKeyVerify(w, r, u, http.StatusOK, "")
	return true
}

// otherMethodText is the link to the person's other method on the key step, "" if keys are
// their only one.
func otherMethodText(u *backend.User) string {
	switch u.Method {
	case backend.MethodApp:
		return "Use your authenticator app instead"
	case backend.MethodSMS:
		return "Get a code by text message instead"
	}
	return ""
}

func (s *Server) showKeyVerify(w http.ResponseWriter, r *http.Request, u *backend.User, status int, msg string) {
	p := loginPage("Two-Factor Authentication")
	p.Script = "webauthn.js"
	s.render(w, r, status, keyVerifyView(p, otherMethodText(u), msg, s.svc.KeyBrowserErrorTexts(true)))
}

func (s *Server) loginKeyOptions(w http.ResponseWriter, r *http.Request) {
	options, err := s.svc.BeginKeyLogin(r.Context(), cookieValue(r, s.attemptCk))
	s.keyOptionsAnswer(w, r, "", options, err)
}

func (s *Server) loginKeySubmit(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.VerifyKey(r.Context(), cookieValue(r, s.attemptCk), keyResponse(r))
	if err != nil {
		s.stepFailed(w, r, err, func(u *backend.User, msg string) { s.showKeyVerify(w, r, u, statusOf(err), msg) })
		return
	}
	s.advance(w, r, st)
}

// beginKey is the choice page's third button: the password first (from the Profile), then the
// page that names and registers the key.
func (s *Server) beginKey(w http.ResponseWriter, r *http.Request, e *enrollment) {
	if !s.choicePasswordFirst(w, r, e) {
		return
	}
	http.Redirect(w, r, e.base+"/key", http.StatusSeeOther)
}

func (s *Server) keyPage(w http.ResponseWriter, r *http.Request, e *enrollment) {
	if !e.login && s.svc.NeedsPasswordConfirmation(e.id) {
		s.askPassword(w, r, e.page, actionKey)
		return
	}
	s.showKeySetup(w, r, e, http.StatusOK, "")
}

func (s *Server) showKeySetup(w http.ResponseWriter, r *http.Request, e *enrollment, status int, msg string) {
	e.page.Title = "Use a security key or passkey"
	e.page.Script = "webauthn.js"
	// One who has Two-Factor adds a key from the Profile: the choice page would replace their
	// method, so the way out is back to the Profile.
	back, backText := templ.SafeURL(e.base), "Choose another way"
	if !e.login && e.id.User.Enrolled() {
		back, backText = "/profile", "Back to your Profile"
	}
	s.render(w, r, status, keySetupView(e.page, e.base, back, backText, msg, s.svc.KeyBrowserErrorTexts(false)))
}

func (s *Server) keyOptions(w http.ResponseWriter, r *http.Request, e *enrollment) {
	options, err := s.svc.BeginKeyRegistration(r.Context(), e.id)
	base := e.base
	if e.login {
		base = "" // no password to confirm at login
	}
	s.keyOptionsAnswer(w, r, base, options, err)
}

func (s *Server) keySubmit(w http.ResponseWriter, r *http.Request, e *enrollment) {
	res, err := s.svc.FinishKeyRegistration(r.Context(), e.id, r.PostFormValue(backend.FieldKeyName), keyResponse(r))
	switch {
	case err == nil:
	case backend.ErrorCode(err) == backend.EREAUTH:
		s.askPassword(w, r, e.page, actionKey)
		return
	case backend.ErrorCode(err) == backend.EINVALID || backend.ErrorCode(err) == backend.ECONFLICT:
		if err == backend.ErrLoginEnded {
			s.loginExpired(w, r, err)
			return
		}
		s.showKeySetup(w, r, e, statusOf(err), s.message(r, err))
		return
	case backend.ErrorCode(err) == backend.EUNAUTHORIZED && e.login:
		s.loginExpired(w, r, err)
		return
	default:
		s.fail(w, r, err)
		return
	}
	if res.RecoveryCodes == nil { // one more key for someone who has Two-Factor
		s.flash(w, r, e.id, backend.KeyAddedNotice)
		http.Redirect(w, r, "/profile", http.StatusSeeOther)
		return
	}
	s.enrolled(w, r, e, res)
}

// pathKey is the key named by {key} among keys; ok false if none is.
func pathKey(r *http.Request, keys []backend.SecurityKey) (backend.SecurityKey, bool) {
	id, err := strconv.ParseInt(r.PathValue("key"), 10, 64)
	if err != nil {
		return backend.SecurityKey{}, false
	}
	for _, k := range keys {
		if k.ID == id {
			return k, true
		}
	}
	return backend.SecurityKey{}, false
}

func ownKeyRemoveURL(k backend.SecurityKey) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/profile/keys/%d/remove", k.ID))
}

func ownKeyRenameURL(k backend.SecurityKey) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/profile/keys/%d/rename", k.ID))
}

func userKeyRemoveURL(u *backend.User) func(backend.SecurityKey) templ.SafeURL {
	return func(k backend.SecurityKey) templ.SafeURL {
		return templ.SafeURL(fmt.Sprintf("/admin/users/%d/keys/%d/remove", u.ID, k.ID))
	}
}

// ownKey is the signed-in user's key of the path, or a not-found page.
func (s *Server) ownKey(w http.ResponseWriter, r *http.Request, id *backend.Identity) (backend.SecurityKey, bool) {
	keys, err := s.svc.OwnKeys(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return backend.SecurityKey{}, false
	}
	k, ok := pathKey(r, keys)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Not found", "There is no such security key or passkey on your account.")
	}
	return k, ok
}

// showRenameOwnKey is the form that renames k, with name in its field.
func (s *Server) showRenameOwnKey(w http.ResponseWriter, r *http.Request, id *backend.Identity, k backend.SecurityKey, name string, status int, msg string) {
	s.render(w, r, status, renameKeyView(pageFor(id, "Rename security key or passkey", "profile"), k, ownKeyRenameURL(k), name, msg))
}

func (s *Server) renameOwnKeyPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if k, ok := s.ownKey(w, r, id); ok {
		s.showRenameOwnKey(w, r, id, k, k.Name, http.StatusOK, "")
	}
}

func (s *Server) renameOwnKeySubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	k, ok := s.ownKey(w, r, id)
	if !ok {
		return
	}
	name := r.PostFormValue(backend.FieldKeyName)
	switch err := s.svc.RenameOwnKey(r.Context(), id, k.ID, name); backend.ErrorCode(err) {
	case "":
	case backend.EINVALID, backend.ENOTFOUND:
		s.showRenameOwnKey(w, r, id, k, name, statusOf(err), s.message(r, err))
		return
	default:
		s.fail(w, r, err)
		return
	}
	s.flash(w, r, id, backend.KeyRenamedNotice)
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

func (s *Server) showRemoveOwnKey(w http.ResponseWriter, r *http.Request, id *backend.Identity, k backend.SecurityKey, status int, msg string) {
	s.render(w, r, status, removeKeyView(pageFor(id, "Remove security key or passkey", "profile"), backend.DescribeKeyRemoval(id.User, k, true), ownKeyRemoveURL(k), "/profile",
		s.svc.NeedsPasswordConfirmation(id), reauthOwn, msg))
}

func (s *Server) removeOwnKeyPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if k, ok := s.ownKey(w, r, id); ok {
		s.showRemoveOwnKey(w, r, id, k, http.StatusOK, "")
	}
}

func (s *Server) removeOwnKeySubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	k, ok := s.ownKey(w, r, id)
	if !ok {
		return
	}
	again := func(status int, msg string) { s.showRemoveOwnKey(w, r, id, k, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	switch err := s.svc.RemoveOwnKey(r.Context(), id, k.ID); backend.ErrorCode(err) {
	case "":
	case backend.EREAUTH, backend.EFORBIDDEN, backend.ENOTFOUND:
		again(statusOf(err), s.message(r, err))
		return
	default:
		s.fail(w, r, err)
		return
	}
	notice := backend.KeyRemovedNotice
	if !id.User.Enrolled() {
		notice = backend.LastKeyRemovedNotice
	}
	s.flash(w, r, id, notice)
	http.Redirect(w, r, "/profile", http.StatusSeeOther)
}

// userKey is the key of the path among the user's, or a not-found page.
func (s *Server) userKey(w http.ResponseWriter, r *http.Request, id *backend.Identity) (*backend.User, backend.SecurityKey, bool) {
	u := s.targetUser(w, r, id)
	if u == nil {
		return nil, backend.SecurityKey{}, false
	}
	keys, err := s.svc.UserKeys(r.Context(), id, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return nil, backend.SecurityKey{}, false
	}
	k, ok := pathKey(r, keys)
	if !ok {
		s.errorPageTo(w, r, http.StatusNotFound, "Not found", "There is no such security key or passkey.", userBack(u))
	}
	return u, k, ok
}

func (s *Server) showRemoveUserKey(w http.ResponseWriter, r *http.Request, id *backend.Identity, u *backend.User, k backend.SecurityKey, status int, msg string) {
	s.render(w, r, status, removeKeyView(adminPage(id, "Remove security key or passkey", "users"), backend.DescribeKeyRemoval(u, k, false), userKeyRemoveURL(u)(k), userURL(u, ""),
		s.svc.NeedsPasswordConfirmation(id), reauthAdmin, msg))
}

func (s *Server) removeUserKeyPage(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	if u, k, ok := s.userKey(w, r, id); ok {
		s.showRemoveUserKey(w, r, id, u, k, http.StatusOK, "")
	}
}

func (s *Server) removeUserKeySubmit(w http.ResponseWriter, r *http.Request, id *backend.Identity) {
	u, k, ok := s.userKey(w, r, id)
	if !ok {
		return
	}
	again := func(status int, msg string) { s.showRemoveUserKey(w, r, id, u, k, status, msg) }
	if !s.passwordFirst(w, r, id, again) {
		return
	}
	after, err := s.svc.RemoveUserKey(r.Context(), id, u.ID, k.ID)
	switch backend.ErrorCode(err) {
	case "":
	case backend.EREAUTH, backend.ENOTFOUND:
		again(statusOf(err), s.message(r, err))
		return
	default:
		s.failTo(w, r, err, userBack(u))
		return
	}
	s.flash(w, r, id, backend.UserKeyRemovedText(after))
	http.Redirect(w, r, userPath(u), http.StatusSeeOther)
}
