package analyze

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSExpired = &Check{ID: "tls-expired", Layer: "tls", Severity: Error,
	Title: "a certificate is outside its validity at the time of the packet",
	Doc: "Judged at the capture timestamp of the Certificate message, never at the time of analysis. A wrong " +
		"clock on the client shows up here too.",
	Role: RoleCause,
	GoErrors: []string{
		"x509: certificate has expired or is not yet valid: current time 2026-11-26T10:00:00Z is after 2026-01-01T00:00:00Z",
	},
	run: runTLSExpired}

func runTLSExpired(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, s := range ctx.Events.TLS {
		sc := ctx.chainOf(s)
		chain, v := sc.certs, sc.v
		if len(chain) == 0 {
			continue
		}
		at := s.CertificatesAt.Time()
		// A chain that verifies at the packet's time has every certificate
		// on its path valid; an expired cross-signed extra is harmless.
		if v.Trusted && ctx.trust().validAt(chain, at) {
			continue
		}
		for i, cd := range chain {
			c := cd.Info
			if !at.Before(c.NotBefore) && !at.After(c.NotAfter) {
				continue
			}
			if i > 0 && v.Trusted {
				continue
			}
			host := sessionHost(ctx, s)
			key := host + "|" + certKey(cd)
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
				Summary:  fmt.Sprintf("the %s certificate %s is %s", role, displayName(&c.Subject), strings.SplitN(state, " (", 2)[0]),
				Expected: fmt.Sprintf("certificates valid at %s, the time of the packet", at.UTC().Format(time.RFC3339)),
				Observed: fmt.Sprintf("%s: %s", displayName(&c.Subject), state),
				Evidence: []Evidence{evidence(s.CertificatesAt, "certificate %s valid %s to %s", displayName(&c.Subject),
					c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"))},
				Hint: hint,
			})
			break
		}
	}
	return out
}

// validAt reports whether chain verifies at time t.
func (ts *trustStore) validAt(chain []*tlswire.CertData, t time.Time) bool {
	parsed := ts.x509Chain(chain)
	if parsed == nil {
		return false
	}
	_, err := parsed[0].Verify(x509.VerifyOptions{Roots: ts.roots.pool, Intermediates: intermediates(parsed), CurrentTime: t,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}
