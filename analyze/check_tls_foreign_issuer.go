package analyze

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

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
		chain := parsedChain(s.Certificates)
		if len(chain) == 0 {
			continue
		}
		v := ctx.trust().verify(chain)
		if v.Trusted || v.TrustedByUser {
			continue
		}
		host := sessionHost(ctx, s)
		key := hostClass{host, v.Class, v.TopIssuer}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, foreignIssuerFinding(ctx, s, host, chain, v))
	}
	return out
}

// foreignIssuerFinding explains an untrusted chain.
func foreignIssuerFinding(ctx *Context, s *decode.TLSSession, host string, chain []*x509.Certificate, v *chainVerdict) Finding {
	leaf := chain[0]
	issuer := displayName(leaf.Issuer)
	f := Finding{Host: host, Evidence: []Evidence{
		evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s)),
		evidence(s.CertificatesAt, "certificate for %s issued by %s", displayName(leaf.Subject), issuer),
	}}
	// what is a noun phrase: "<host> presented <what>".
	var what, hint string
	switch v.Class {
	case "interception":
		what = fmt.Sprintf("a certificate from %s, the CA of %s (%s)", v.TopIssuer, v.Product.Product, v.Product.Kind)
		hint = v.Product.Fix
	case "impersonation":
		what = fmt.Sprintf("a chain that names %s but is not signed by it — forged to look public", v.Claimed)
		hint = "Someone is impersonating a public CA — strong evidence of interception. Do not trust this chain; " +
			"find the device doing it (a corporate gateway, malware, a compromised router) before going on."
	case "self-signed":
		what = fmt.Sprintf("a self-signed certificate (%s)", displayName(leaf.Subject))
		hint = "The server (or something in front of it) presents a self-signed certificate. For your own " +
			"internal GOPROXY, give it a certificate from your CA and trust that CA via SSL_CERT_FILE; for a public " +
			"host this is interception."
	case "unknown-public":
		what = fmt.Sprintf("a chain ending at %s, which is not in Mozilla's root store", v.Claimed)
		hint = "Either the server did not send its intermediate certificate (Go does not fetch missing " +
			"intermediates: fix the server's fullchain), or the chain ends at a root that has left the root store " +
			"(the server must move to a current CA; an outdated ca-certificates package on the client may still " +
			"accept it, a current one will not)."
	default:
		what = fmt.Sprintf("a certificate from %s, a private or corporate CA", v.TopIssuer)
		hint = fixCorporate
	}
	if errors.Is(v.VerifyErr, x509.ErrUnsupportedAlgorithm) {
		what += " (its signature algorithm is not supported)"
	}
	behaviour, how := clientBehaviour(s)
	internal := !isPublicName(host) && v.Class != "interception" && v.Class != "impersonation"
	switch {
	case internal:
		f.Severity = Info
		f.Summary = host + " (an internal name) uses a private CA: " + issuer
		hint = "Normal for an internal server. Make the go command trust the CA: install it with " +
			"update-ca-certificates or point SSL_CERT_FILE at a bundle that contains it; pass it to modsniff " +
			"with --trust to silence this note."
	case behaviour == clientCarriedOn:
		f.Severity = Warning
		f.Summary = host + " presented " + what + ", and the client accepted it"
		hint = "The client trusts this CA, so the fetch may work, but TLS to " + host + " is not end to end. " + hint
	default:
		f.Severity = Error
		f.Summary = host + " presented " + what
	}
	// One finding per host: its strings are built once, without
	// intermediate copies.
	f.Expected = "a chain for " + host + " leading to a public root (Mozilla's root store)"
	if how != "" {
		f.Observed = what + "; chain: " + chainText(chain) + "; " + how
	} else {
		f.Observed = what + "; chain: " + chainText(chain)
	}
	for _, a := range s.Alerts {
		if a.From == tlswire.ClientToServer && a.Fatal() {
			f.Evidence = append(f.Evidence, evidence(a.At, "client alert %s", a.Name()))
		}
	}
	f.Hint = hint
	return f
}

// chainText lists a chain as "subject ← issuer" steps.
func chainText(chain []*x509.Certificate) string {
	var parts []string
	for _, c := range chain {
		parts = append(parts, displayName(c.Subject))
	}
	if top := chain[len(chain)-1]; !bytes.Equal(top.RawIssuer, top.RawSubject) {
		parts = append(parts, displayName(top.Issuer)) // the issuer the server did not send
	}
	return strings.Join(parts, " ← ")
}
