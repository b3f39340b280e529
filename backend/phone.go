package backend

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultPhoneRegion is the region whose national format is assumed for a phone number written
// without a country code, when the configuration names none.
const DefaultPhoneRegion = "US"

// MaxPhoneLength is the longest phone number, as typed, that NormalizePhone reads.
const MaxPhoneLength = 64

// NormalizePhone returns number in E.164 form (+16502530000). A number without a country code
// is read in the national format of region (an ISO 3166 code such as "US" or "GB"); spaces,
// hyphens, dots and parentheses do not matter. EINVALID if it is not a valid phone number.
func NormalizePhone(number, region string) (string, error) {
	bad := Errorf(EINVALID, "%q is not a valid phone number.", number)
	number = strings.TrimSpace(number)
	if number == "" || len(number) > MaxPhoneLength {
		return "", bad
	}
	n, err := phonenumbers.Parse(number, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", bad
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// validRegion reports whether region is a region phonenumbers knows (it must be upper case).
func validRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}

// FormatPhone writes an E.164 number the way people read it: +1 650-253-0000. It returns the
// number unchanged if it cannot be parsed.
func FormatPhone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return e164
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// MaskPhone hides all but the country code and the last two digits of an E.164 number, for
// pages that confirm which phone is meant without showing it: +1 ••• ••• ••67. Anyone who can
// see a screen may read it; the full number stays in the profile behind the session.
func MaskPhone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return "•••"
	}
	intl := phonenumbers.Format(n, phonenumbers.INTERNATIONAL) // "+1 650-253-0067"
	cc, national, ok := strings.Cut(intl, " ")
	if !ok {
		return cc + " •••"
	}
	national = strings.NewReplacer("-", " ", "(", "", ")", "", ".", " ").Replace(national)
	digits := 0
	for _, r := range national {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	var b strings.Builder
	seen := 0
	for _, r := range national {
		if r >= '0' && r <= '9' {
			seen++
			if seen <= digits-2 {
				b.WriteRune('•')
				continue
			}
		}
		b.WriteRune(r)
	}
	return cc + " " + b.String()
}
