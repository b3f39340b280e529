package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"gatehouse/backend"
)

// A form shown again with an error marks the fields the error is about (backend's
// Error.Fields): aria-invalid, and aria-describedby pointing at the error (#form-error, the
// alert), and the first of them gets the focus (autofocus, so without JavaScript too) instead
// of the field that has it on an empty form.

// formState collects, while a request is answered, the fields its error is about; the page's
// fields read it as they render, in order.
type formState struct {
	invalid map[string]bool // backend.Field* keys
	focused bool            // the first invalid field has claimed the focus
}

type formStateKey struct{}

// withFormState gives r a formState for its answer.
func withFormState(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), formStateKey{}, &formState{}))
}

// markFields records that the form's error is about fields (backend.Field* keys).
func markFields(ctx context.Context, fields ...string) {
	fs, _ := ctx.Value(formStateKey{}).(*formState)
	if fs == nil || len(fields) == 0 {
		return
	}
	if fs.invalid == nil {
		fs.invalid = map[string]bool{}
	}
	for _, f := range fields {
		fs.invalid[f] = true
	}
}

// fieldKey is the attribute a page gives field() to say which backend field an input is when its
// name does not (the login's and the confirmation's "password" is the person's own password,
// checked, not a new one); it is not rendered.
const fieldKey = "data-gatehouse-field"

// inputFields are the backend fields of the forms' inputs, by input name.
var inputFields = map[string]string{
	"username": backend.FieldUsername, "name": backend.FieldName, "email": backend.FieldEmail,
	"password": backend.FieldPassword, "new_password": backend.FieldPassword,
	"confirm_password": backend.FieldConfirmPassword, upfrontPassword: backend.FieldCurrentPassword,
	"code": backend.FieldCode, backend.FieldKeyName: backend.FieldKeyName,
}

// fieldAttrs are the attributes of the input name, given attrs: with the marks of an error
// about it, and the focus on the first such field.
func fieldAttrs(ctx context.Context, name string, attrs templ.Attributes) templ.Attributes {
	out := templ.Attributes{}
	key := inputFields[name]
	for k, v := range attrs {
		if k == fieldKey {
			key, _ = v.(string)
			continue
		}
		out[k] = v
	}
	fs, _ := ctx.Value(formStateKey{}).(*formState)
	if fs == nil || len(fs.invalid) == 0 {
		return out
	}
	delete(out, "autofocus")
	if !fs.invalid[key] {
		return out
	}
	out["aria-invalid"] = "true"
	desc, _ := out["aria-describedby"].(string)
	out["aria-describedby"] = strings.TrimSpace("form-error " + desc)
	if !fs.focused {
		fs.focused = true
		out["autofocus"] = true
	}
	return out
}
