package analyze

import (
	"net"
	"testing"
)

// TestIsIPAddressAgreesWithParseIP checks the shortcut that skips parsing
// host names.
func TestIsIPAddressAgreesWithParseIP(t *testing.T) {
	for _, s := range []string{"", "proxy.golang.org", "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "1.2.3", "1.2.3.4.5",
		"0x7f.0.0.1", "fe80::1%eth0", "[::1]", "10.0.0.256", "123", "...", "a:b", "1e100.net", "01.02.03.04"} {
		if got, want := isIPAddress(s), net.ParseIP(s) != nil; got != want {
			t.Errorf("%q: %v, net.ParseIP says %v", s, got, want)
		}
	}
}
