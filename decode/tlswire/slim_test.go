package tlswire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestSlimCertificatesStillVerifyAsParsedOnes(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Constrained CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, PermittedDNSDomains: []string{"golang.org"}}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafFor := func(name string) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	slim := func(der []byte) *x509.Certificate {
		c := parseDER(der, sha256.Sum256(der))
		if c.Cert == nil {
			t.Fatalf("not parsed: %v", c.Err)
		}
		return c.Cert
	}
	slimCA := slim(caDER)
	if len(slimCA.Extensions) != 1 || !slimCA.Extensions[0].Id.Equal(oidNameConstraints) {
		t.Errorf("CA keeps %v, want only nameConstraints", slimCA.Extensions)
	}
	for _, tc := range []struct {
		name, host, wantErr string
	}{
		{"a name inside the constraint verifies", "proxy.golang.org", ""},
		{"a name outside it still violates it", "proxy.example.net", "not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := slim(leafFor(tc.host))
			if len(leaf.Extensions) != 1 || !leaf.Extensions[0].Id.Equal(oidSubjectAltName) {
				t.Errorf("leaf keeps %v, want only subjectAltName", leaf.Extensions)
			}
			roots := x509.NewCertPool()
			roots.AddCert(slimCA)
			_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: tc.host, CurrentTime: now})
			if tc.wantErr == "" && err != nil {
				t.Errorf("verify: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("verify: %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestSlimNamesRenderAsParsedOnes(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	oidEmail := []int{1, 2, 840, 113549, 1, 9, 1}
	for _, tc := range []struct {
		name      string
		subject   pkix.Name
		keepNames bool
	}{
		{"standard attributes only: the list goes", pkix.Name{Country: []string{"DE"}, Organization: []string{"Example GmbH"},
			OrganizationalUnit: []string{"Ops"}, Locality: []string{"Berlin"}, Province: []string{"BE"},
			StreetAddress: []string{"Str. 1"}, PostalCode: []string{"10115"}, SerialNumber: "42", CommonName: "proxy.example"}, false},
		{"an e-mail address: the list stays", pkix.Name{CommonName: "proxy.example",
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidEmail, Value: "ops@example.org"}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: tc.subject, DNSNames: []string{"proxy.example"},
				NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0),
				OCSPServer: []string{"http://ocsp.example"}, CRLDistributionPoints: []string{"http://crl.example/ca.crl"}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				t.Fatal(err)
			}
			full, _ := x509.ParseCertificate(der)
			c := parseDER(der, sha256.Sum256(der))
			if c.Cert == nil {
				t.Fatal(c.Err)
			}
			if got, want := c.Cert.Subject.String(), full.Subject.String(); got != want {
				t.Errorf("subject %q, parsed %q", got, want)
			}
			if got, want := c.Cert.Issuer.String(), full.Issuer.String(); got != want {
				t.Errorf("issuer %q, parsed %q", got, want)
			}
			if (c.Cert.Subject.Names != nil) != tc.keepNames || len(full.Subject.Names) == 0 {
				t.Errorf("names %v kept, want %v", c.Cert.Subject.Names, tc.keepNames)
			}
			if c.Cert.OCSPServer != nil || c.Cert.CRLDistributionPoints != nil {
				t.Errorf("URLs kept: %v %v", c.Cert.OCSPServer, c.Cert.CRLDistributionPoints)
			}
			if c.Cert.Subject.CommonName != "proxy.example" || c.Cert.VerifyHostname("proxy.example") != nil {
				t.Error("fields the checks read are gone")
			}
		})
	}
}
