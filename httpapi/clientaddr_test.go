package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddr: X-Forwarded-For counts only when the peer is a trusted
// proxy, and then its rightmost untrusted address is the client — what a
// client writes into the header itself cannot make it someone else.
func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer keeps its address", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9:5000"},
		{"trusted peer without header", "10.0.0.2:5000", nil, "10.0.0.2:5000"},
		{"one proxy", "10.0.0.2:5000", []string{"198.51.100.1"}, "198.51.100.1:0"},
		{"forged left part ignored", "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1:0"},
		{"chain of trusted proxies", "10.0.0.2:5000", []string{"198.51.100.1, 10.0.0.7", "10.0.0.3"}, "198.51.100.1:0"},
		{"all trusted: leftmost", "10.0.0.2:5000", []string{"10.0.0.9, 10.0.0.7"}, "10.0.0.9:0"},
		{"garbage after the client", "10.0.0.2:5000", []string{"nonsense, 198.51.100.1"}, "198.51.100.1:0"},
		{"only garbage", "10.0.0.2:5000", []string{"nonsense"}, "10.0.0.2:5000"},
		{"IPv6 loopback proxy, IPv6 client", "[::1]:5000", []string{"2001:db8::1"}, "[2001:db8::1]:0"},
		{"IPv4-mapped client", "10.0.0.2:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1:0"},
	} {
		var got string
		h := clientAddr(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("%s: RemoteAddr %q, want %q", tc.name, got, tc.want)
		}
	}
	// No trusted proxies: the header is never read.
	var got string
	h := clientAddr(nil, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.2:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "10.0.0.2:5000" {
		t.Errorf("without trusted proxies: %q", got)
	}
}
