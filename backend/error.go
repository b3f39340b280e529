package backend

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each front end maps them once: the web layer to an HTTP status, the desktop layer
// to a message style. Codes are stable; messages are for people.
const (
	EINVALID      = "invalid"      // bad input; the message says what is wrong
	EUNAUTHORIZED = "unauthorized" // not signed in, or credentials/codes not accepted
	EFORBIDDEN    = "forbidden"    // signed in, but not allowed
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // the change collides with existing state
	ETOOMANY      = "too_many"     // rate limited, throttled or locked
	EREAUTH       = "reauth"       // the action needs the password again (see ConfirmPassword)
	EUNAVAILABLE  = "unavailable"  // an outside service (e.g. SMS) is not configured or failed
	EINTERNAL     = "internal"     // anything else; logged, shown as a generic sentence
)

// Error is the domain error. Message is safe to show to the person who caused it.
type Error struct {
	Code    string
	Message string
	// Fields are the form fields the error is about (the Field* keys), for front ends to mark
	// and to put the cursor in; none when it is about no field in particular.
	Fields []string
}

// The fields of the forms, as Error.Fields names them.
const (
	FieldUsername        = "username"
	FieldName            = "name"
	FieldEmail           = "email"
	FieldRole            = "role"
	FieldPassword        = "password"         // a new password being chosen or set
	FieldConfirmPassword = "confirm_password" // the new password typed again
	FieldCurrentPassword = "current_password" // the person's own password, checked
	FieldCode            = "code"             // a code from the app, a text or the recovery sheet
)

// ErrorFields returns the fields of a domain error in err's chain (Error.Fields).
func ErrorFields(err error) []string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Fields
	}
	return nil
}

// WithFields returns err with the fields it is about: a copy of its domain error with Fields
// set, or err itself when it is no domain error (or nil).
func WithFields(err error, fields ...string) error {
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return err
	}
	c := *e
	c.Fields = fields
	return &c
}

// fieldChecks runs a form's checks and returns EINVALID naming every bad field at once, or
// nil: the user forms' and the application forms' one rule.
func fieldChecks(checks ...fieldCheck) error {
	var problems, fields []string
	for _, c := range checks {
		if c.err != nil {
			problems = append(problems, ErrorMessage(c.err))
			fields = append(fields, c.field)
		}
	}
	if len(problems) > 0 {
		return WithFields(Errorf(EINVALID, "%s", strings.Join(problems, " ")), fields...)
	}
	return nil
}

type fieldCheck struct {
	field string
	err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("gatehouse error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns a domain error with the given code and a formatted, user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of a domain error in err's chain, EINTERNAL for any other error and
// "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of a domain error in err's chain, and a generic
// sentence for any other error, whose details must not reach the user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again; if it keeps happening, tell your administrator."
}

// errBadLogin is the one answer to every failed password step, whatever the cause (unknown user,
// wrong password, disabled account), so that the answer reveals nothing. Waits and locks are
// said as such (throttled, locked): unknown names wait and lock alike.
var errBadLogin = WithFields(Errorf(EUNAUTHORIZED, "Incorrect username or password."), FieldUsername, FieldCurrentPassword)

// errBadCode is the one answer to a second factor that is not accepted.
var errBadCode = WithFields(Errorf(EUNAUTHORIZED, "That code is not valid. Check it and try again."), FieldCode)

// errBadAppCode is errBadCode for a code from the authenticator app, with the usual cause of
// right codes refused: a phone clock that is off (codes are valid for 30 seconds either way).
// It is said only at the verify step, to someone who has given the right password, and to
// every such person alike: it tells nothing about the code.
var errBadAppCode = WithFields(Errorf(EUNAUTHORIZED, "That code is not valid. Check it and try again. If codes from your app keep failing, check that your phone's time is set automatically."), FieldCode)
