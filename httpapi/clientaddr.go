package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/meridian-graphql/meridian/auth"
)

// clientAddr makes r.RemoteAddr the client's address when the request came
// through a trusted proxy, so that security log lines, access logs and the
// per-address rate limit of anonymous callers see the client rather than
// the proxy. X-Forwarded-For is read right to left: each proxy appends the
// address it saw, so the rightmost address that is not a trusted proxy is
// the client; anything left of it was written by the client and may be
// forged. A request from an untrusted peer keeps its address, whatever
// headers it sends. The address also goes into the request's context for
// the limit of failed authentications (auth.WithClient).
func clientAddr(trusted []netip.Prefix, next http.Handler) http.Handler {
	next = withClient(next)
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !isTrusted(peer.Addr()) {
			next.ServeHTTP(w, r)
			return
		}
		if client, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), isTrusted); ok {
			r2 := r.Clone(r.Context())
			r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedFor returns the rightmost address of the X-Forwarded-For values
// that isTrusted refuses, or the leftmost one when every address is
// trusted. A malformed entry ends the walk: what is left of it cannot be
// attributed, so the last good address seen stands.
func forwardedFor(values []string, isTrusted func(netip.Addr) bool) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		last = a.Unmap()
		if !isTrusted(last) {
			return last, true
		}
	}
	return last, last.IsValid()
}

// withClient puts r.RemoteAddr's host into the context for auth.
func withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		next.ServeHTTP(w, r.WithContext(auth.WithClient(r.Context(), host)))
	})
}
