package analyze

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSGoPolicy = &Check{ID: "tls-go-policy", Layer: "tls", Severity: Error,
	SeverityNote: "warning when the client carried on anyway (a GODEBUG switch or another client accepted it)",
	Title:        "a certificate or server choice the go command refuses although other clients may accept it",
	Doc: "Judged from certificate fields and from the server's choices. Certificates: a negative serial number " +
		"(refused since Go 1.23; GODEBUG=x509negativeserial=1), a SHA-1 or MD5 signature on a certificate other " +
		"than the root (refused since Go 1.18, no switch left), a leaf without subjectAltName that relies on its " +
		"Common Name (refused since Go 1.17), an RSA key under 1024 bits (refused since Go 1.24; GODEBUG=rsa1024min=0), " +
		"or a certificate crypto/x509 cannot parse at all (kept raw with its parse error, never dropped). Server " +
		"choices: TLS 1.0/1.1 (Go 1.18+ clients require TLS 1.2; GODEBUG=tls10server=1), RSA key exchange " +
		"(dropped from Go 1.22's defaults; GODEBUG=tlsrsakex=1), 3DES (dropped in Go 1.23; GODEBUG=tls3des=1) — " +
		"seen in the ServerHello, or as a handshake_failure / protocol_version alert answering a ClientHello that " +
		"lacked what the server needed.",
	Role: RoleCause,
	GoErrors: []string{
		"x509: negative serial number",
		"x509: cannot verify signature: insecure algorithm SHA1-RSA",
		"x509: certificate relies on legacy Common Name field, use SANs instead",
		"tls: server selected unsupported protocol version 301",
		"remote error: tls: handshake failure",
	},
	run: runTLSGoPolicy}

// policyProblem is one thing the go command refuses.
type policyProblem struct {
	// What names the problem for the summary; Detail says where it is.
	What, Detail string
	// GoSays is the go command's error text.
	GoSays string
	// GODEBUG is the stop-gap switch, "" when none exists.
	GODEBUG string
}

// weakSignature names the signature algorithms crypto/x509 refuses to
// verify (Go 1.18+ for SHA-1; MD5 and MD2 long before).
var weakSignature = map[x509.SignatureAlgorithm]bool{
	x509.MD2WithRSA: true, x509.MD5WithRSA: true, x509.SHA1WithRSA: true, x509.DSAWithSHA1: true,
	x509.ECDSAWithSHA1: true,
}

// goPolicyCertProblems judges the certificates of a Certificate message,
// parsed or not, by the go command's policy.
func goPolicyCertProblems(m *tlswire.CertificateMsg) []policyProblem {
	if m == nil {
		return nil
	}
	var out []policyProblem
	for i, raw := range m.Certificates {
		// Worded only for a certificate with a problem: most have none.
		role := func() string {
			if i == 0 {
				return "the leaf"
			}
			return fmt.Sprintf("certificate %d of the chain", i+1)
		}
		name := raw.Subject
		if name == "" {
			name = "(unnamed)"
		}
		c := raw.Info
		if c == nil {
			if raw.Err == nil {
				continue
			}
			e := raw.Err.Error()
			if strings.Contains(e, "negative serial") {
				out = append(out, policyProblem{What: "a negative serial number", Detail: fmt.Sprintf("%s (%s) has a negative serial number", role(), name),
					GoSays: "tls: failed to parse certificate from server: x509: negative serial number", GODEBUG: "x509negativeserial=1"})
				continue
			}
			out = append(out, policyProblem{What: "a certificate crypto/x509 cannot parse",
				Detail: fmt.Sprintf("%s (%s, %d bytes) does not parse: %s", role(), name, len(raw.Raw), clip(e, 160)),
				GoSays: "tls: failed to parse certificate from server: " + clip(e, 160)})
			continue
		}
		if c.NegativeSerial != "" {
			out = append(out, policyProblem{What: "a negative serial number", Detail: fmt.Sprintf("%s (%s) has the serial %s", role(), name, c.NegativeSerial),
				GoSays: "tls: failed to parse certificate from server: x509: negative serial number", GODEBUG: "x509negativeserial=1"})
		}
		// Go never checks a root's self-signature: its algorithm does not matter.
		selfSigned := c.SelfIssued
		if weakSignature[c.SignatureAlgorithm] && !selfSigned {
			out = append(out, policyProblem{What: "a " + c.SignatureAlgorithm.String() + " signature",
				Detail: fmt.Sprintf("%s (%s) is signed with %s", role(), name, c.SignatureAlgorithm),
				GoSays: "x509: certificate signed by unknown authority (possibly because of \"x509: cannot verify signature: insecure algorithm " +
					c.SignatureAlgorithm.String() + "\" …)"})
		}
		if bits := c.RSABits; bits > 0 && bits < 1024 {
			out = append(out, policyProblem{What: fmt.Sprintf("a %d-bit RSA key", bits),
				Detail: fmt.Sprintf("%s (%s) holds a %d-bit RSA key", role(), name, bits),
				GoSays: fmt.Sprintf("crypto/rsa: %d-bit keys are insecure", bits), GODEBUG: "rsa1024min=0"})
		}
		if i == 0 && !c.HasSAN && c.Subject.CommonName != "" && !c.IsCA {
			out = append(out, policyProblem{What: "a leaf without subjectAltName (Common Name only)",
				Detail: fmt.Sprintf("the leaf names %q only in its Common Name", c.Subject.CommonName),
				GoSays: "x509: certificate relies on legacy Common Name field, use SANs instead"})
		}
	}
	return out
}

// suiteKind says what a TLS 1.2-and-earlier cipher suite needs that Go's
// client no longer offers by default: "rsa-kex", "3des", or "".
func suiteKind(id uint16) string {
	name := tlswire.CipherSuiteName(id)
	switch {
	case strings.Contains(name, "3DES"):
		return "3des"
	case strings.HasPrefix(name, "TLS_RSA_WITH_"):
		return "rsa-kex"
	}
	return ""
}

// goPolicyServerProblem judges the server's choices: a ServerHello that
// picked what the go command refuses, or a handshake_failure /
// protocol_version alert answering a ClientHello that did not offer it.
func goPolicyServerProblem(s *decode.TLSSession) (policyProblem, capture.Ref, bool) {
	if s.ServerHello != nil {
		v := s.Version()
		if v != 0 && v < tlswire.VersionTLS12 {
			return policyProblem{What: tlswire.VersionName(v) + " only", Detail: "the server chose " + tlswire.VersionName(v),
				GoSays: "tls: server selected unsupported protocol version " + fmt.Sprintf("%x", v), GODEBUG: "tls10server=1"}, s.ServerHelloAt, true
		}
		if s.TLS13() {
			return policyProblem{}, capture.Ref{}, false
		}
		cs := s.ServerHello.CipherSuite
		switch suiteKind(cs) {
		case "3des":
			return policyProblem{What: "3DES only", Detail: "the server chose " + tlswire.CipherSuiteName(cs),
				GoSays: "tls: handshake failure", GODEBUG: "tls3des=1"}, s.ServerHelloAt, true
		case "rsa-kex":
			return policyProblem{What: "RSA key exchange only", Detail: "the server chose " + tlswire.CipherSuiteName(cs) + " (RSA key exchange, no ECDHE)",
				GoSays: "tls: handshake failure", GODEBUG: "tlsrsakex=1"}, s.ServerHelloAt, true
		}
		return policyProblem{}, capture.Ref{}, false
	}
	if s.ClientHello == nil || s.HelloRetry() != nil {
		return policyProblem{}, capture.Ref{}, false
	}
	var alert *tlswire.Alert
	for i := range s.Alerts {
		if s.Alerts[i].Fatal() {
			alert = &s.Alerts[i]
			break
		}
	}
	if alert == nil || alert.From != tlswire.ServerToClient || alert.Encrypted {
		return policyProblem{}, capture.Ref{}, false
	}
	ch := s.ClientHello
	offers := func(kind string) bool {
		return slices.ContainsFunc(ch.CipherSuites, func(id uint16) bool { return suiteKind(id) == kind })
	}
	oldVersions := ch.LegacyVersion < tlswire.VersionTLS12 && len(ch.SupportedVersions) == 0 ||
		slices.ContainsFunc(ch.SupportedVersions, func(v uint16) bool { return v < tlswire.VersionTLS12 && v>>8 == 3 })
	switch alert.Name() {
	case "protocol_version":
		if oldVersions {
			return policyProblem{}, capture.Ref{}, false
		}
		return policyProblem{What: "TLS 1.0/1.1 only", Detail: "the server answered a ClientHello offering only TLS 1.2 and 1.3 with protocol_version",
			GoSays: "remote error: tls: protocol version not supported", GODEBUG: "tls10server=1"}, alert.At, true
	case "handshake_failure", "insufficient_security":
		switch {
		case !offers("rsa-kex") && !offers("3des"):
			return policyProblem{What: "RSA key exchange (or 3DES) only",
				Detail: "the server answered a ClientHello whose suites all use ECDHE with " + alert.Name() +
					": it accepts only RSA key exchange (TLS_RSA_WITH_…), or 3DES",
				GoSays: "remote error: tls: handshake failure", GODEBUG: "tlsrsakex=1 (or tls3des=1)"}, alert.At, true
		case !offers("3des"):
			return policyProblem{What: "3DES only",
				Detail: "the server answered a ClientHello that offered RSA key exchange but no 3DES suite with " + alert.Name(),
				GoSays: "remote error: tls: handshake failure", GODEBUG: "tls3des=1"}, alert.At, true
		}
	}
	return policyProblem{}, capture.Ref{}, false
}

func runTLSGoPolicy(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		var probs []policyProblem
		p, at, serverProblem := goPolicyServerProblem(s)
		if serverProblem {
			probs = append(probs, p)
		}
		cp := goPolicyCertProblems(s.Certificates)
		probs = append(probs, cp...)
		if len(probs) == 0 {
			continue // the usual session: nothing worded, nothing kept
		}
		host := sessionHost(ctx, s)
		ev := []Evidence{evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s))}
		if serverProblem {
			ev = append(ev, evidence(at, "%s", p.Detail))
		}
		if len(cp) > 0 {
			var details []string
			for _, p := range cp {
				details = append(details, p.Detail)
			}
			ev = append(ev, evidence(s.CertificatesAt, "%s", strings.Join(details, "; ")))
		}
		var whats, details, says, switches []string
		for _, p := range probs {
			whats = append(whats, p.What)
			details = append(details, p.Detail)
			says = append(says, "`"+p.GoSays+"`")
			if p.GODEBUG != "" {
				switches = append(switches, "GODEBUG="+p.GODEBUG)
			}
		}
		key := host + "|" + strings.Join(details, "|")
		if seen[key] {
			continue
		}
		seen[key] = true
		f := Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s uses what the go command refuses: %s", host, strings.Join(whats, ", ")),
			Expected: "TLS 1.2 or 1.3 with ECDHE and AES-GCM or ChaCha20; certificates with a positive serial, SHA-256 or better signatures, subjectAltNames and RSA keys of 2048 bits or more",
			Observed: strings.Join(details, "; "),
		}
		behaviour, how := clientBehaviour(s)
		for _, a := range s.Alerts {
			if a.Fatal() {
				if !slices.ContainsFunc(ev, func(e Evidence) bool { return e.At.Packet == a.At.Packet && e.At.Input == a.At.Input }) {
					ev = append(ev, evidence(a.At, "%s alert %s", a.From, a.Name()))
				}
				break
			}
		}
		if behaviour == clientCarriedOn {
			f.Severity = Warning
			f.Summary += " (this client carried on: it runs with a legacy switch or is not the go command)"
		}
		if how != "" {
			f.Observed += "; " + how
		}
		f.Evidence = ev
		f.Hint = "The go command says " + strings.Join(slices.Compact(says), " / ") + ". Fix the server (or the interceptor " +
			"in front of it): "
		var fixes []string
		if len(probs) > len(goPolicyCertProblems(s.Certificates)) {
			fixes = append(fixes, "enable TLS 1.2 or 1.3 with ECDHE suites (AES-GCM or ChaCha20-Poly1305)")
		}
		if len(goPolicyCertProblems(s.Certificates)) > 0 {
			fixes = append(fixes, "reissue the certificate from a current CA with subjectAltNames, a positive serial, a SHA-256 "+
				"signature and a 2048-bit or larger key")
		}
		f.Hint += strings.Join(fixes, "; ") + "."
		if len(switches) > 0 {
			f.Hint += " As a stop-gap only, until the server is fixed: " + strings.Join(slices.Compact(switches), " ") +
				" go mod download (it re-enables what Go removed for security)."
		} else {
			f.Hint += " No GODEBUG switch re-enables this in current Go: the server must change."
		}
		out = append(out, f)
	}
	return out
}
