package analyze

var checkTLSCertHidden = &Check{ID: "tls-cert-hidden", Layer: "tls", Severity: Info,
	Title: "TLS 1.3 without keys: the certificate could not be seen",
	Doc:   "TLS 1.3 encrypts the server's certificate. Once per host, the hint says how to obtain keys so that interception can be checked.",
	Role:  RoleContext,
	GoErrors: []string{
		"tls: failed to verify certificate: x509: certificate signed by unknown authority",
	},
	run: runTLSCertHidden}

func runTLSCertHidden(ctx *Context) []Finding {
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
			Summary:  host + " uses TLS 1.3: its certificate is encrypted and was not checked",
			Expected: "a certificate to check for interception",
			Observed: "TLS 1.3 without key logs: certificate, ALPN and alerts are encrypted",
			Evidence: []Evidence{{At: s.ServerHelloAt, Detail: "ServerHello: TLS 1.3"}},
			Hint: "Run `modsniff probe` on the failing machine: it fetches like the go command with key logging and " +
				"records a capture with the keys inside, so the certificate becomes visible. With a key log from " +
				"another client (SSLKEYLOGFILE of curl or a browser), pass it with --keylog.",
		})
	}
	return out
}
