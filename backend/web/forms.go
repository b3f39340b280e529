package web

import (
	"errors"
	"mime"
	"net/http"
)

// maxFormBody bounds the body of every form: Gatehouse's largest (a new user, a password
// twice) is well under 1 KiB, and whatever a request sends is read into memory, and may end up
// stored (a username) or shown (the audit log).
const maxFormBody = 64 << 10

// formType is the only body Gatehouse's forms send: the pages have no file upload.
const formType = "application/x-www-form-urlencoded"

// parseForms reads the form of every request that can carry one, once, before any handler: at
// most maxFormBody bytes (413 beyond), and only urlencoded (415 otherwise). Handlers then read
// r.PostFormValue from the parsed form; parsing here rather than there matters twice over:
// PostFormValue hides a body that was too large (it returns "" and no error), and a multipart
// body would be parsed by net/http onto disk, on a copy of the request (withClient's
// r.WithContext), whose files net/http never removes (golang/go#58809). Nothing reaches the
// temporary directory: a multipart body is refused unread.
func (s *Server) parseForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch: // the bodies ParseForm reads
		default:
			next.ServeHTTP(w, withFormState(r))
			return
		}
		// A POST with no body and no type (a bare button, curl -X POST) has nothing to parse.
		if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != formType {
				s.log.Warn("form refused: not urlencoded", "method", r.Method, "path", logPath(r), "content_type", logValue(ct))
				s.errorPage(w, r, http.StatusUnsupportedMediaType, "Form not accepted",
					"The System takes only the forms of its own pages, and no files. Go back to the page and try again.")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				s.log.Warn("form refused: too large", "method", r.Method, "path", logPath(r), "limit", maxFormBody)
				s.errorPage(w, r, http.StatusRequestEntityTooLarge, "Form too large",
					"The form is too large for the System. Go back, check what you typed, and try again.")
				return
			}
			s.errorPage(w, r, http.StatusBadRequest, "Form not readable",
				"The System could not read this form. Go back to the page and try again.")
			return
		}
		// The form is parsed: a copy of r (for the answer's formState) reads the same one.
		next.ServeHTTP(w, withFormState(r))
	})
}
