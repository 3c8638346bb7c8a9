package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSVersionDowngrade = &Check{ID: "tls-version-downgrade", Layer: "tls", Severity: Warning,
	SeverityNote: "info when nothing else suggests interception",
	Title:        "the client offered TLS 1.3 and the server chose an older version",
	Doc:          "The go command offers TLS 1.3; the module proxy and checksum database support it. An older version on the way to them points to an interceptor with an old TLS stack.",
	Role:         RoleCause,
	Interception: true,
	GoErrors: []string{
		"tls: server selected unsupported protocol version 301",
		"remote error: tls: protocol version not supported",
		"http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=INADEQUATE_SECURITY, debug=\"\"",
	},
	run: runTLSVersionDowngrade}

func runTLSVersionDowngrade(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		if s.ClientHello == nil || s.ServerHello == nil || !s.ClientHello.OffersTLS13() || s.TLS13() {
			continue
		}
		host := sessionHost(ctx, s)
		v := tlswire.VersionName(s.Version())
		if seen[host+"|"+v] {
			continue
		}
		seen[host+"|"+v] = true
		f := Finding{
			Severity: Warning, Host: host,
			Summary:  fmt.Sprintf("%s chose %s although the client offered TLS 1.3", host, v),
			Expected: "TLS 1.3",
			Observed: fmt.Sprintf("the server chose %s (%s)", v, tlswire.CipherSuiteName(s.ServerHello.CipherSuite)),
			Evidence: []Evidence{evidence(s.ClientHelloAt, "ClientHello offers TLS 1.3"),
				evidence(s.ServerHelloAt, "ServerHello selects %s", v)},
		}
		why := ctx.suspicion(s, host)
		if s.ServerHello.DowngradeSentinel != 0 {
			// RFC 8446 §4.1.3: a TLS 1.3 server that negotiates an older
			// version says so in its random; a client that offered 1.3 and
			// sees this must abort.
			why = strings.TrimPrefix(why+"; the server's random carries the downgrade sentinel: it speaks TLS 1.3, so something in between removed it from the ClientHello", "; ")
		}
		if why != "" {
			f.Observed += "; suspicious because " + why
			f.Hint = "An interceptor with an older TLS stack answered instead of " + host + ". Check the issuer " +
				"findings and the proxies in the path."
		} else {
			f.Severity = Info
			f.Summary += " (benign for an older server)"
			f.Hint = "TLS 1.2 is still secure and the go command accepts it. Nothing to do unless other findings point to interception."
		}
		out = append(out, f)
	}
	return out
}
