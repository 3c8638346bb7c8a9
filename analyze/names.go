package analyze

import (
	_ "embed"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// internalSuffixes are name suffixes that never exist in the public DNS:
// special-use names (RFC 6761, RFC 6762 .local, RFC 8375 .home.arpa,
// .internal reserved by ICANN in 2024) and suffixes that networks use by
// convention for private zones.
var internalSuffixes = []string{
	".internal", ".corp", ".lan", ".local", ".home.arpa", ".home", ".intranet",
	".private", ".localdomain", ".localhost", ".test", ".example", ".invalid", ".in-addr.arpa", ".ip6.arpa",
}

// isPublicName reports whether a name is expected to exist in the public
// DNS: not single-label and not under an internal suffix.
func isPublicName(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if !strings.Contains(name, ".") {
		return false
	}
	for _, s := range internalSuffixes {
		if strings.HasSuffix(name, s) || name == s[1:] {
			return false
		}
	}
	return true
}

// specialRange is one entry of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (RFC 6890 and its updates).
type specialRange struct {
	prefix netip.Prefix
	name   string
}

var specialRanges = func() []specialRange {
	table := []struct{ cidr, name string }{
		{"0.0.0.0/8", "the unspecified \"this network\" range"},
		{"10.0.0.0/8", "a private (RFC 1918) address"},
		{"100.64.0.0/10", "a carrier-grade NAT (RFC 6598) address"},
		{"127.0.0.0/8", "a loopback address"},
		{"169.254.0.0/16", "a link-local address"},
		{"172.16.0.0/12", "a private (RFC 1918) address"},
		{"192.0.0.0/24", "an IETF protocol assignment"},
		{"192.0.2.0/24", "a documentation address (TEST-NET-1)"},
		{"192.88.99.0/24", "a deprecated 6to4 relay address"},
		{"192.168.0.0/16", "a private (RFC 1918) address"},
		{"198.51.100.0/24", "a documentation address (TEST-NET-2)"},
		{"203.0.113.0/24", "a documentation address (TEST-NET-3)"},
		{"224.0.0.0/4", "a multicast address"},
		{"240.0.0.0/4", "a reserved address"},
		{"::/128", "the unspecified address"},
		{"::1/128", "the loopback address"},
		{"100::/64", "a discard-only address"},
		{"2001:db8::/32", "a documentation address"},
		{"3fff::/20", "a documentation address"},
		{"fc00::/7", "a unique local (private) address"},
		{"fe80::/10", "a link-local address"},
		{"ff00::/8", "a multicast address"},
	}
	out := make([]specialRange, len(table))
	for i, t := range table {
		out[i] = specialRange{netip.MustParsePrefix(t.cidr), t.name}
	}
	return out
}()

// fakeIPRanges are the ranges tunnelling proxies hand out in fake-IP mode:
// 198.18.0.0/15 (reserved for benchmarking, RFC 2544) by Clash/mihomo,
// sing-box and Surge; fc00::/18 by mihomo and sing-box for IPv6.
var fakeIPRanges = []netip.Prefix{netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("fc00::/18")}

// isFakeIP reports whether addr lies in a fake-IP range.
func isFakeIP(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range fakeIPRanges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// specialPurpose names the special-purpose range addr lies in, if any.
// Fake-IP ranges are left to their own check.
func specialPurpose(addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	if isFakeIP(addr) {
		return "", false
	}
	if addr.Is4() && addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "the broadcast address", true
	}
	for _, r := range specialRanges {
		if r.prefix.Contains(addr) {
			return r.name, true
		}
	}
	return "", false
}

// teredo is 2001::/32 (RFC 4380): an AAAA answer there for a public name
// is a well-known mark of a forged response.
var teredo = netip.MustParsePrefix("2001::/32")

//go:embed data/forged-ips.txt
var forgedIPData string

// forgedIPs is the set of addresses known from published measurements to
// appear in forged DNS answers (see data/forged-ips.txt for the sources).
// It is built on first use: parsing the list was most of this package's
// start-up time, paid by every command.
var forgedIPs = sync.OnceValue(func() *forgedList { return parseForgedList(forgedIPData) })

// forgedList is the list of forged-answer addresses, sorted, each with the
// publication it comes from. A sorted list read in place costs a tenth of
// a map of the 660 addresses to build, which every capture with a DNS
// answer pays, however small.
type forgedList struct {
	addrs   []forgedAddr
	sources []string
}

type forgedAddr struct {
	addr   netip.Addr
	source int // index in forgedList.sources
}

// parseForgedList reads the list's format: one address per line, "#
// source:" lines naming where the addresses below them were published,
// other "#" lines comments. An address listed twice keeps its first source.
func parseForgedList(data string) *forgedList {
	l := &forgedList{}
	for rest := data; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "# source:"):
			source := strings.TrimSpace(strings.TrimPrefix(line, "# source:"))
			if i := strings.Index(source, ","); i > 0 && strings.HasPrefix(source, "GFW Report") {
				source = "the GFW Report Wallbleed study (NDSS 2025)"
			} else if strings.HasPrefix(source, "ChinaDNS") {
				source = "the ChinaDNS list of forged answers"
			}
			l.sources = append(l.sources, source)
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			if a, err := netip.ParseAddr(line); err == nil {
				if len(l.sources) == 0 {
					l.sources = append(l.sources, "")
				}
				l.addrs = append(l.addrs, forgedAddr{a, len(l.sources) - 1})
			}
		}
	}
	slices.SortStableFunc(l.addrs, func(a, b forgedAddr) int { return a.addr.Compare(b.addr) })
	l.addrs = slices.CompactFunc(l.addrs, func(a, b forgedAddr) bool { return a.addr == b.addr })
	return l
}

// lookup returns the source that lists a, if any.
func (l *forgedList) lookup(a netip.Addr) (string, bool) {
	i, ok := slices.BinarySearchFunc(l.addrs, a, func(e forgedAddr, t netip.Addr) int { return e.addr.Compare(t) })
	if !ok {
		return "", false
	}
	return l.sources[l.addrs[i].source], true
}

// ownerSuffixes lists, for the organisations whose real addresses fill the
// forged-address pools, the names they serve: an answer from the pool for
// such a name may be genuine.
var ownerSuffixes = map[string][]string{
	"facebook": {"facebook.com", "fbcdn.net", "facebook.net", "instagram.com", "cdninstagram.com", "whatsapp.net", "whatsapp.com", "fb.com", "messenger.com"},
	"twitter":  {"twitter.com", "twimg.com", "x.com", "t.co"},
	"dropbox":  {"dropbox.com", "dropboxapi.com", "dropboxstatic.com", "db.tt"},
	"google":   {"google.com", "googleapis.com", "gstatic.com", "youtube.com", "golang.org", "go.dev", "googlevideo.com", "ggpht.com", "googleusercontent.com"},
}

// ownerPrefixes maps address blocks in the pools to their owner; built on
// first use, like forgedIPs.
var ownerPrefixes = sync.OnceValue(func() map[netip.Prefix]string {
	m := map[string]string{
		"31.13.64.0/18": "facebook", "157.240.0.0/16": "facebook", "69.171.224.0/19": "facebook",
		"66.220.144.0/20": "facebook", "69.63.176.0/20": "facebook", "173.252.64.0/18": "facebook",
		"179.60.192.0/22": "facebook", "185.60.216.0/22": "facebook", "2a03:2880::/32": "facebook",
		"199.16.156.0/22": "twitter", "199.59.148.0/22": "twitter", "104.244.40.0/21": "twitter",
		"192.133.76.0/22": "twitter", "199.96.56.0/21": "twitter", "202.160.128.0/22": "twitter",
		"185.45.4.0/22": "twitter", "103.252.112.0/22": "twitter",
		"108.160.160.0/20": "dropbox", "162.125.0.0/16": "dropbox",
		"74.125.0.0/16": "google", "72.14.192.0/18": "google", "209.85.128.0/17": "google", "130.211.0.0/16": "google",
	}
	out := make(map[netip.Prefix]string, len(m))
	for cidr, owner := range m {
		out[netip.MustParsePrefix(cidr)] = owner
	}
	return out
})

// forgedFor reports whether addr, answered for name, is a known forged
// answer, and where that is published. Pool addresses that belong to the
// organisation serving name are not counted.
func forgedFor(name string, addr netip.Addr) (string, bool) {
	addr = addr.Unmap()
	source, ok := forgedIPs().lookup(addr)
	if !ok {
		return "", false
	}
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for p, owner := range ownerPrefixes() {
		if !p.Contains(addr) {
			continue
		}
		for _, s := range ownerSuffixes[owner] {
			if name == s || strings.HasSuffix(name, "."+s) {
				return "", false
			}
		}
	}
	return source, true
}

// describeResolver says what a resolver address usually is, so that a
// finding can name the program to look at.
func describeResolver(a netip.Addr) string {
	a = a.Unmap()
	switch a.String() {
	case "127.0.0.53", "127.0.0.54":
		return "systemd-resolved's local stub resolver"
	case "127.0.0.11":
		return "Docker's embedded DNS server (user-defined networks)"
	case "8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844":
		return "Google Public DNS"
	case "1.1.1.1", "1.0.0.1", "2606:4700:4700::1111", "2606:4700:4700::1001":
		return "Cloudflare's public resolver"
	case "9.9.9.9", "149.112.112.112":
		return "Quad9"
	case "208.67.222.222", "208.67.220.220":
		return "OpenDNS (Cisco Umbrella)"
	case "114.114.114.114", "114.114.115.115":
		return "114DNS"
	case "223.5.5.5", "223.6.6.6":
		return "AliDNS"
	case "119.29.29.29":
		return "DNSPod"
	case "10.0.2.3":
		return "the NAT DNS proxy of QEMU/VirtualBox"
	case "168.63.129.16":
		return "Azure's platform DNS"
	case "169.254.169.253":
		return "the Amazon VPC resolver"
	}
	switch {
	case a.IsLoopback():
		return "a resolver on this machine: dnsmasq, unbound, a VPN client or a proxy's DNS such as Clash/mihomo"
	case a.IsPrivate():
		return "a resolver on the local network, usually the router or a corporate DNS server"
	case a.IsLinkLocalUnicast():
		return "a link-local resolver"
	}
	return "a public resolver"
}

// isLocalStub reports whether a resolver address is a stub on this host.
func isLocalStub(a netip.Addr) bool { return a.Unmap().IsLoopback() }
