package analyze

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// TestInterceptorIndexPrefilterAgrees checks that the one-pass prefilter
// lets through every name some product's pattern matches: each product is
// still recognised, and a plain certificate is not.
func TestInterceptorIndexPrefilterAgrees(t *testing.T) {
	plain := &x509.Certificate{Issuer: pkix.Name{CommonName: "R11", Organization: []string{"Let's Encrypt"}},
		Subject: pkix.Name{CommonName: "proxy.golang.org"}}
	if i := interceptorIndex(plain); i != -1 {
		t.Errorf("a public certificate is taken for %s", builtinInterceptors()[i].Product)
	}
	tried := 0
	for i := range builtinInterceptors() {
		p := &builtinInterceptors()[i]
		// A name each product's pattern matches, found by trying the
		// product's own name and its pattern's literal form.
		for _, cand := range []string{p.Product, p.Pattern.String()[len("(?i)"):]} {
			c := &x509.Certificate{Issuer: pkix.Name{CommonName: cand}, Subject: pkix.Name{CommonName: "example.com"}}
			if !p.Pattern.MatchString(certNames(c)[0]) {
				continue
			}
			tried++
			if got := interceptorIndex(c); got < 0 || got > i {
				t.Errorf("%s: interceptorIndex = %d, want the first matching product at or before %d", p.Product, got, i)
			}
		}
	}
	if tried < len(builtinInterceptors())/2 {
		t.Errorf("only %d of %d products had a name to try", tried, len(builtinInterceptors()))
	}
}
