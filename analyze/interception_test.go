package analyze

import (
	"crypto/x509/pkix"
	"testing"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// TestInterceptorTableNamesEachProduct builds a CA named as each product
// names its own and checks the table recognises it — and that ordinary
// public CAs and servers are not mistaken for one.
func TestInterceptorTableNamesEachProduct(t *testing.T) {
	tests := []struct {
		product string
		issuer  pkix.Name
	}{
		{"mitmproxy", pkix.Name{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}}},
		{"Charles Proxy", pkix.Name{CommonName: "Charles Proxy CA (26 Nov 2026, build-host)", Organization: []string{"XK72 Ltd"}, OrganizationalUnit: []string{"https://charlesproxy.com/ssl"}}},
		{"Fiddler", pkix.Name{CommonName: "DO_NOT_TRUST_FiddlerRoot", Organization: []string{"DO_NOT_TRUST"}, OrganizationalUnit: []string{"Created by http://www.fiddler2.com"}}},
		{"Burp Suite", pkix.Name{CommonName: "PortSwigger CA", Organization: []string{"PortSwigger"}, OrganizationalUnit: []string{"PortSwigger CA"}}},
		{"Zscaler", pkix.Name{CommonName: "Zscaler Intermediate Root CA (zscaler.net)", Organization: []string{"Zscaler Inc."}}},
		{"Fortinet FortiGate", pkix.Name{CommonName: "FortiGate CA", Organization: []string{"Fortinet"}}},
		{"Netskope", pkix.Name{CommonName: "ca.example.goskope.com", Organization: []string{"Netskope Inc"}}},
		{"Cisco Umbrella", pkix.Name{CommonName: "Cisco Umbrella Secondary SubCA ord-SG", Organization: []string{"Cisco"}}},
		{"Palo Alto Networks", pkix.Name{CommonName: "Forward-Trust-CA", Organization: []string{"Palo Alto Networks"}}},
		{"Sophos", pkix.Name{CommonName: "Sophos SSL CA_C123", Organization: []string{"Sophos"}}},
		{"Kaspersky", pkix.Name{CommonName: "Kaspersky Anti-Virus Personal Root Certificate", Organization: []string{"AO Kaspersky Lab"}}},
		{"Avast / AVG", pkix.Name{CommonName: "Avast Web/Mail Shield Root", Organization: []string{"Avast Web/Mail Shield"}}},
		{"ESET", pkix.Name{CommonName: "ESET SSL Filter CA", Organization: []string{"ESET, spol. s r. o."}}},
		{"Bitdefender", pkix.Name{CommonName: "Bitdefender Personal CA.Net-Defender", Organization: []string{"Bitdefender"}}},
		{"Norton", pkix.Name{CommonName: "Norton Web/Mail Shield Root"}},
		{"AdGuard", pkix.Name{CommonName: "AdGuard Personal Intermediate", Organization: []string{"AdGuard"}}},
		{"Surge", pkix.Name{CommonName: "Surge Generated CA 1A2B3C4D"}},
		{"Stash", pkix.Name{CommonName: "Stash Generated CA 77"}},
		{"Cloudflare Gateway", pkix.Name{CommonName: "Gateway CA - Cloudflare Managed G1 5b2a", Organization: []string{"Cloudflare, Inc."}}},
	}
	for _, tt := range tests {
		t.Run(tt.product, func(t *testing.T) {
			leaf := namedCert(pkix.Name{CommonName: "proxy.golang.org"}, tt.issuer)
			p := identifyInterceptor([]*tlswire.CertData{leaf})
			if p == nil || p.Product != tt.product {
				t.Fatalf("identified %v, want %s", p, tt.product)
			}
			if p.Source == "" || p.Fix == "" || p.Kind == "" {
				t.Errorf("entry %s lacks its source, kind or fix", p.Product)
			}
		})
	}
	for _, public := range []pkix.Name{
		{CommonName: "WR2", Organization: []string{"Google Trust Services"}},
		{CommonName: "R11", Organization: []string{"Let's Encrypt"}},
		{CommonName: "DigiCert Global G2 TLS RSA SHA256 2020 CA1", Organization: []string{"DigiCert Inc"}},
		{CommonName: "Amazon RSA 2048 M02", Organization: []string{"Amazon"}},
		{CommonName: "Example Corp Issuing CA 01", Organization: []string{"Example Corp"}},
	} {
		leaf := namedCert(pkix.Name{CommonName: "proxy.golang.org"}, public)
		if p := identifyInterceptor([]*tlswire.CertData{leaf}); p != nil {
			t.Errorf("%s taken for %s", public.CommonName, p.Product)
		}
	}
}

// namedCert is a parsed certificate that has only its names, for the
// checks that match names.
func namedCert(subject, issuer pkix.Name) *tlswire.CertData {
	return &tlswire.CertData{Info: &tlswire.CertInfo{Subject: tlswire.NameOf(subject), Issuer: tlswire.NameOf(issuer)}}
}
