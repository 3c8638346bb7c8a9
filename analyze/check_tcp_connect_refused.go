package analyze

import (
	"fmt"
	"net/netip"
)

var checkTCPConnectRefused = &Check{ID: "tcp-connect-refused", Layer: "tcp", Severity: Error,
	SeverityNote: "warning when another address of the same host connected",
	Title:        "a SYN was answered with a reset",
	Doc:          "Nothing listens at that address and port, or a firewall rejects the connection (RST or ICMP port/admin unreachable).",
	Role:         RoleSymptom,
	GoErrors: []string{
		"ssh: connect to host github.com port 22: Connection refused",
		"dial tcp 127.0.0.1:443: connect: connection refused",
		"proxyconnect tcp: dial tcp 127.0.0.1:7890: connect: connection refused",
	},
	run: runTCPConnectRefused}

func runTCPConnectRefused(ctx *Context) []Finding {
	return ctx.failedConnects(connRefused, func(host string, server netip.AddrPort, attempts string, ev []Evidence) Finding {
		f := Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s refused connections to port %d (%s)", server.Addr(), server.Port(), host),
			Expected: fmt.Sprintf("a SYN-ACK from %s", server),
			Observed: attempts + " answered with a reset or an ICMP rejection",
			Evidence: ev,
			Hint: fmt.Sprintf("Nothing accepts connections at %s, or a firewall rejects them. Check the address "+
				"and port in GOPROXY (and HTTPS_PROXY); if %s is a local proxy client (Clash on 7890, a corporate "+
				"agent), start it. A bogus DNS answer also leads here: see the DNS findings.", server, server.Addr()),
		}
		if server.Addr().IsLoopback() {
			f.Hint = fmt.Sprintf("Nothing listens on %s on this machine: a proxy or mirror expected there is not "+
				"running. Start it, or remove it from GOPROXY/HTTPS_PROXY.", server)
		}
		if ctx.hostConnected(host, server.Port()) {
			f.Severity = Warning
			f.Summary += " (another address of it worked)"
		}
		return f
	})
}
