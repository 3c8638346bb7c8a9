package analyze

import (
	"fmt"

	"github.com/modsniff/modsniff/decode/tlswire"
)

var checkTLSAlert = &Check{ID: "tls-alert", Layer: "tls", Severity: Error,
	Title: "a fatal TLS alert",
	Doc:   "A fatal alert, from client or server, in clear or decrypted: bad_certificate, unknown_ca, certificate_expired, handshake_failure, protocol_version, no_application_protocol …",
	Role:  RoleSymptom,
	GoErrors: []string{
		"remote error: tls: handshake failure",
		"tls: failed to verify certificate: x509: certificate signed by unknown authority",
		"remote error: tls: bad certificate",
	},
	run: runTLSAlert}

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

func runTLSAlert(ctx *Context) []Finding {
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
