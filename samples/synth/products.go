package synth

import (
	"crypto/x509/pkix"
	"time"
)

// The CAs below carry the names the products write into the CAs they
// generate (the same names analyze/interception.go matches); their keys
// and validity are made up.

// MitmproxyCA is mitmproxy's CA as `mitmdump` creates it on first start
// (mitmproxy/certs.py: CN=mitmproxy, O=mitmproxy, RSA 2048, valid from two
// days before creation for ten years).
func (is *Issuer) MitmproxyCA(created time.Time) (*CA, error) {
	return is.Root(CASpec{
		Subject:   pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}},
		NotBefore: created.Add(-48 * time.Hour), NotAfter: created.AddDate(10, 0, 0), Key: RSA2048,
	})
}

// MitmproxyLeaf is the certificate mitmproxy forges for host: signed for
// the CA's own key, CN and SAN the host, valid from two days before now
// for a year (mitmproxy/certs.py dummy_cert).
func (is *Issuer) MitmproxyLeaf(ca *CA, host string, now time.Time) (*CA, error) {
	return is.Leaf(ca, LeafSpec{Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.AddDate(1, 0, 0), ReuseKey: true})
}

// ZscalerChain returns Zscaler's root and the two intermediates its
// SSL inspection chains through ("Zscaler Root CA" → "Zscaler
// Intermediate Root CA (zscalerthree.net)" → "… (t) ").
func (is *Issuer) ZscalerChain() (root, inter, issuing *CA, err error) {
	name := func(cn string) pkix.Name {
		return pkix.Name{CommonName: cn, OrganizationalUnit: []string{"Zscaler Inc."}, Organization: []string{"Zscaler Inc."},
			Province: []string{"California"}, Country: []string{"US"}}
	}
	rootName := name("Zscaler Root CA")
	rootName.Locality = []string{"San Jose"}
	root, err = is.Root(CASpec{Subject: WithEmail(rootName, "support@zscaler.com"),
		NotBefore: time.Date(2014, 12, 19, 0, 26, 44, 0, time.UTC), NotAfter: time.Date(2042, 5, 6, 0, 26, 44, 0, time.UTC), Key: RSA2048})
	if err != nil {
		return
	}
	inter, err = is.Intermediate(root, CASpec{Subject: name("Zscaler Intermediate Root CA (zscalerthree.net)"),
		NotBefore: time.Date(2024, 3, 12, 21, 12, 51, 0, time.UTC), NotAfter: time.Date(2029, 3, 12, 21, 12, 51, 0, time.UTC), MaxPathLen: 1})
	if err != nil {
		return
	}
	issuing, err = is.Intermediate(inter, CASpec{Subject: name("Zscaler Intermediate Root CA (zscalerthree.net) (t) "),
		NotBefore: time.Date(2026, 11, 10, 5, 33, 2, 0, time.UTC), NotAfter: time.Date(2026, 11, 24, 5, 33, 2, 0, time.UTC)})
	return
}

// FortiGateCA is a FortiGate's default deep-inspection CA
// (Fortinet_CA_SSL): O=Fortinet, OU=Certificate Authority, CN the
// device's serial number.
func (is *Issuer) FortiGateCA() (*CA, error) {
	n := pkix.Name{CommonName: "FG100FTK22031987", OrganizationalUnit: []string{"Certificate Authority"},
		Organization: []string{"Fortinet"}, Locality: []string{"Sunnyvale"}, Province: []string{"California"}, Country: []string{"US"}}
	return is.Root(CASpec{Subject: WithEmail(n, "support@fortinet.com"),
		NotBefore: time.Date(2023, 2, 7, 8, 41, 12, 0, time.UTC), NotAfter: time.Date(2033, 2, 8, 8, 41, 12, 0, time.UTC)})
}

// CharlesCA is Charles Proxy's per-installation root ("Charles Proxy CA
// (date, host)", O=XK72 Ltd).
func (is *Issuer) CharlesCA() (*CA, error) {
	n := pkix.Name{CommonName: "Charles Proxy CA (3 Sep 2026, dev-mbp.local)", OrganizationalUnit: []string{"https://charlesproxy.com/ssl"},
		Organization: []string{"XK72 Ltd"}, Locality: []string{"Auckland"}, Province: []string{"Auckland"}, Country: []string{"NZ"}}
	return is.Root(CASpec{Subject: n, NotBefore: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2027, 10, 4, 0, 0, 0, 0, time.UTC), Key: RSA2048})
}

// KasperskyCA is the root Kaspersky's "encrypted connections scan"
// installs on the machine it protects.
func (is *Issuer) KasperskyCA() (*CA, error) {
	return is.Root(CASpec{Subject: pkix.Name{CommonName: "Kaspersky Anti-Virus Personal Root Certificate", Organization: []string{"AO Kaspersky Lab"}},
		NotBefore: time.Date(2026, 1, 14, 9, 12, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 12, 9, 12, 0, 0, time.UTC), Key: RSA2048})
}

// CorpCA returns a corporate PKI: a root and an issuing CA of
// "Example Corp", as an internal GOPROXY or a corporate TLS gateway uses.
func (is *Issuer) CorpCA(issuingCN string) (root, issuing *CA, err error) {
	org := []string{"Example Corp"}
	root, err = is.Root(CASpec{Subject: pkix.Name{CommonName: "Example Corp Root CA", Organization: org, Country: []string{"DE"}},
		NotBefore: time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2041, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return
	}
	issuing, err = is.Intermediate(root, CASpec{Subject: pkix.Name{CommonName: issuingCN, Organization: org, Country: []string{"DE"}},
		NotBefore: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)})
	return
}

// SyntheticPublicCA returns a public-looking hierarchy that exists only
// in these samples. Clients in the samples trust it; modsniff's embedded
// Mozilla roots do not, so it only stands for a public CA where TLS 1.3
// hides the certificate.
func (is *Issuer) SyntheticPublicCA() (root, issuing *CA, err error) {
	org := []string{"Synthetic Trust Services (modsniff samples)"}
	root, err = is.Root(CASpec{Subject: pkix.Name{CommonName: "STS Root R1", Organization: org, Country: []string{"US"}},
		NotBefore: time.Date(2016, 6, 22, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 6, 22, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return
	}
	issuing, err = is.Intermediate(root, CASpec{Subject: pkix.Name{CommonName: "STS WR2", Organization: org, Country: []string{"US"}},
		NotBefore: time.Date(2023, 12, 13, 9, 0, 0, 0, time.UTC), NotAfter: time.Date(2029, 2, 20, 14, 0, 0, 0, time.UTC)})
	return
}
