package analyze

import (
	"fmt"

	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSClientRejected = &Check{ID: "tls-client-rejected", Layer: "tls", Severity: Error,
	Title: "the client rejected the server's TLS 1.3 flight",
	Doc: "Without keys: after the server's encrypted flight the client sent one short encrypted record (an " +
		"alert) and closed without application data — the shape of a certificate the client did not accept.",
	Role:         RoleSymptom,
	Interception: true,
	GoErrors: []string{
		"tls: failed to verify certificate: x509: certificate signed by unknown authority",
	},
	run: runTLSClientRejected}

func runTLSClientRejected(ctx *Context) []Finding {
	var out []Finding
	for _, s := range ctx.Events.TLS {
		if !s.TLS13() || s.EncryptedExtensions() != nil || s.Certificates != nil {
			continue // keys were available: tls-alert and tls-foreign-issuer speak
		}
		if s.Dirs[tlswire.ServerToClient].ProtectedFrom.IsZero() || s.Conn == nil {
			continue // the server's flight was not seen
		}
		// The client neither finished its handshake nor sent application
		// data: its one protected record is too short for a Finished.
		if s.FinishedSeen(tlswire.ClientToServer) || s.ClientSentAppData() {
			continue
		}
		rec, ok := soleAppDataRecord(s, tlswire.ClientToServer)
		if !ok {
			continue
		}
		if s.Conn.FIN[0].IsZero() && !hasClientReset(s.Conn) {
			continue
		}
		host := sessionHost(ctx, s)
		ev := []Evidence{evidence(s.ClientHelloAt, "ClientHello for %q", sniOf(s)),
			evidence(s.ServerHelloAt, "ServerHello: TLS 1.3, the rest of the server's flight is encrypted"),
			evidence(rec.At, "one %d-byte encrypted record from the client: the size of an alert", rec.Length)}
		if !s.Conn.FIN[0].IsZero() {
			ev = append(ev, evidence(s.Conn.FIN[0], "the client closes the connection"))
		}
		out = append(out, Finding{
			Severity: Error, Host: host,
			Summary:  fmt.Sprintf("the client rejected %s's TLS 1.3 handshake (most likely its certificate)", host),
			Expected: "the client's Finished (about 53 bytes) followed by application data",
			Observed: fmt.Sprintf("one %d-byte encrypted record — an alert — then the client closed", rec.Length),
			Evidence: ev,
			Hint: "TLS 1.3 hides the certificate and the alert. The go command's error names the reason (usually " +
				"`x509: certificate signed by unknown authority`). Run `modsniff probe` on this machine to see the " +
				"certificate, or capture with key logs (--keylog).",
		})
	}
	return out
}
