package analyze

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

func init() {
	register(&Check{ID: "tls-foreign-issuer", Layer: "tls", Severity: Error,
		SeverityNote: "error when the client then aborted, warning when it carried on (it trusts the interceptor), info for an internal name served by a private CA",
		Title:        "the certificate chain does not lead to a public root",
		Doc: "Each chain is verified with crypto/x509 against the embedded Mozilla root set (or the system store " +
			"with --system-roots) plus --trust CAs. An untrusted chain is classified: a known interception product " +
			"(mitmproxy, Charles, Fiddler, Burp, Zscaler, FortiGate, Netskope, antivirus …), a chain that names a " +
			"public CA but is not signed by it (impersonation), a self-signed certificate, an incomplete chain, or " +
			"a private/corporate CA.",
		run: checkForeignIssuer})
	register(&Check{ID: "tls-hostname-mismatch", Layer: "tls", Severity: Error,
		Title: "the certificate does not cover the requested name",
		Doc:   "The leaf certificate's DNS names (and IP addresses) do not include the name the client asked for in its SNI.",
		run:   checkHostnameMismatch})
	register(&Check{ID: "tls-expired", Layer: "tls", Severity: Error,
		Title: "a certificate is outside its validity at the time of the packet",
		Doc: "Judged at the capture timestamp of the Certificate message, never at the time of analysis. A wrong " +
			"clock on the client shows up here too.",
		run: checkExpired})
	register(&Check{ID: "tls-alpn-downgrade", Layer: "tls", Severity: Warning,
		SeverityNote: "info when nothing else suggests interception (an internal server without HTTP/2)",
		Title:        "the client offered h2 and the server chose http/1.1 or nothing",
		Doc: "The go command offers h2 and http/1.1. Module proxies such as proxy.golang.org speak h2; a server " +
			"that picks http/1.1 there, or behind a proxy or a foreign issuer, is usually an interceptor.",
		run: checkALPNDowngrade})
	register(&Check{ID: "tls-version-downgrade", Layer: "tls", Severity: Warning,
		SeverityNote: "info when nothing else suggests interception",
		Title:        "the client offered TLS 1.3 and the server chose an older version",
		Doc:          "The go command offers TLS 1.3; the module proxy and checksum database support it. An older version on the way to them points to an interceptor with an old TLS stack.",
		run:          checkVersionDowngrade})
	register(&Check{ID: "tls-alert", Layer: "tls", Severity: Error,
		Title: "a fatal TLS alert",
		Doc:   "A fatal alert, from client or server, in clear or decrypted: bad_certificate, unknown_ca, certificate_expired, handshake_failure, protocol_version, no_application_protocol …",
		run:   checkAlert})
	register(&Check{ID: "tls-client-rejected", Layer: "tls", Severity: Error,
		Title: "the client rejected the server's TLS 1.3 flight",
		Doc: "Without keys: after the server's encrypted flight the client sent one short encrypted record (an " +
			"alert) and closed without application data — the shape of a certificate the client did not accept.",
		run: checkClientRejected})
	register(&Check{ID: "tls-classical-key-share", Layer: "tls", Severity: Warning,
		Title: "a post-quantum key share was declined by a host that supports it",
		Doc: "The client offered X25519MLKEM768 and the server of a host known to support it (Google's front ends: " +
			"proxy.golang.org, sum.golang.org, go.dev, golang.org, storage.googleapis.com) chose a classical group: " +
			"an interceptor with an older TLS library is likely in the path.",
		run: checkClassicalKeyShare})
	register(&Check{ID: "tls-cert-hidden", Layer: "tls", Severity: Info,
		Title: "TLS 1.3 without keys: the certificate could not be seen",
		Doc:   "TLS 1.3 encrypts the server's certificate. Once per host, the hint says how to obtain keys so that interception can be checked.",
		run:   checkCertHidden})
}

// clientVerdict says what the client did after the server's flight.
type clientVerdict int

const (
	clientUnknown clientVerdict = iota
	clientCarriedOn
	clientAborted
)

// appDataRecords returns a direction's encrypted records of outer type
// application_data: in TLS 1.3 every encrypted record (Finished included),
// in TLS 1.2 only application data proper (Finished travels as handshake).
func appDataRecords(s *decode.TLSSession, dir tlswire.Dir) []tlswire.RecordInfo {
	var out []tlswire.RecordInfo
	for _, r := range s.Encrypted[dir] {
		if r.Type == tlswire.ContentApplicationData {
			out = append(out, r)
		}
	}
	return out
}

// clientSentAppData reports whether the client sent application data after
// its handshake: in TLS 1.3 a record beyond the one carrying Finished.
func clientSentAppData(s *decode.TLSSession) bool {
	n := len(appDataRecords(s, tlswire.ClientToServer))
	if s.TLS13() {
		return n >= 2
	}
	return n >= 1
}

// clientBehaviour tells whether the client went on to send application data
// (it accepted the server) or aborted: a fatal alert, or a close without
// application data.
func clientBehaviour(s *decode.TLSSession) (clientVerdict, string) {
	for _, a := range s.Alerts {
		if a.From == tlswire.ClientToServer && a.Fatal() {
			return clientAborted, "the client sent a fatal " + a.Name() + " alert"
		}
	}
	if clientSentAppData(s) {
		return clientCarriedOn, "the client went on to send application data"
	}
	if s.Conn != nil && (!s.Conn.FIN[0].IsZero() || hasClientReset(s.Conn)) {
		return clientAborted, "the client closed the connection without sending application data"
	}
	return clientUnknown, ""
}

func hasClientReset(c *decode.TCPConn) bool {
	for _, r := range c.Resets {
		if r.FromClient {
			return true
		}
	}
	return false
}

func checkForeignIssuer(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool) // one finding per (host, chain class)
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
		key := host + "|" + v.Class + "|" + v.TopIssuer
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
		f.Summary = fmt.Sprintf("%s (an internal name) uses a private CA: %s", host, issuer)
		hint = "Normal for an internal server. Make the go command trust the CA: install it with " +
			"update-ca-certificates or point SSL_CERT_FILE at a bundle that contains it; pass it to modsniff " +
			"with --trust to silence this note."
	case behaviour == clientCarriedOn:
		f.Severity = Warning
		f.Summary = fmt.Sprintf("%s presented %s, and the client accepted it", host, what)
		hint = "The client trusts this CA, so the fetch may work, but TLS to " + host + " is not end to end. " + hint
	default:
		f.Severity = Error
		f.Summary = fmt.Sprintf("%s presented %s", host, what)
	}
	f.Expected = fmt.Sprintf("a chain for %s leading to a public root (Mozilla's root store)", host)
	f.Observed = fmt.Sprintf("%s; chain: %s", what, chainText(chain))
	if how != "" {
		f.Observed += "; " + how
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

// sniOf returns the server name a session's client asked for.
func sniOf(s *decode.TLSSession) string {
	if s.ClientHello != nil {
		return s.ClientHello.ServerName
	}
	return ""
}

func checkHostnameMismatch(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		chain := parsedChain(s.Certificates)
		name := sniOf(s)
		if len(chain) == 0 || name == "" {
			continue
		}
		leaf := chain[0]
		err := leaf.VerifyHostname(name)
		key := name + "|" + certKey(leaf)
		if err == nil || seen[key] {
			continue
		}
		seen[key] = true
		covers := leaf.DNSNames
		if len(covers) == 0 && leaf.Subject.CommonName != "" {
			covers = []string{"(no SAN; CN " + leaf.Subject.CommonName + ")"}
		}
		out = append(out, Finding{
			Severity: Error, Host: strings.ToLower(name),
			Summary:  fmt.Sprintf("the certificate for %s is valid for %s", name, strings.Join(firstN(covers, 4), ", ")),
			Expected: fmt.Sprintf("a certificate whose names include %s", name),
			Observed: fmt.Sprintf("names %s (issued by %s)", strings.Join(firstN(covers, 8), ", "), displayName(leaf.Issuer)),
			Evidence: []Evidence{
				evidence(s.ClientHelloAt, "ClientHello for %q", name),
				evidence(s.CertificatesAt, "certificate for %s", strings.Join(firstN(covers, 4), ", ")),
			},
			Hint: "The go command reports `x509: certificate is valid for …, not " + name + "`. The connection did " +
				"not reach " + name + ": a wrong DNS answer or /etc/hosts entry sent it elsewhere, a captive portal or " +
				"proxy answered instead, or the GOPROXY URL names a host the server's certificate does not cover.",
		})
	}
	return out
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return append(slices.Clone(list[:n]), fmt.Sprintf("… (%d more)", len(list)-n))
	}
	return list
}

func checkExpired(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		chain := parsedChain(s.Certificates)
		if len(chain) == 0 {
			continue
		}
		at := s.CertificatesAt.Time
		// A chain that verifies at the packet's time has every certificate
		// on its path valid; an expired cross-signed extra is harmless.
		v := ctx.trust().verify(chain)
		if v.Trusted && ctx.trust().validAt(chain, at) {
			continue
		}
		for i, c := range chain {
			if !at.Before(c.NotBefore) && !at.After(c.NotAfter) {
				continue
			}
			if i > 0 && v.Trusted {
				continue
			}
			host := sessionHost(ctx, s)
			key := host + "|" + certKey(c)
			if seen[key] {
				break
			}
			seen[key] = true
			state := fmt.Sprintf("expired %s before the packet (not after %s)", duration(at.Sub(c.NotAfter)), c.NotAfter.UTC().Format(time.RFC3339))
			hint := "The go command reports `x509: certificate has expired or is not yet valid`. "
			if at.Before(c.NotBefore) {
				state = fmt.Sprintf("not valid until %s, %s after the packet", c.NotBefore.UTC().Format(time.RFC3339), duration(c.NotBefore.Sub(at)))
				hint += "A certificate not yet valid usually means the client's clock is wrong: check `timedatectl`. "
			} else {
				hint += "If the date in this capture is right, the server (or an interceptor) serves an expired " +
					"certificate: renew it. If the client's clock is wrong, fix it (`timedatectl`, NTP). "
			}
			if n := ctx.clockNote(); n != "" {
				hint = strings.TrimSpace(hint) + " " + n
			}
			role := "leaf"
			if i > 0 {
				role = "intermediate"
			}
			out = append(out, Finding{
				Severity: Error, Host: host,
				Summary:  fmt.Sprintf("the %s certificate %s is %s", role, displayName(c.Subject), strings.SplitN(state, " (", 2)[0]),
				Expected: fmt.Sprintf("certificates valid at %s, the time of the packet", at.UTC().Format(time.RFC3339)),
				Observed: fmt.Sprintf("%s: %s", displayName(c.Subject), state),
				Evidence: []Evidence{evidence(s.CertificatesAt, "certificate %s valid %s to %s", displayName(c.Subject),
					c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))},
				Hint: hint,
			})
			break
		}
	}
	return out
}

// validAt reports whether chain verifies at time t.
func (ts *trustStore) validAt(chain []*x509.Certificate, t time.Time) bool {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: ts.roots.pool, Intermediates: inter, CurrentTime: t,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// googleFrontEnds are hosts served by Google's front ends, which speak h2,
// TLS 1.3 and the X25519MLKEM768 key exchange.
var googleFrontEnds = []string{"proxy.golang.org", "sum.golang.org", "go.dev", "golang.org", "storage.googleapis.com",
	"index.golang.org", "pkg.go.dev", "dl.google.com", "go.googlesource.com"}

func isGoogleFrontEnd(host string) bool { return slices.Contains(googleFrontEnds, host) }

// suspicion says why a downgrade on a session looks like interception, or
// "" when nothing does.
func (ctx *Context) suspicion(s *decode.TLSSession, host string) string {
	var why []string
	if isGoogleFrontEnd(host) || ctx.roleOf(host) == RoleGoproxy || ctx.roleOf(host) == RoleSumdb {
		why = append(why, host+" normally speaks h2 and TLS 1.3")
	}
	if chain := parsedChain(s.Certificates); len(chain) > 0 {
		// A private CA is normal for an internal name; for a public one, or
		// when the issuer is a known interceptor, it is the tell.
		v := ctx.trust().verify(chain)
		switch {
		case v.Trusted || v.TrustedByUser:
		case v.Class == "interception" || v.Class == "impersonation":
			why = append(why, "its certificate comes from an interception CA")
		case isPublicName(host):
			why = append(why, "its certificate is not from a public CA")
		}
	}
	if s.Tunnel != nil {
		why = append(why, "it goes through the proxy "+s.Tunnel.Proxy.String())
	}
	return strings.Join(why, "; ")
}

func checkALPNDowngrade(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		if s.ClientHello == nil || s.ServerHello == nil || !slices.Contains(s.ClientHello.ALPN, "h2") {
			continue
		}
		if s.TLS13() && s.EncryptedExtensions == nil {
			continue // the server's choice is encrypted
		}
		alpn := s.ServerALPN()
		if alpn == "h2" {
			continue
		}
		host := sessionHost(ctx, s)
		if seen[host+"|"+alpn] {
			continue
		}
		seen[host+"|"+alpn] = true
		chose := alpn
		if chose == "" {
			chose = "no protocol"
		}
		f := Finding{
			Severity: Warning, Host: host,
			Summary:  fmt.Sprintf("%s chose %s although the client offered h2", host, chose),
			Expected: "h2, which the client offered first",
			Observed: fmt.Sprintf("offered %s; the server chose %s", strings.Join(s.ClientHello.ALPN, ", "), chose),
			Evidence: []Evidence{evidence(s.ClientHelloAt, "ClientHello offers ALPN %s", strings.Join(s.ClientHello.ALPN, ",")),
				evidence(s.ServerHelloAt, "server chose %s", chose)},
		}
		if why := ctx.suspicion(s, host); why != "" {
			f.Observed += "; suspicious because " + why
			f.Hint = "An interceptor that cannot speak HTTP/2 answered instead of " + host + ". See the issuer " +
				"findings; if a proxy or security product sits in the path, exempt the module hosts from it."
		} else {
			f.Severity = Info
			f.Summary += " (benign for a server without HTTP/2)"
			f.Hint = "Many internal servers (an Athens or Artifactory behind a plain reverse proxy) speak only " +
				"HTTP/1.1; the go command works with it. Nothing to do unless other findings point to interception."
		}
		out = append(out, f)
	}
	return out
}

func checkVersionDowngrade(ctx *Context) []Finding {
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

// alertMeaning explains what a fatal alert usually means for the go command.
func alertMeaning(a tlswire.Alert) string {
	from := a.From.String()
	switch a.Name() {
	case "bad_certificate", "unknown_ca", "certificate_unknown", "unsupported_certificate":
		if a.From == tlswire.ClientToServer {
			return "the client rejected the server's certificate — the go command then says `x509: certificate signed by unknown authority` (or similar)"
		}
		return "the server rejected the client's certificate — the go command says `remote error: tls: " + a.Name() + "`"
	case "certificate_expired":
		return "the " + from + " found a certificate expired (check both clocks)"
	case "handshake_failure":
		return "no common cipher suite, group or version — typical of a server or interceptor with an old or restricted TLS stack"
	case "protocol_version":
		return "no common TLS version — an old server or interceptor that does not speak TLS 1.2/1.3"
	case "no_application_protocol":
		return "no common ALPN protocol: the server speaks neither h2 nor http/1.1"
	case "unrecognized_name":
		return "the server does not serve the requested name (SNI)"
	case "certificate_required":
		return "the server wants a client certificate (mutual TLS) that the go command does not send"
	case "access_denied":
		return "the server (or a policy device) refused access"
	case "decrypt_error", "bad_record_mac":
		return "a record or signature did not verify: a broken middlebox, or keys that do not match"
	case "internal_error":
		return "the " + from + " failed internally"
	}
	return "the " + from + " ended the handshake"
}

func checkAlert(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		for _, a := range s.Alerts {
			if !a.Fatal() {
				continue
			}
			host := sessionHost(ctx, s)
			how := ""
			if a.Encrypted {
				how = " (decrypted)"
			}
			out = append(out, Finding{
				Severity: Error, Host: host,
				Summary:  fmt.Sprintf("the %s sent a fatal %s alert%s", a.From, a.Name(), how),
				Expected: "a completed handshake",
				Observed: fmt.Sprintf("fatal alert %s from the %s: %s", a.Name(), a.From, alertMeaning(a)),
				Evidence: []Evidence{evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s)),
					evidence(a.At, "%s alert %s", a.From, a.Name())},
				Hint: alertHint(a),
			})
			if h, ok := trustStoreAlertHint(ctx, s, a); ok {
				out[len(out)-1].Hint = h
			}
		}
	}
	return out
}

func alertHint(a tlswire.Alert) string {
	switch a.Name() {
	case "bad_certificate", "unknown_ca", "certificate_unknown":
		if a.From == tlswire.ClientToServer {
			return "See tls-foreign-issuer for who issued the certificate. If you trust that CA (a corporate " +
				"proxy), make the go command trust it: SSL_CERT_FILE=/path/to/bundle.pem, or install it with " +
				"update-ca-certificates."
		}
	case "handshake_failure", "protocol_version":
		return "Something in the path cannot negotiate with the go command's TLS: update the server or the " +
			"intercepting device, or exempt the module hosts from inspection."
	case "certificate_required":
		return "Configure the server (or proxy) not to require client certificates for module downloads."
	}
	return "Compare with a capture from a working machine; the findings above say which layer failed first."
}

func checkClientRejected(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		if !s.TLS13() || s.EncryptedExtensions != nil || s.Certificates != nil {
			continue // keys were available: tls-alert and tls-foreign-issuer speak
		}
		if s.EncryptedCount[1] == 0 || s.Conn == nil {
			continue // the server's flight was not seen
		}
		recs := appDataRecords(s, tlswire.ClientToServer)
		if len(recs) != 1 || recs[0].Length > 40 {
			continue
		}
		if s.Conn.FIN[0].IsZero() && !hasClientReset(s.Conn) {
			continue
		}
		host := sessionHost(ctx, s)
		ev := []Evidence{evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s)),
			evidence(s.ServerHelloAt, "ServerHello: TLS 1.3, the rest of the server's flight is encrypted"),
			evidence(recs[0].At, "one %d-byte encrypted record from the client: the size of an alert", recs[0].Length)}
		if !s.Conn.FIN[0].IsZero() {
			ev = append(ev, evidence(s.Conn.FIN[0], "the client closes the connection"))
		}
		out = append(out, Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("the client rejected %s's TLS 1.3 handshake (most likely its certificate)", host),
			Expected: "the client's Finished (about 53 bytes) followed by application data",
			Observed: fmt.Sprintf("one %d-byte encrypted record — an alert — then the client closed", recs[0].Length),
			Evidence: ev,
			Hint: "TLS 1.3 hides the certificate and the alert. The go command's error names the reason (usually " +
				"`x509: certificate signed by unknown authority`). Run `modsniff probe` on this machine to see the " +
				"certificate, or capture with key logs (--keylog).",
		})
	}
	return out
}

func checkClassicalKeyShare(ctx *Context) []Finding {
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

func checkCertHidden(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		if !s.TLS13() || s.Certificates != nil || s.EncryptedExtensions != nil {
			continue
		}
		host := sessionHost(ctx, s)
		if seen[host] {
			continue
		}
		seen[host] = true
		out = append(out, Finding{
			Severity: Info, Host: host,
			Summary:  fmt.Sprintf("%s uses TLS 1.3: its certificate is encrypted and was not checked", host),
			Expected: "a certificate to check for interception",
			Observed: "TLS 1.3 without key logs: certificate, ALPN and alerts are encrypted",
			Evidence: []Evidence{evidence(s.ServerHelloAt, "ServerHello: TLS 1.3")},
			Hint: "Run `modsniff probe` on the failing machine: it fetches like the go command with key logging and " +
				"records a capture with the keys inside, so the certificate becomes visible. With a key log from " +
				"another client (SSLKEYLOGFILE of curl or a browser), pass it with --keylog.",
		})
	}
	return out
}

// certKey identifies a certificate by its SHA-256 fingerprint, to report
// each one once.
func certKey(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return string(sum[:])
}
