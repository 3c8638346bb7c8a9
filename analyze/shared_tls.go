package analyze

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// soleAppDataRecord returns a direction's one encrypted record of outer
// type application_data (in TLS 1.3 every encrypted record, Finished
// included; in TLS 1.2 only application data proper, since Finished
// travels as handshake); ok is false when there are none or several
// among the first few (see tlswire.Session.SoleAppDataRecord).
func soleAppDataRecord(s *decode.TLSSession, dir tlswire.Dir) (rec tlswire.RecordInfo, ok bool) {
	return s.SoleAppDataRecord(dir)
}

func hasClientReset(c *decode.TCPConn) bool {
	for _, r := range c.Resets() {
		if r.FromClient {
			return true
		}
	}
	return false
}

// sniOf returns the server name a session's client asked for.
func sniOf(s *decode.TLSSession) string {
	if s.ClientHello != nil {
		return s.ClientHello.ServerName
	}
	return ""
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return append(slices.Clone(list[:n]), fmt.Sprintf("… (%d more)", len(list)-n))
	}
	return list
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
	if v := ctx.chainOf(s).v; v != nil {
		// A private CA is normal for an internal name; for a public one, or
		// when the issuer is a known interceptor, it is the tell.
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

// certKey identifies a certificate by its SHA-256 fingerprint, to report
// each one once.
func certKey(c *tlswire.CertData) string {
	sum := c.Fingerprint()
	return string(sum[:])
}

// hostProbes are empty certificates that coversName fills with a
// certificate's names, to ask crypto/x509 without parsing the whole
// certificate again.
var hostProbes = sync.Pool{New: func() any { return new(x509.Certificate) }}

// coversName reports whether a certificate's subjectAltNames cover name,
// by crypto/x509's own rules (RFC 6125: wildcards, IP addresses only
// against IP names), which read nothing but those names.
func coversName(c *tlswire.CertInfo, name string) bool {
	probe := hostProbes.Get().(*x509.Certificate)
	probe.DNSNames, probe.IPAddresses = c.DNSNames, c.IPAddresses
	ok := probe.VerifyHostname(name) == nil
	probe.DNSNames, probe.IPAddresses = nil, nil
	hostProbes.Put(probe)
	return ok
}
