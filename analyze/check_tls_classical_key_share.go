package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSClassicalKeyShare = &Check{ID: "tls-classical-key-share", Layer: "tls", Severity: Warning,
	Title: "a post-quantum key share was declined by a host that supports it",
	Doc: "The client offered X25519MLKEM768 and the server of a host known to support it (Google's front ends: " +
		"proxy.golang.org, sum.golang.org, go.dev, golang.org, storage.googleapis.com) chose a classical group: " +
		"an interceptor with an older TLS library is likely in the path.",
	Role:         RoleCause,
	Interception: true,
	GoErrors: []string{
		"remote error: tls: handshake failure",
	},
	run: runTLSClassicalKeyShare}

func runTLSClassicalKeyShare(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		if s.ClientHello == nil || s.ServerHello == nil || !s.ClientHello.OffersPostQuantum() || !s.TLS13() {
			continue
		}
		host := sessionHost(ctx, s)
		if !isGoogleFrontEnd(host) || seen[host] {
			continue
		}
		group := s.ServerHello.KeyShareGroup
		if group == 0 || tlswire.IsPostQuantumGroup(group) {
			continue
		}
		seen[host] = true
		var offered []string
		for _, g := range s.ClientHello.KeyShareGroups {
			if !tlswire.IsGREASE(g) {
				offered = append(offered, tlswire.GroupName(g))
			}
		}
		out = append(out, Finding{
			Severity: Warning, Host: host,
			Summary:  fmt.Sprintf("%s chose the classical group %s over the post-quantum one offered", host, tlswire.GroupName(group)),
			Expected: host + " (a Google front end) selects X25519MLKEM768 when offered",
			Observed: fmt.Sprintf("key shares offered: %s; the server chose %s", strings.Join(offered, ", "), tlswire.GroupName(group)),
			Evidence: []Evidence{evidence(s.ClientHelloAt, "ClientHello with key shares %s", strings.Join(offered, ", ")),
				evidence(s.ServerHelloAt, "ServerHello selects %s", tlswire.GroupName(group))},
			Hint: "The TLS peer is probably not Google but an interceptor with an older TLS library. Capture with " +
				"keys (`modsniff probe`) to see its certificate.",
		})
	}
	return out
}
