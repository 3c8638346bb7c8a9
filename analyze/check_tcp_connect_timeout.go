package analyze

import (
	"fmt"
	"net/netip"
)

var checkTCPConnectTimeout = &Check{ID: "tcp-connect-timeout", Layer: "tcp", Severity: Error,
	SeverityNote: "warning when another address of the same host connected (e.g. broken IPv6 beside working IPv4)",
	Title:        "a SYN to the resolved address was never answered",
	Doc: "The client's SYN (and its retransmissions) got no SYN-ACK, no reset and no ICMP error — or a router " +
		"said the host is unreachable. The host is named from the DNS answers in the capture.",
	Role: RoleSymptom,
	GoErrors: []string{
		"ssh: connect to host github.com port 22: Connection timed out",
		"dial tcp 142.250.74.113:443: i/o timeout",
		"proxyconnect tcp: dial tcp 10.0.0.8:3128: i/o timeout",
	},
	RestsOnSilence: true,
	run:            runTCPConnectTimeout}

func runTCPConnectTimeout(ctx *Context) []Finding {
	return ctx.failedConnects(connTimeout, func(host string, server netip.AddrPort, attempts string, ev []Evidence) Finding {
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("connections to %s (%s) time out", server, host),
			Expected: fmt.Sprintf("a SYN-ACK from %s", server),
			Observed: attempts + ", no answer",
			Evidence: ev,
		}
		via := ""
		if names := ctx.namesFor(server.Addr()); len(names) > 0 {
			via = fmt.Sprintf(" (%s resolved to it in this capture)", names[0])
		}
		f.Hint = fmt.Sprintf("Packets to %s%s vanish: a firewall drops them, the route is broken, or the address "+
			"itself is wrong (see any DNS finding above). ", server, via)
		if server.Addr().Is6() {
			f.Hint += "This is IPv6: if the host has no working IPv6 route, fix it or disable IPv6 on the interface; " +
				"the go command falls back to IPv4 only after a delay. "
		}
		f.Hint += "If you must use a proxy to reach the internet, set HTTPS_PROXY; behind a firewall that blocks " +
			host + ", set GOPROXY to a mirror you can reach (a corporate Athens/Artifactory, or https://goproxy.io)."
		if ctx.hostConnected(host, server.Port()) {
			f.Severity = Warning
			f.Summary += " (another address of it worked)"
		}
		return f
	})
}
