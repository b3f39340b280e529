package web

import (
	"strconv"

	"github.com/a-h/templ"

	"gatehouse/backend"
)

// fieldLimit is the maxlength of a form field, backend's limit for what the field holds (0 for
// none): the browser stops the typing where backend would refuse. Fields are known by their
// names, which are the forms' contract with the handlers; every password field by its type.
func fieldLimit(name, typ string) int {
	switch {
	case typ == "password":
		return backend.MaxPasswordLength
	case name == "username":
		return backend.MaxUsernameLength
	case name == "name":
		return backend.MaxDisplayNameLength
	case name == "email":
		return backend.MaxEmailLength
	case name == "from": // the SMS sandbox's sender
		return backend.MaxPhoneLength
	}
	return 0
}

// limitAttrs is fieldLimit as the input's attribute.
func limitAttrs(name, typ string) templ.Attributes {
	if n := fieldLimit(name, typ); n > 0 {
		return templ.Attributes{"maxlength": strconv.Itoa(n)}
	}
	return nil
}
