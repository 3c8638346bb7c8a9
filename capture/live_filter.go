package capture

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// proxyEnvVars are the variables the go command (net/http's
// ProxyFromEnvironment) reads for its proxy, upper case first.
var proxyEnvVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"}

// DefaultFilter returns the BPF capture filter modsniff uses when none is
// given: DNS (port 53) and DNS over TLS (853) on UDP and TCP, HTTPS (TCP
// 443), SSH (TCP 22: git in direct mode), plain HTTP (TCP 80: plain
// proxies, portal redirects), NTP (UDP 123, for clock checks), the TCP ports of the proxies named in HTTPS_PROXY, HTTP_PROXY and
// ALL_PROXY (either case, from getenv) and of the GOPROXY and GOSUMDB URLs
// (from goEnv, which may be nil), ICMP errors (destination unreachable, time
// exceeded, parameter problem), ICMPv6 errors (types below 128), and IP
// fragments after the first, which carry no ports (a large DNS answer).
func DefaultFilter(getenv func(string) string, goEnv map[string]string) string {
	ports := []int{22, 80, 443}
	add := func(raw string) {
		if p := urlPort(raw); p > 0 && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	if getenv != nil {
		for _, k := range proxyEnvVars {
			add(getenv(k))
		}
	}
	for _, e := range strings.FieldsFunc(goEnv["GOPROXY"], func(r rune) bool { return r == ',' || r == '|' }) {
		if e = strings.TrimSpace(e); strings.Contains(e, "://") {
			add(e)
		}
	}
	if f := strings.Fields(goEnv["GOSUMDB"]); len(f) > 1 {
		add(f[len(f)-1])
	}
	slices.Sort(ports)
	var tcp []string
	for _, p := range ports {
		tcp = append(tcp, "tcp port "+strconv.Itoa(p))
	}
	return fmt.Sprintf("port 53 or port 853 or udp port 123 or %s"+
		" or (icmp and (icmp[0] == 3 or icmp[0] == 11 or icmp[0] == 12))"+
		" or (icmp6 and ip6[40] < 128)"+
		" or (ip and ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)",
		strings.Join(tcp, " or "))
}

// urlPort returns the TCP port a proxy or server URL names, or the default
// port of its scheme; 0 when it names none. A value without a scheme is
// taken as http://, as net/http does for proxies.
func urlPort(raw string) int {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return 0
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return 0
		}
		return n
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return 443
	case "http":
		return 80
	case "socks5", "socks5h":
		return 1080
	}
	return 0
}
