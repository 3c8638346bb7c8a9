package analyze

import (
	"crypto/x509/pkix"
	"testing"
)

// TestInterceptorIndexPrefilterAgrees checks that the one-pass prefilter
// lets through every name some product's pattern matches: each product is
// still recognised, and a plain certificate is not.
func TestInterceptorIndexPrefilterAgrees(t *testing.T) {
	plain := namedCert(pkix.Name{CommonName: "proxy.golang.org"}, pkix.Name{CommonName: "R11", Organization: []string{"Let's Encrypt"}})
	if i := interceptorIndex(plain); i != -1 {
		t.Errorf("a public certificate is taken for %s", builtinInterceptors()[i].Product)
	}
	tried := 0
	for i := range builtinInterceptors() {
		p := &builtinInterceptors()[i]
		// A name each product's pattern matches, found by trying the
		// product's own name and its pattern's literal form.
		for _, cand := range []string{p.Product, p.Pattern.String()[len("(?i)"):]} {
			c := namedCert(pkix.Name{CommonName: "example.com"}, pkix.Name{CommonName: cand})
			if !p.Pattern.MatchString(certNames(c.Info)[0]) {
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
