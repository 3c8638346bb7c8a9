package analyze

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// TestChainJudgedOnce checks that a chain is judged once whether later
// sessions share its certificates' pointers (the decoder's certificate
// cache) or carry copies of the same DER, and that a different chain under
// the same CA gets its own verdict.
func TestChainJudgedOnce(t *testing.T) {
	ca := makeCA(t, pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}})
	leaf := ca.leaf(t, "proxy.golang.org", []string{"proxy.golang.org"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	other := ca.leaf(t, "sum.golang.org", []string{"sum.golang.org"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	parse := func(c *x509.Certificate) *tlswire.CertData { return tlswire.NewCertData(c.Raw) }
	leafD, caD, otherD := parse(leaf), parse(ca.cert), parse(other)
	ts := newTrustStore(Options{})
	v := ts.verify([]*tlswire.CertData{leafD, caD})
	if v.Trusted || v.Class != "interception" || v.Product == nil || v.Product.Product != "mitmproxy" {
		t.Fatalf("verdict %+v, want mitmproxy interception", v)
	}
	if again := ts.verify([]*tlswire.CertData{leafD, caD}); again != v {
		t.Errorf("the same certificates were judged again")
	}
	if copied := ts.verify([]*tlswire.CertData{parse(leaf), parse(ca.cert)}); copied != v {
		t.Errorf("a copy of the same DER was judged again")
	}
	if w := ts.verify([]*tlswire.CertData{otherD, caD}); w == v || w.Class != "interception" {
		t.Errorf("another chain under the same CA: %+v (same verdict object: %v)", w, w == v)
	}
	if short := ts.verify([]*tlswire.CertData{leafD}); short == v {
		t.Errorf("the leaf alone shares the whole chain's verdict")
	}
}
