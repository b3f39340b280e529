package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// publicAuthority reads the configured public URL: its scheme and host[:port], lowercase and
// without the scheme's default port, as browsers write them in Origin and Host.
func publicAuthority(publicURL string) (scheme, host string, err error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("web: the public URL %q is not an http:// or https:// URL with a host", publicURL)
	}
	return u.Scheme, normalHost(u.Host, u.Scheme), nil
}

// normalHost is a host[:port] lowercase and without the default port of scheme.
func normalHost(host, scheme string) string {
	host = strings.ToLower(host)
	if scheme == "https" {
		return strings.TrimSuffix(host, ":443")
	}
	return strings.TrimSuffix(host, ":80")
}

// connScheme is the scheme of the connection a request came in on.
func connScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// loopbackHosts are the names by which a browser on this machine reaches the server directly,
// when r came in over loopback: the listener's address and localhost, 127.0.0.1 and [::1] on
// its port. Nil when r did not come in over loopback.
func loopbackHosts(r *http.Request) []string {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if local == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(local.String())
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return nil
	}
	port := strconv.Itoa(int(ap.Port()))
	scheme := connScheme(r)
	var hosts []string
	for _, h := range []string{ap.Addr().Unmap().String(), "localhost", "127.0.0.1", "::1"} {
		hosts = append(hosts, normalHost(net.JoinHostPort(h, port), scheme))
	}
	return hosts
}

// checkHost refuses a request whose Host is not the server's own, with the SMS sandbox and for
// every request that came in over loopback. That is DNS rebinding: a page on another name
// (evil.example) that its DNS later points at 127.0.0.1 is, to the browser, the same origin as
// everything served here, and could read the sandbox's login codes, or any page, with the
// browser's own requests; only the Host header, evil.example, gives it away. The server's own
// names are the public URL's and the loopback names of the port (loopbackHosts); a proxy on this
// machine that passes another Host needs --public-url to say so.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ownHost(r) {
			next.ServeHTTP(w, r)
			return
		}
		s.log.Warn("request refused: the Host is not this server's (set --public-url to the address people use)",
			"method", r.Method, "path", logPath(r), "host", logValue(r.Host))
		where := "the address you were given"
		if s.publicURL != "" {
			where = s.publicURL
		}
		s.errorPage(w, r, http.StatusMisdirectedRequest, "Wrong address",
			"The System does not answer at this address. Open it at "+where+".")
	})
}

// ownHost is checkHost's decision: whether r may be answered at its Host. It allocates
// nothing (it runs before every forward-auth check): the public URL's host first, then the
// loopback names (loopbackName, which says what loopbackHosts lists).
func (s *Server) ownHost(r *http.Request) bool {
	host := normalHost(r.Host, connScheme(r))
	if s.publicHost != "" && host == s.publicHost {
		return true
	}
	over, named := loopbackName(r, host)
	return named || (!over && s.sandbox == nil)
}

// loopbackName reports whether r came in over loopback (over) and, if so, whether host, a
// Host as normalHost writes it, is one of loopbackHosts(r), without building the list.
func loopbackName(r *http.Request, host string) (over, named bool) {
	ap, ok := localAddrPort(r)
	if !ok || !ap.Addr().Unmap().IsLoopback() {
		return false, false
	}
	var buf [8]byte
	port := strconv.AppendUint(buf[:0], uint64(ap.Port()), 10)
	dflt := string(port) == "80"
	if connScheme(r) == "https" {
		dflt = string(port) == "443"
	}
	for _, name := range [...]string{"localhost", "127.0.0.1", "::1"} {
		if hostIs(host, name, port, dflt) {
			return true, true
		}
	}
	return true, hostIs(host, ap.Addr().Unmap().String(), port, dflt)
}

// hostIs reports whether host is normalHost(net.JoinHostPort(name, port)), dflt saying
// that port is the scheme's default (which normalHost cuts).
func hostIs(host, name string, port []byte, dflt bool) bool {
	rest, ok := host, true
	if strings.Contains(name, ":") { // an IPv6 address, in brackets
		if rest, ok = strings.CutPrefix(rest, "["); ok {
			if rest, ok = strings.CutPrefix(rest, name); ok {
				rest, ok = strings.CutPrefix(rest, "]")
			}
		}
	} else {
		rest, ok = strings.CutPrefix(rest, name)
	}
	if !ok {
		return false
	}
	if rest == "" {
		return dflt
	}
	return rest[0] == ':' && rest[1:] == string(port)
}

// localAddrPort is the address and port r came in on.
func localAddrPort(r *http.Request) (netip.AddrPort, bool) {
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr:
		return a.AddrPort(), true
	case net.Addr:
		ap, err := netip.ParseAddrPort(a.String())
		return ap, err == nil
	}
	return netip.AddrPort{}, false
}

// checkOrigin refuses a state-changing request whose Origin is not exactly the public URL's
// origin (or, over loopback, the connection's own), when a public URL is configured.
// Cross-origin protection trusts Sec-Fetch-Site when the browser sends it (its same-origin is a
// whole origin: scheme, host and port), and otherwise compares the Origin's host with the Host
// header only: so for a browser without Sec-Fetch-Site, a page of http://gatehouse.example
// (plain HTTP, which anyone on the network can write) could post to https://gatehouse.example.
// Requests with Sec-Fetch-Site are left to it: a browser that sends it also sends "Origin:
// null" on its own same-origin forms under our Referrer-Policy: no-referrer.
func (s *Server) checkOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if safeMethod(r.Method) || s.publicHost == "" || origin == "" || r.Header.Get("Sec-Fetch-Site") != "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := url.Parse(origin)
		if err == nil && u.Path == "" {
			scheme, host := strings.ToLower(u.Scheme), normalHost(u.Host, strings.ToLower(u.Scheme))
			if (scheme == s.publicScheme && host == s.publicHost) ||
				(scheme == connScheme(r) && slices.Contains(loopbackHosts(r), host)) {
				next.ServeHTTP(w, r)
				return
			}
		}
		s.crossOriginRefused(w, r)
	})
}

// crossOriginRefused is the answer to a form sent from another site.
func (s *Server) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	s.log.Warn("cross-origin request refused", "method", r.Method, "path", logPath(r), "origin", logValue(r.Header.Get("Origin")))
	s.errorPage(w, r, http.StatusForbidden, "Request refused",
		"This form was sent from another site, so the System refused it. Go back to the page and try again.")
}

// safeMethod reports whether method changes nothing (no handler changes state on GET).
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}
