package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address of the person making the request: the rate limit, the request log
// and the audit log all use it. It is the TCP peer, unless the peer is one of the trusted
// proxies (Config.TrustedProxies): then it is the client the proxy names in X-Forwarded-For or
// Forwarded. Anyone can send those headers, so they are read only from a trusted peer, and only
// the hops that trusted proxies added are believed (rightmostUntrusted). X-Forwarded-For, when
// the request has one, is the one read: every common proxy (nginx, Caddy, Traefik, HAProxy's
// option forwardfor, cloud load balancers) sets or appends it, and nginx passes a client's own
// Forwarded through untouched, so a client's Forwarded must not count against it (L5: a
// forged Forwarded that disagreed made the proxy's own address count, one bucket shared with
// every client). Forwarded is read only from a request without X-Forwarded-For, as from a
// proxy that sets only it.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	peer := peerAddr(r)
	if !s.trusted(peer) {
		return peer
	}
	header := forwardedElements(r.Header.Values("Forwarded"))
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		header = forwardedFor(xff)
	}
	if a, ok := s.rightmostUntrusted(header); ok {
		return a
	}
	return peer
}

// peerAddr is the TCP peer's address (IPv4-mapped IPv6 addresses as IPv4).
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// trusted reports whether a is inside the trusted proxies' ranges.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.trustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// rightmostUntrusted walks the hops of a forwarding header from the right, the one the nearest
// proxy added: the first hop that is not a trusted proxy is the client. Hops further left were
// written by that client, or by proxies it chose, and are worth nothing. A hop that is not an
// address ("unknown", an obfuscated name, garbage) stops the walk at the last trusted proxy
// before it. ok is false when the header names nobody.
func (s *Server) rightmostUntrusted(hops []string) (addr netip.Addr, ok bool) {
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHop(hops[i])
		if err != nil {
			return addr, ok
		}
		addr, ok = a, true
		if !s.trusted(a) {
			return a, true
		}
	}
	return addr, ok // every hop a trusted proxy: the left-most is the client
}

// parseHop reads one hop: an address, perhaps with a port, IPv6 perhaps in brackets.
func parseHop(h string) (netip.Addr, error) {
	h = strings.TrimSpace(h)
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	return a.Unmap(), err
}

// forwardedFor splits X-Forwarded-For headers into hops, left to right.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	return hops
}

// forwardedElements reads the for= of each element of RFC 7239 Forwarded headers, left to
// right (e.g. `for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`). An element without
// for= is a hop that names nobody.
func forwardedElements(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			hop := "unknown"
			for _, pair := range strings.Split(elem, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") {
					hop = strings.Trim(val, `"`)
				}
			}
			hops = append(hops, hop)
		}
	}
	return hops
}

// limiterKey is the rate limiter's key for a client address: IPv4 addresses one by one, IPv6
// per /64, the smallest network a site is given (anyone holding one has 2^64 addresses).
func limiterKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
