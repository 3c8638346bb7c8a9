package analyze

import (
	"net/netip"
	"strings"
	"testing"
)

// TestForgedListKeepsEachAddressWithItsFirstSource reads a list in the
// data file's format: addresses are found whatever their order, an
// address listed twice keeps the source it was first listed under, and
// comments and unparseable lines are skipped.
func TestForgedListKeepsEachAddressWithItsFirstSource(t *testing.T) {
	l := parseForgedList(`# a comment
192.0.2.9
# source: ChinaDNS iplist.txt (shadowsocks/ChinaDNS)
203.0.113.7
198.51.100.1
not an address
# source: GFW Report, "Wallbleed"
2001:db8::1
203.0.113.7
  198.51.100.200  
`)
	for _, tc := range []struct {
		addr, source string
		listed       bool
	}{
		{"192.0.2.9", "", true},
		{"203.0.113.7", "the ChinaDNS list of forged answers", true},
		{"198.51.100.1", "the ChinaDNS list of forged answers", true},
		{"2001:db8::1", "the GFW Report Wallbleed study (NDSS 2025)", true},
		{"198.51.100.200", "the GFW Report Wallbleed study (NDSS 2025)", true},
		{"198.51.100.2", "", false},
		{"::ffff:203.0.113.7", "", false}, // forgedFor unmaps first
	} {
		src, ok := l.lookup(netip.MustParseAddr(tc.addr))
		if ok != tc.listed || src != tc.source {
			t.Errorf("%s: %q %v, want %q %v", tc.addr, src, ok, tc.source, tc.listed)
		}
	}
	if len(l.addrs) != 5 {
		t.Errorf("%d addresses kept, want 5", len(l.addrs))
	}
}

// TestForgedListHoldsEveryAddressOfTheDataFile checks the embedded list:
// every address line is found, under a named source.
func TestForgedListHoldsEveryAddressOfTheDataFile(t *testing.T) {
	l := forgedIPs()
	n := 0
	for _, line := range strings.Split(forgedIPData, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if src, ok := l.lookup(netip.MustParseAddr(line)); !ok || src == "" {
			t.Errorf("%s: %q %v", line, src, ok)
		}
	}
	if n < 600 || len(l.addrs) > n {
		t.Errorf("%d address lines, %d kept", n, len(l.addrs))
	}
}

// BenchmarkParseForgedList is the cost of the list, paid once by every
// analysis of a capture with a DNS answer.
func BenchmarkParseForgedList(b *testing.B) {
	for b.Loop() {
		parseForgedList(forgedIPData)
	}
}
