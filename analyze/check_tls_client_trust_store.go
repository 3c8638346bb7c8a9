package analyze

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSClientTrustStore = &Check{ID: "tls-client-trust-store", Layer: "tls", Severity: Error,
	Title: "the client rejected a chain that leads to a trusted root: its own trust store lacks it",
	Doc: "The server's chain verifies against the embedded Mozilla roots (or a CA given with --trust), is valid at " +
		"the packet's time and covers the requested name, yet the client aborted with a fatal unknown_ca, " +
		"bad_certificate or certificate_unknown alert (in clear, or decrypted with keys). For TLS 1.3 without keys, " +
		"the client-rejected shape (one short record, then close) counts when another session of the capture to " +
		"the same name showed a chain that verifies. The chain is fine; the client's trust store is not: an image " +
		"without ca-certificates, a stale bundle, SSL_CERT_FILE or SSL_CERT_DIR pointing elsewhere, a corporate CA " +
		"installed on the host but not in the container. Chains the go command refuses for policy reasons " +
		"(tls-go-policy) are left to that check.",
	Role: RoleCause,
	GoErrors: []string{
		"tls: failed to verify certificate: x509: certificate signed by unknown authority",
	},
	run: runTLSClientTrustStore}

// rejectingAlert returns the client's fatal alert that rejects the server's
// certificate for want of a trusted issuer (RFC 8446 §6.2: unknown_ca,
// bad_certificate, certificate_unknown), or nil.
func rejectingAlert(s *decode.TLSSession) *tlswire.Alert {
	for i := range s.Alerts {
		a := &s.Alerts[i]
		if a.From != tlswire.ClientToServer || !a.Fatal() {
			continue
		}
		switch a.Name() {
		case "unknown_ca", "bad_certificate", "certificate_unknown":
			return a
		}
		return nil // the first fatal alert is the reason
	}
	return nil
}

// trustedChain is a chain the analysis trusts and nothing else explains a
// rejection of: it verifies (publicly or with --trust), every certificate
// is valid at the packet's time, the leaf covers the name asked for and the
// go command's own policy accepts it. root names the CA it leads to.
func (ctx *Context) trustedChain(s *decode.TLSSession) (root string, byUser, ok bool) {
	sc := ctx.chainOf(s)
	chain, v := sc.certs, sc.v
	if len(chain) == 0 || hasUnparsed(s.Certificates) {
		return "", false, false
	}
	if !v.Trusted && !v.TrustedByUser {
		return "", false, false
	}
	at := s.CertificatesAt.Time()
	if !at.IsZero() && !ctx.trust().validAtAny(chain, at) {
		return "", false, false // tls-expired (or tls-clock-skew) speaks
	}
	if name := sniOf(s); name != "" && !coversName(chain[0].Info, name) {
		return "", false, false // tls-hostname-mismatch speaks
	}
	if len(goPolicyCertProblems(s.Certificates)) > 0 {
		return "", false, false // tls-go-policy speaks
	}
	return ctx.trust().rootName(chain), !v.Trusted, true
}

// hasUnparsed reports whether a Certificate message holds a certificate
// crypto/x509 could not parse.
func hasUnparsed(m *tlswire.CertificateMsg) bool {
	if m == nil {
		return false
	}
	for _, c := range m.Certificates {
		if c.Info == nil {
			return true
		}
	}
	return false
}

// validAtAny reports whether chain verifies at t against the trust store's
// roots or the user's CAs.
func (ts *trustStore) validAtAny(chain []*tlswire.CertData, t time.Time) bool {
	if ts.validAt(chain, t) {
		return true
	}
	if ts.user == nil {
		return false
	}
	parsed := ts.x509Chain(chain)
	if parsed == nil {
		return false
	}
	_, err := parsed[0].Verify(x509.VerifyOptions{Roots: ts.user, Intermediates: intermediates(parsed), CurrentTime: t,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

func intermediates(chain []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range chain[1:] {
		p.AddCert(c)
	}
	return p
}

// rootName names the root a trusted chain leads to.
func (ts *trustStore) rootName(chain []*tlswire.CertData) string {
	parsed := ts.x509Chain(chain)
	if parsed == nil {
		return displayName(&chain[len(chain)-1].Info.Issuer)
	}
	opts := x509.VerifyOptions{Roots: ts.roots.pool, Intermediates: intermediates(parsed), CurrentTime: validityTime(chain),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	chains, err := parsed[0].Verify(opts)
	if err != nil && ts.user != nil {
		opts.Roots = ts.user
		chains, err = parsed[0].Verify(opts)
	}
	if err != nil || len(chains) == 0 {
		return displayName(&chain[len(chain)-1].Info.Issuer)
	}
	c := chains[0]
	return pkixDisplayName(c[len(c)-1].Subject)
}

// rejectedShape returns the client's one short encrypted record of a TLS 1.3
// session without keys that the client then closed: the shape
// tls-client-rejected reports.
func rejectedShape(s *decode.TLSSession) (tlswire.RecordInfo, bool) {
	if !s.TLS13() || s.EncryptedExtensions() != nil || s.Certificates != nil || s.EncryptedCount[1] == 0 || s.Conn == nil {
		return tlswire.RecordInfo{}, false
	}
	rec, ok := soleAppDataRecord(s, tlswire.ClientToServer)
	if !ok || rec.Length > 40 || (s.Conn.FIN[0].IsZero() && !hasClientReset(s.Conn)) {
		return tlswire.RecordInfo{}, false
	}
	return rec, true
}

// knownChain is a trusted chain one session of the capture showed for a
// name.
type knownChain struct {
	s      *decode.TLSSession
	chain  []*tlswire.CertData
	root   string
	byUser bool
}

func runTLSClientTrustStore(ctx *Context) []Finding {
	// Chains that verify, by the name asked for: a TLS 1.3 session without
	// keys borrows the chain another session to the same name showed.
	known := make(map[string]knownChain)
	for _, s := range ctx.Events.TLS {
		name := strings.ToLower(sniOf(s))
		if _, ok := known[name]; ok || name == "" {
			continue
		}
		if root, byUser, ok := ctx.trustedChain(s); ok {
			known[name] = knownChain{s, ctx.chainOf(s).certs, root, byUser}
		}
	}
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		host := sessionHost(ctx, s)
		if chain := ctx.chainOf(s).certs; len(chain) > 0 {
			a := rejectingAlert(s)
			if a == nil {
				continue
			}
			root, byUser, ok := ctx.trustedChain(s)
			if !ok || seen[host+"|"+certKey(chain[0])] {
				continue
			}
			seen[host+"|"+certKey(chain[0])] = true
			f := trustStoreFinding(ctx, host, root, byUser, chain)
			f.Observed = fmt.Sprintf("chain %s leads to %s, valid at the packet's time and covering %q; the client answered with a fatal %s alert",
				chainText(chain), root, sniOf(s), a.Name())
			f.Evidence = []Evidence{evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s)),
				evidence(s.CertificatesAt, "certificate for %s, chain to %s", displayName(&chain[0].Info.Subject), root),
				evidence(a.At, "client alert %s", a.Name())}
			out = append(out, f)
			continue
		}
		rec, ok := rejectedShape(s)
		if !ok {
			continue
		}
		k, ok := known[strings.ToLower(sniOf(s))]
		if !ok || seen[host+"|"+certKey(k.chain[0])] {
			continue
		}
		seen[host+"|"+certKey(k.chain[0])] = true
		f := trustStoreFinding(ctx, host, k.root, k.byUser, k.chain)
		f.Observed = fmt.Sprintf("another session to %q showed the chain %s, which leads to %s; in this TLS 1.3 session the client "+
			"sent one %d-byte encrypted record (an alert) and closed", sniOf(s), chainText(k.chain), k.root, rec.Length)
		f.Evidence = []Evidence{evidence(k.s.CertificatesAt, "certificate for %s, chain to %s (another session)",
			displayName(&k.chain[0].Info.Subject), k.root),
			evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s)),
			evidence(rec.At, "one %d-byte encrypted record from the client: the size of an alert", rec.Length)}
		out = append(out, f)
	}
	return out
}

// trustStoreFinding fills the parts of a finding common to both shapes.
func trustStoreFinding(ctx *Context, host, root string, byUser bool, chain []*tlswire.CertData) Finding {
	f := Finding{Severity: Error, Host: host}
	if byUser {
		f.Summary = fmt.Sprintf("the client rejected %s's chain to %s, the CA given with --trust: the client's trust store lacks it", host, root)
		f.Expected = fmt.Sprintf("a client that trusts %s (the CA you accept) completes the handshake", root)
	} else {
		f.Summary = fmt.Sprintf("the client rejected %s's chain to the public root %s: the client's trust store lacks it", host, root)
		f.Expected = fmt.Sprintf("a client with a current CA bundle accepts a chain to %s", root)
	}
	f.Hint = trustStoreHint(ctx, root, byUser)
	return f
}

// trustStoreHint says how to give the client the root it lacks, by what
// the capture's metadata tells of its environment.
func trustStoreHint(ctx *Context, root string, byUser bool) string {
	var b strings.Builder
	b.WriteString("The go command says `x509: certificate signed by unknown authority`, but the chain is fine: the client's own " +
		"trust store does not hold " + root + ". ")
	if m := ctx.Meta(); m != nil {
		for _, k := range []string{"SSL_CERT_FILE", "SSL_CERT_DIR"} {
			if v := m.Env[k]; v != "" {
				fmt.Fprintf(&b, "%s=%s was set for the command: it replaces the system bundle, so make it name a bundle that "+
					"contains %s (or unset it). ", k, v, root)
			}
		}
	}
	if byUser {
		b.WriteString("You accept this CA (--trust), but the client that failed does not have it — typically it is " +
			"installed on the host but not in the container, the CI image or for the user the go command runs as: export it with `modsniff certs --issuers CAPTURE -o corp-ca.pem`, " +
			"then in the image `COPY corp-ca.pem /usr/local/share/ca-certificates/corp-ca.crt` and " +
			"`RUN update-ca-certificates` (Alpine: `apk add ca-certificates` first), or point SSL_CERT_FILE at a bundle " +
			"that contains it.")
		return b.String()
	}
	b.WriteString("Install the CA bundle in the image: `apt-get install -y ca-certificates` (Debian, Ubuntu), " +
		"`apk add ca-certificates` (Alpine), `dnf install ca-certificates` (Fedora, RHEL); in a scratch or distroless " +
		"image copy /etc/ssl/certs/ca-certificates.crt from the build stage. An old image's bundle may predate the root: " +
		"update the package. Check that SSL_CERT_FILE / SSL_CERT_DIR, if set, point at that bundle.")
	return b.String()
}

// trustStoreAlertHint is tls-alert's hint for a client alert that rejects a
// chain the analysis trusts: it points at tls-client-trust-store rather than
// at a foreign issuer.
func trustStoreAlertHint(ctx *Context, s *decode.TLSSession, a tlswire.Alert) (string, bool) {
	if a.From != tlswire.ClientToServer {
		return "", false
	}
	if r := rejectingAlert(s); r == nil || r.At.Input != a.At.Input || r.At.Packet != a.At.Packet || r.Description != a.Description {
		return "", false
	}
	if _, _, ok := ctx.trustedChain(s); !ok {
		return "", false
	}
	return "The chain leads to a root modsniff trusts, so the client's own trust store is missing it: see " +
		"tls-client-trust-store (install ca-certificates in the image, or fix SSL_CERT_FILE / SSL_CERT_DIR).", true
}
