package backend

import (
	"net"
	"net/url"
)

// keysPossible reports whether security keys can work under the public URL public (as
// Config.PublicURL, trimmed): WebAuthn binds a key to a domain name, the relying party ID,
// which is the public URL's host. No public URL gives none, and an IP address is none either
// (browsers and the WebAuthn library refuse it as an RP ID); localhost is a name, and a secure
// context over plain HTTP.
func keysPossible(public string) bool {
	return keysUnavailableReason(public) == ""
}

// keysUnavailableReason is why keys cannot work under public, for the administrator (the
// server's log at start-up); "" when they can.
func keysUnavailableReason(public string) string {
	if public == "" {
		return "security keys are off: the public URL (--public-url) is not set, and a key is bound to its host name"
	}
	u, err := url.Parse(public)
	if err != nil || u.Hostname() == "" {
		return "security keys are off: the public URL (--public-url) has no host name"
	}
	if net.ParseIP(u.Hostname()) != nil {
		return "security keys are off: the public URL's host " + u.Hostname() + " is an IP address, and a key is bound to a host name (use e.g. localhost or the server's DNS name in --public-url)"
	}
	return ""
}

// KeysUnavailableReason is why security keys cannot be added or used on this server, for the
// administrator (the server logs it once at start-up); "" when they can. People are shown
// KeysUnavailableText instead.
func (s *Service) KeysUnavailableReason() string { return keysUnavailableReason(s.public) }

// KeysUnavailableText is what people are shown where a key would be offered and keys cannot
// work on this server: the reason is the administrator's (KeysUnavailableReason).
const KeysUnavailableText = "Security keys are not set up on this server; ask your administrator."
