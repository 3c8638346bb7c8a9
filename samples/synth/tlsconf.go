package synth

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"time"
)

// GoClientConfig returns the TLS configuration of the go command's HTTP
// client for host: ALPN h2 then http/1.1, the default versions and curve
// preferences (Go 1.26: an X25519MLKEM768 key share beside X25519), roots
// the client trusts, a clock fixed at now and, when keylog is set, an NSS
// key log.
func GoClientConfig(host string, roots *x509.CertPool, now time.Time, keylog io.Writer) *tls.Config {
	return &tls.Config{
		ServerName:   host,
		NextProtos:   []string{"h2", "http/1.1"},
		RootCAs:      roots,
		Time:         func() time.Time { return now },
		KeyLogWriter: keylog,
	}
}

// ServerSpec says how a TLS server (or interceptor) is configured.
type ServerSpec struct {
	Chain Chain
	// ALPN lists the protocols the server accepts, in its preference
	// order; nil accepts none.
	ALPN []string
	// MaxVersion caps the version (tls.VersionTLS12 for an interceptor
	// with an older stack); 0 allows TLS 1.3.
	MaxVersion uint16
	// Curves restricts the key exchanges (tls.X25519 only: a library
	// without post-quantum support); nil is Go's default.
	Curves []tls.CurveID
	// CipherSuites restricts the TLS 1.2 cipher suites (an interceptor
	// with a legacy cipher list); nil is Go's default.
	CipherSuites []uint16
}

// Config returns the server's tls.Config with a clock fixed at now.
func (s ServerSpec) Config(now time.Time) *tls.Config {
	return &tls.Config{
		Certificates:     []tls.Certificate{s.Chain.TLSCertificate()},
		NextProtos:       s.ALPN,
		MaxVersion:       s.MaxVersion,
		CurvePreferences: s.Curves,
		CipherSuites:     s.CipherSuites,
		Time:             func() time.Time { return now },
	}
}
