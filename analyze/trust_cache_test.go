package analyze

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
)

// TestChainJudgedOnce checks that a chain is judged once whether later
// sessions share its certificates' pointers (the decoder's certificate
// cache) or carry copies of the same DER, and that a different chain under
// the same CA gets its own verdict.
func TestChainJudgedOnce(t *testing.T) {
	ca := makeCA(t, pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}})
	leaf := ca.leaf(t, "proxy.golang.org", []string{"proxy.golang.org"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	other := ca.leaf(t, "sum.golang.org", []string{"sum.golang.org"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	reparse := func(c *x509.Certificate) *x509.Certificate {
		p, err := x509.ParseCertificate(c.Raw)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ts := newTrustStore(Options{})
	v := ts.verify([]*x509.Certificate{leaf, ca.cert})
	if v.Trusted || v.Class != "interception" || v.Product == nil || v.Product.Product != "mitmproxy" {
		t.Fatalf("verdict %+v, want mitmproxy interception", v)
	}
	if again := ts.verify([]*x509.Certificate{leaf, ca.cert}); again != v {
		t.Errorf("the same certificates were judged again")
	}
	if copied := ts.verify([]*x509.Certificate{reparse(leaf), reparse(ca.cert)}); copied != v {
		t.Errorf("a copy of the same DER was judged again")
	}
	if w := ts.verify([]*x509.Certificate{other, ca.cert}); w == v || w.Class != "interception" {
		t.Errorf("another chain under the same CA: %+v (same verdict object: %v)", w, w == v)
	}
	if short := ts.verify([]*x509.Certificate{leaf}); short == v {
		t.Errorf("the leaf alone shares the whole chain's verdict")
	}
}
