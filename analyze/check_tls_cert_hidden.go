package analyze

import "github.com/modsniff/modsniff/decode"

var checkTLSCertHidden = &Check{ID: "tls-cert-hidden", Layer: "tls", Severity: Info,
	Title: "TLS 1.3 without keys: the certificate could not be seen",
	Doc:   "TLS 1.3 encrypts the server's certificate. Once per host, the hint says how to obtain keys so that interception can be checked.",
	Role:  RoleContext,
	GoErrors: []string{
		"tls: failed to verify certificate: x509: certificate signed by unknown authority",
	},
	run: runTLSCertHidden}

func runTLSCertHidden(ctx *Context) []Finding {
	// The first session of each host, then the findings in a list of the
	// right size (as tls-foreign-issuer does).
	type hit struct {
		s    *decode.TLSSession
		host string
	}
	var first []hit
	seen := make(map[string]struct{})
	for _, s := range ctx.Events.TLS {
		if !s.TLS13() || s.Certificates != nil || s.EncryptedExtensions() != nil {
			continue
		}
		host := sessionHost(ctx, s)
		if _, ok := seen[host]; ok {
			continue
		}
		seen[host] = struct{}{}
		first = append(first, hit{s, host})
	}
	if len(first) == 0 {
		return nil
	}
	out := make([]Finding, len(first))
	for i, h := range first {
		// One finding per TLS 1.3 host: with Options.StreamEvents its
		// summary and evidence detail are worded as it is written.
		f := &out[i]
		*f = Finding{Severity: Info, Host: h.host, Evidence: []Evidence{{At: h.s.ServerHelloAt}},
			text: (*certHiddenText)(h.s)}
		if !ctx.Opt.StreamEvents {
			f.buildText()
		}
	}
	return out
}

// certHiddenText words a tls-cert-hidden finding from its session.
type certHiddenText decode.TLSSession

func (t *certHiddenText) fill(host string, sc *jsonScratch) findingTexts {
	return findingTexts{
		Summary:  t.summary(host, sc),
		Expected: "a certificate to check for interception",
		Observed: "TLS 1.3 without key logs: certificate, ALPN and alerts are encrypted",
		Evidence: append(sc.evidenceList(1), Evidence{At: t.ServerHelloAt, Detail: "ServerHello: TLS 1.3"}),
		Hint: "Run `modsniff probe` on the failing machine: it fetches like the go command with key logging and " +
			"records a capture with the keys inside, so the certificate becomes visible. With a key log from " +
			"another client (SSLKEYLOGFILE of curl or a browser), pass it with --keylog.",
	}
}

func (t *certHiddenText) summary(host string, sc *jsonScratch) string {
	return sc.cat(host, " uses TLS 1.3: its certificate is encrypted and was not checked")
}
