package analyze

import (
	"strconv"
	"strings"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSForeignIssuer = &Check{ID: "tls-foreign-issuer", Layer: "tls", Severity: Error,
	SeverityNote: "error when the client then aborted, warning when it carried on (it trusts the interceptor), info for an internal name served by a private CA",
	Title:        "the certificate chain does not lead to a public root",
	Doc: "Each chain is verified with crypto/x509 against the embedded Mozilla root set (or the system store " +
		"with --system-roots) plus --trust CAs. An untrusted chain is classified: a known interception product " +
		"(mitmproxy, Charles, Fiddler, Burp, Zscaler, FortiGate, Netskope, antivirus …), a chain that names a " +
		"public CA but is not signed by it (impersonation), a self-signed certificate, an incomplete chain, or " +
		"a private/corporate CA.",
	Role:         RoleCause,
	Interception: true,
	GoErrors: []string{
		"x509: cannot verify signature: insecure algorithm SHA1-RSA",
		"tls: failed to verify certificate: x509: certificate signed by unknown authority",
		"tls: first record does not look like a TLS handshake",
		"http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=INADEQUATE_SECURITY, debug=\"\"",
		"verifying example.com/m@v1.0.0: checksum mismatch",
	},
	run: runTLSForeignIssuer}

// clientVerdict says what the client did after the server's flight.
type clientVerdict int

const (
	clientUnknown clientVerdict = iota
	clientCarriedOn
	clientAborted
)

// clientBehaviour tells whether the client went on to send application data
// (it accepted the server) or aborted: a fatal alert, or a close without
// application data.
func clientBehaviour(s *decode.TLSSession) (clientVerdict, string) {
	if a := s.FatalAlert(tlswire.ClientToServer); a != nil {
		return clientAborted, "the client sent a fatal " + a.Name() + " alert"
	}
	if s.ClientSentAppData() {
		return clientCarriedOn, "the client went on to send application data"
	}
	if s.Conn != nil && (!s.Conn.FIN[0].IsZero() || hasClientReset(s.Conn)) {
		return clientAborted, "the client closed the connection without sending application data"
	}
	return clientUnknown, ""
}

func runTLSForeignIssuer(ctx *Context) []Finding {
	var out []Finding
	type hostClass struct{ host, class, issuer string }
	seen := make(map[hostClass]bool) // one finding per (host, chain class)
	for _, s := range ctx.Events.TLS {
		v := ctx.chainOf(s).v
		if v == nil {
			continue // no parsed chain
		}
		if v.Trusted || v.TrustedByUser {
			continue
		}
		host := sessionHost(ctx, s)
		key := hostClass{host, v.Class, v.TopIssuer}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, foreignIssuerFinding(ctx, s, host, v))
	}
	return out
}

// foreignIssuerFinding explains an untrusted chain: its host and
// severity now, its texts and evidence (foreignIssuerText) when they are
// read.
func foreignIssuerFinding(ctx *Context, s *decode.TLSSession, host string, v *chainVerdict) Finding {
	t := &foreignIssuerText{s: s, class: v.Class, topIssuer: v.TopIssuer, claimed: v.Claimed, product: v.Product,
		unsupported: v.Unsupported}
	f := Finding{Host: host, text: t}
	switch t.grade(host) {
	case foreignInternal:
		f.Severity = Info
	case foreignAccepted:
		f.Severity = Warning
	default:
		f.Severity = Error
	}
	if !ctx.Opt.StreamEvents {
		f.buildText()
		return f
	}
	// Until the texts are built, the evidence is its first packet, by
	// which the findings sort (firstEvidence).
	first := s.ClientHelloAt
	later := func(a, b capture.Ref) bool { return a.Input > b.Input || a.Input == b.Input && a.Packet > b.Packet }
	if later(first, s.CertificatesAt) {
		first = s.CertificatesAt
	}
	for _, a := range s.Alerts {
		if a.From == tlswire.ClientToServer && a.Fatal() && later(first, a.At) {
			first = a.At
		}
	}
	f.Evidence = []Evidence{{At: first}}
	return f
}

// foreignCase is how a foreign chain is worded and graded.
type foreignCase int

const (
	// foreignRefused: the client did not accept the chain (error).
	foreignRefused foreignCase = iota
	// foreignAccepted: the client carried on (warning).
	foreignAccepted
	// foreignInternal: an internal name with a private CA (info).
	foreignInternal
)

// foreignIssuerText builds the texts and evidence of a tls-foreign-issuer
// finding from its session, which the analysis keeps anyway, and what the
// chain's verdict said: 7,500 findings of a dense capture held 1.3 KB of
// text and evidence each.
type foreignIssuerText struct {
	s *decode.TLSSession
	// class, topIssuer, claimed and product are the chainVerdict's;
	// unsupported is set when crypto/x509 does not support a signature
	// algorithm of the chain.
	class, topIssuer, claimed string
	product                   *interceptor
	unsupported               bool
}

// grade grades a foreign chain by the host and what the client did.
func (t *foreignIssuerText) grade(host string) foreignCase {
	switch {
	case !isPublicName(host) && t.class != "interception" && t.class != "impersonation":
		return foreignInternal
	case t.s.FatalAlert(tlswire.ClientToServer) == nil && t.s.ClientSentAppData():
		return foreignAccepted // clientBehaviour's clientCarriedOn
	}
	return foreignRefused
}

func (t *foreignIssuerText) fill(host string) findingTexts {
	s := t.s
	var buf [4]*tlswire.CertData
	chain := appendParsedChain(buf[:0], s.Certificates)
	leaf := chain[0].Info
	x := findingTexts{Evidence: []Evidence{
		{At: s.ClientHelloAt, Detail: "ClientHello for " + strconv.Quote(sniOf(s))},
		{At: s.CertificatesAt, Detail: "certificate for " + displayName(&leaf.Subject) + " issued by " + displayName(&leaf.Issuer)},
	}}
	for _, a := range s.Alerts {
		if a.From == tlswire.ClientToServer && a.Fatal() {
			x.Evidence = append(x.Evidence, Evidence{At: a.At, Detail: "client alert " + a.Name()})
		}
	}
	what, hint := t.what(chain)
	switch t.grade(host) {
	case foreignInternal:
		hint = "Normal for an internal server. Make the go command trust the CA: install it with " +
			"update-ca-certificates or point SSL_CERT_FILE at a bundle that contains it; pass it to modsniff " +
			"with --trust to silence this note."
	case foreignAccepted:
		hint = "The client trusts this CA, so the fetch may work, but TLS to " + host + " is not end to end. " + hint
	}
	x.Summary, x.Hint = t.summaryOf(chain, host, what), hint
	x.Expected = "a chain for " + host + " leading to a public root (Mozilla's root store)"
	if _, how := clientBehaviour(s); how != "" {
		x.Observed = what + "; chain: " + chainText(chain) + "; " + how
	} else {
		x.Observed = what + "; chain: " + chainText(chain)
	}
	return x
}

func (t *foreignIssuerText) summary(host string) string {
	var buf [4]*tlswire.CertData
	chain := appendParsedChain(buf[:0], t.s.Certificates)
	what, _ := t.what(chain)
	return t.summaryOf(chain, host, what)
}

// summaryOf words the finding's summary, what being t.what's.
func (t *foreignIssuerText) summaryOf(chain []*tlswire.CertData, host, what string) string {
	switch t.grade(host) {
	case foreignInternal:
		return host + " (an internal name) uses a private CA: " + displayName(&chain[0].Info.Issuer)
	case foreignAccepted:
		return host + " presented " + what + ", and the client accepted it"
	}
	return host + " presented " + what
}

// what words what the server presented, a noun phrase ("<host> presented
// <what>"), and the fix for it.
func (t *foreignIssuerText) what(chain []*tlswire.CertData) (what, hint string) {
	switch t.class {
	case "interception":
		what = "a certificate from " + t.topIssuer + ", the CA of " + t.product.Product + " (" + t.product.Kind + ")"
		hint = t.product.Fix
	case "impersonation":
		what = "a chain that names " + t.claimed + " but is not signed by it — forged to look public"
		hint = "Someone is impersonating a public CA — strong evidence of interception. Do not trust this chain; " +
			"find the device doing it (a corporate gateway, malware, a compromised router) before going on."
	case "self-signed":
		what = "a self-signed certificate (" + displayName(&chain[0].Info.Subject) + ")"
		hint = "The server (or something in front of it) presents a self-signed certificate. For your own " +
			"internal GOPROXY, give it a certificate from your CA and trust that CA via SSL_CERT_FILE; for a public " +
			"host this is interception."
	case "unknown-public":
		what = "a chain ending at " + t.claimed + ", which is not in Mozilla's root store"
		hint = "Either the server did not send its intermediate certificate (Go does not fetch missing " +
			"intermediates: fix the server's fullchain), or the chain ends at a root that has left the root store " +
			"(the server must move to a current CA; an outdated ca-certificates package on the client may still " +
			"accept it, a current one will not)."
	default:
		what = "a certificate from " + t.topIssuer + ", a private or corporate CA"
		hint = fixCorporate
	}
	if t.unsupported {
		what += " (its signature algorithm is not supported)"
	}
	return what, hint
}

// chainText lists a chain as "subject ← issuer" steps.
func chainText(chain []*tlswire.CertData) string {
	var parts []string
	for _, c := range chain {
		parts = append(parts, displayName(&c.Info.Subject))
	}
	if top := chain[len(chain)-1].Info; !top.SelfIssued {
		parts = append(parts, displayName(&top.Issuer)) // the issuer the server did not send
	}
	return strings.Join(parts, " ← ")
}
