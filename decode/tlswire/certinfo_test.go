package tlswire

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// TestCertInfoHoldsWhatCryptoX509Parsed parses certificates of several
// shapes and compares what CertInfo keeps with crypto/x509's parse of the
// same DER, and X509's parse with that too.
func TestCertInfoHoldsWhatCryptoX509Parsed(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	oidEmail := []int{1, 2, 840, 113549, 1, 9, 1}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example CA", Organization: []string{"Example", "Second"},
		OrganizationalUnit: []string{"Ops"}}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	for _, tc := range []struct {
		name       string
		tmpl       *x509.Certificate
		key        crypto.PublicKey
		wantSAN    bool
		wantRSA    int
		wantFull   bool
		selfIssued bool
	}{
		{"a leaf with DNS and IP names and an ECDSA key", &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "proxy.example"},
			DNSNames: []string{"proxy.example", "*.proxy.example"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Minute)}, &ecKey.PublicKey, true, 0, false, false},
		{"a leaf named only in its Common Name, with a 1024-bit RSA key", &x509.Certificate{SerialNumber: big.NewInt(3),
			Subject: pkix.Name{CommonName: "legacy.example"}, NotBefore: now, NotAfter: now.Add(time.Hour)}, &rsaKey.PublicKey, false, 1024, false, false},
		{"a leaf with only a URI name", &x509.Certificate{SerialNumber: big.NewInt(4), Subject: pkix.Name{CommonName: "spiffe"},
			URIs: []*url.URL{{Scheme: "spiffe", Host: "example.org", Path: "/svc"}}, NotBefore: now, NotAfter: now.Add(time.Hour)}, &ecKey.PublicKey, true, 0, false, false},
		{"a name without CN or O keeps its full form", &x509.Certificate{SerialNumber: big.NewInt(5),
			Subject:  pkix.Name{Country: []string{"DE"}, ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidEmail, Value: "ops@example.org"}}},
			DNSNames: []string{"x.example"}, NotBefore: now, NotAfter: now.Add(time.Hour)}, &ecKey.PublicKey, true, 0, true, false},
		{"the CA itself", nil, nil, false, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der := caDER
			if tc.tmpl != nil {
				if der, err = x509.CreateCertificate(rand.Reader, tc.tmpl, caCert, tc.key, ecKey); err != nil {
					t.Fatal(err)
				}
			}
			want, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			d := NewCertData(der)
			i := d.Info
			if i == nil || d.Err != nil {
				t.Fatalf("not parsed: %v", d.Err)
			}
			if !i.NotBefore.Equal(want.NotBefore) || !i.NotAfter.Equal(want.NotAfter) || i.NotAfter.Location() != want.NotAfter.Location() {
				t.Errorf("validity %v–%v, want %v–%v", i.NotBefore, i.NotAfter, want.NotBefore, want.NotAfter)
			}
			if !slices.Equal(i.DNSNames, want.DNSNames) || len(i.IPAddresses) != len(want.IPAddresses) {
				t.Errorf("names %v %v, want %v %v", i.DNSNames, i.IPAddresses, want.DNSNames, want.IPAddresses)
			}
			if i.Subject.CommonName != want.Subject.CommonName || !slices.Equal(i.Subject.Organization, want.Subject.Organization) ||
				!slices.Equal(i.Subject.OrganizationalUnit, want.Subject.OrganizationalUnit) ||
				i.Issuer.CommonName != want.Issuer.CommonName || !slices.Equal(i.Issuer.Organization, want.Issuer.Organization) {
				t.Errorf("names %+v / %+v, want %v / %v", i.Subject, i.Issuer, want.Subject, want.Issuer)
			}
			if (i.Subject.Full != "") != tc.wantFull || tc.wantFull && i.Subject.Full != want.Subject.String() {
				t.Errorf("full subject %q, want it %v (%q)", i.Subject.Full, tc.wantFull, want.Subject.String())
			}
			if iss, sub := d.RawNames(); !bytes.Equal(sub, want.RawSubject) || !bytes.Equal(iss, want.RawIssuer) || i.SelfIssued != tc.selfIssued {
				t.Error("raw names differ")
			}
			if i.HasSAN != tc.wantSAN || int(i.RSABits) != tc.wantRSA || i.IsCA != want.IsCA || i.SignatureAlgorithm != want.SignatureAlgorithm ||
				i.NegativeSerial != "" {
				t.Errorf("info %+v", i)
			}
			x, err := d.X509()
			if err != nil || !x.Equal(want) {
				t.Errorf("X509: %v", err)
			}
		})
	}
	t.Run("an unparseable certificate keeps its error and no info", func(t *testing.T) {
		d := NewCertData([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
		if d.Info != nil || d.Err == nil {
			t.Fatalf("info %+v err %v", d.Info, d.Err)
		}
		if _, err := d.X509(); err == nil {
			t.Error("X509 parsed what crypto/x509 rejected")
		}
	})
}

// TestCertInfoStaysCompact holds CertInfo to the size it was laid out for:
// one is kept per distinct certificate until the analysis ends, where a
// parsed x509.Certificate took 1.5 KB. 288 bytes is a size class of the allocator.
func TestCertInfoStaysCompact(t *testing.T) {
	if got := unsafe.Sizeof(CertInfo{}); got > 288 {
		t.Errorf("CertInfo is %d bytes, more than 288", got)
	}
}

// TestFingerprintIsTheHashOfTheDER checks Fingerprint with and without the
// hash the parse stored.
func TestFingerprintIsTheHashOfTheDER(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	want := sha256.Sum256(der)
	if got := NewCertData(der).Fingerprint(); got != want {
		t.Errorf("parsed: %x", got)
	}
	if got := (&CertData{Raw: der}).Fingerprint(); got != want {
		t.Errorf("without SHA256: %x", got)
	}
}
