package analyze

import (
	"strconv"

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
	// The sessions to report first, then their findings in a list of
	// the right size: a dense capture has one per host, and growing the
	// list of 176-byte findings by doubling allocated twice its size.
	// One finding per (host, chain class, top issuer). The (class,
	// issuer) pairs, few, are numbered, so that what is kept per host is a
	// name and a number rather than three strings.
	type hit struct {
		s    *decode.TLSSession
		host string
		v    *chainVerdict
	}
	var hits []hit
	type classIssuer struct{ class, issuer string }
	pairs := make(map[classIssuer]int32)
	type hostPair struct {
		host string
		pair int32
	}
	seen := make(map[hostPair]struct{})
	for _, s := range ctx.Events.TLS {
		v := ctx.chainOf(s).v
		if v == nil {
			continue // no parsed chain
		}
		if v.Trusted || v.TrustedByUser {
			continue
		}
		ci := classIssuer{v.Class, v.TopIssuer}
		pair, ok := pairs[ci]
		if !ok {
			pair = int32(len(pairs))
			pairs[ci] = pair
		}
		host := sessionHost(ctx, s)
		key := hostPair{host, pair}
		if _, ok := seen[key]; ok {
			continue
		}
		seen[key] = struct{}{}
		hits = append(hits, hit{s, host, v})
	}
	if len(hits) == 0 {
		return nil
	}
	out := make([]Finding, len(hits))
	for i, h := range hits {
		out[i] = foreignIssuerFinding(ctx, h.s, h.host, h.v)
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

func (t *foreignIssuerText) fill(host string, sc *jsonScratch) findingTexts {
	s := t.s
	var buf [4]*tlswire.CertData
	chain := appendParsedChain(buf[:0], s.Certificates)
	leaf := chain[0].Info
	ev := sc.evidenceList(2 + len(s.Alerts))
	ev = append(ev,
		Evidence{At: s.ClientHelloAt, Detail: sc.format(func(b []byte) []byte {
			return strconv.AppendQuote(append(b, "ClientHello for "...), sniOf(s))
		})},
		Evidence{At: s.CertificatesAt, Detail: sc.format(func(b []byte) []byte {
			b = appendDisplayName(append(b, "certificate for "...), &leaf.Subject)
			return appendDisplayName(append(b, " issued by "...), &leaf.Issuer)
		})})
	for _, a := range s.Alerts {
		if a.From == tlswire.ClientToServer && a.Fatal() {
			ev = append(ev, Evidence{At: a.At, Detail: sc.cat("client alert ", a.Name())})
		}
	}
	x := findingTexts{Evidence: ev}
	what, hint := t.what(chain, sc)
	switch t.grade(host) {
	case foreignInternal:
		hint = "Normal for an internal server. Make the go command trust the CA: install it with " +
			"update-ca-certificates or point SSL_CERT_FILE at a bundle that contains it; pass it to modsniff " +
			"with --trust to silence this note."
	case foreignAccepted:
		hint = sc.cat("The client trusts this CA, so the fetch may work, but TLS to ", host, " is not end to end. ", hint)
	}
	x.Summary, x.Hint = t.summaryOf(chain, host, what, sc), hint
	x.Expected = sc.cat("a chain for ", host, " leading to a public root (Mozilla's root store)")
	chainText := sc.format(func(b []byte) []byte { return appendChainText(b, chain) })
	if _, how := clientBehaviour(s); how != "" {
		x.Observed = sc.cat(what, "; chain: ", chainText, "; ", how)
	} else {
		x.Observed = sc.cat(what, "; chain: ", chainText)
	}
	return x
}

func (t *foreignIssuerText) summary(host string, sc *jsonScratch) string {
	var buf [4]*tlswire.CertData
	chain := appendParsedChain(buf[:0], t.s.Certificates)
	what, _ := t.what(chain, sc)
	return t.summaryOf(chain, host, what, sc)
}

// summaryOf words the finding's summary, what being t.what's, from sc.
func (t *foreignIssuerText) summaryOf(chain []*tlswire.CertData, host, what string, sc *jsonScratch) string {
	switch t.grade(host) {
	case foreignInternal:
		return sc.format(func(b []byte) []byte {
			return appendDisplayName(append(append(b, host...), " (an internal name) uses a private CA: "...), &chain[0].Info.Issuer)
		})
	case foreignAccepted:
		return sc.cat(host, " presented ", what, ", and the client accepted it")
	}
	return sc.cat(host, " presented ", what)
}

// what words what the server presented, a noun phrase ("<host> presented
// <what>"), and the fix for it, from sc.
func (t *foreignIssuerText) what(chain []*tlswire.CertData, sc *jsonScratch) (what, hint string) {
	switch t.class {
	case "interception":
		what = sc.cat("a certificate from ", t.topIssuer, ", the CA of ", t.product.Product, " (", t.product.Kind, ")")
		hint = t.product.Fix
	case "impersonation":
		what = sc.cat("a chain that names ", t.claimed, " but is not signed by it — forged to look public")
		hint = "Someone is impersonating a public CA — strong evidence of interception. Do not trust this chain; " +
			"find the device doing it (a corporate gateway, malware, a compromised router) before going on."
	case "self-signed":
		what = sc.format(func(b []byte) []byte {
			return append(appendDisplayName(append(b, "a self-signed certificate ("...), &chain[0].Info.Subject), ')')
		})
		hint = "The server (or something in front of it) presents a self-signed certificate. For your own " +
			"internal GOPROXY, give it a certificate from your CA and trust that CA via SSL_CERT_FILE; for a public " +
			"host this is interception."
	case "unknown-public":
		what = sc.cat("a chain ending at ", t.claimed, ", which is not in Mozilla's root store")
		hint = "Either the server did not send its intermediate certificate (Go does not fetch missing " +
			"intermediates: fix the server's fullchain), or the chain ends at a root that has left the root store " +
			"(the server must move to a current CA; an outdated ca-certificates package on the client may still " +
			"accept it, a current one will not)."
	default:
		what = sc.cat("a certificate from ", t.topIssuer, ", a private or corporate CA")
		hint = fixCorporate
	}
	if t.unsupported {
		what = sc.cat(what, " (its signature algorithm is not supported)")
	}
	return what, hint
}

// chainText lists a chain as "subject ← issuer" steps.
func chainText(chain []*tlswire.CertData) string { return string(appendChainText(nil, chain)) }

// appendChainText appends chainText(chain) to b.
func appendChainText(b []byte, chain []*tlswire.CertData) []byte {
	for i, c := range chain {
		if i > 0 {
			b = append(b, " ← "...)
		}
		b = appendDisplayName(b, &c.Info.Subject)
	}
	if top := chain[len(chain)-1].Info; !top.SelfIssued {
		b = appendDisplayName(append(b, " ← "...), &top.Issuer) // the issuer the server did not send
	}
	return b
}
