package analyze

import (
	"bytes"
	"crypto"
	_ "crypto/md5" // MD5 for the legacy signature under test
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// rsaCA is an RSA issuing CA for certificates crypto/x509 will not make
// (an MD5 signature, a negative serial): they are signed by hand.
type rsaCA struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

func makeRSACA(t *testing.T) *rsaCA {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Legacy Root", Organization: []string{"Legacy"}},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &rsaCA{cert: c, key: key}
}

// issue makes a leaf for modHost. With alg set (SHA1WithRSA) crypto/x509
// signs it; pub replaces the leaf's key (a 512-bit one). Then patch
// rewrites the to-be-signed bytes and the certificate is re-signed by hand
// with hash (an MD5 signature, a negative serial), as a broken CA would.
func (ca *rsaCA) issue(t *testing.T, alg x509.SignatureAlgorithm, pub any, patch func(tbs []byte) []byte, hash crypto.Hash, oid asn1.ObjectIdentifier) []byte {
	t.Helper()
	if pub == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		pub = &k.PublicKey
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x55), Subject: pkix.Name{CommonName: modHost}, DNSNames: []string{modHost},
		NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(1, 0, 0), SignatureAlgorithm: alg}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if patch == nil {
		return der
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tbs := patch(bytes.Clone(c.RawTBSCertificate))
	h := hash.New()
	h.Write(tbs)
	sig, err := rsa.SignPKCS1v15(rand.Reader, ca.key, hash, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue}, asn1.BitString{Bytes: sig, BitLength: len(sig) * 8}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidMD5WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
)

// replaceOnce replaces the first old in b by new of the same length.
func replaceOnce(t *testing.T, b, old, new []byte) []byte {
	t.Helper()
	i := bytes.Index(b, old)
	if i < 0 || len(old) != len(new) {
		t.Fatalf("%x not found in the certificate", old)
	}
	copy(b[i:], new)
	return b
}

// rawMsg wraps DER certificates as a Certificate message the way tlswire
// keeps them: parsed, or raw with crypto/x509's error.
func rawMsg(ders ...[]byte) *tlswire.CertificateMsg {
	m := &tlswire.CertificateMsg{}
	for _, d := range ders {
		c := tlswire.NewCertData(d)
		c.Subject = "CN=" + modHost
		m.Certificates = append(m.Certificates, tlswire.Certificate{CertData: c})
	}
	return m
}

func TestGoPolicy(t *testing.T) {
	ca := makeRSACA(t)
	sha1Leaf := ca.issue(t, x509.SHA1WithRSA, nil, nil, 0, nil)
	md5Leaf := ca.issue(t, x509.SHA256WithRSA, nil, func(tbs []byte) []byte {
		sha, _ := asn1.Marshal(oidSHA256WithRSA)
		md5, _ := asn1.Marshal(oidMD5WithRSA)
		return replaceOnce(t, tbs, sha, md5)
	}, crypto.MD5, oidMD5WithRSA)
	negative := ca.issue(t, x509.SHA256WithRSA, nil, func(tbs []byte) []byte {
		return replaceOnce(t, tbs, []byte{0x02, 0x01, 0x55}, []byte{0x02, 0x01, 0xab}) // serial 0x55 → -85
	}, crypto.SHA256, oidSHA256WithRSA)
	p, _ := rand.Prime(rand.Reader, 256)
	q, _ := rand.Prime(rand.Reader, 256)
	weakKey := ca.issue(t, x509.SHA256WithRSA, &rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537}, nil, 0, nil)
	good := ca.issue(t, x509.SHA256WithRSA, nil, nil, 0, nil)
	garbage := append(bytes.Clone(good[:40]), 0xff, 0xff)
	ecCA := makeCA(t, pkix.Name{CommonName: "EC Root"})
	cnOnly := ecCA.leaf(t, modHost, nil, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	withSAN := ecCA.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	sha1Root := func() []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Old SHA-1 Root"}, NotBefore: t0.AddDate(-9, 0, 0),
			NotAfter: t0.AddDate(9, 0, 0), IsCA: true, BasicConstraintsValid: true, SignatureAlgorithm: x509.SHA1WithRSA}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}()
	badCert := tlswire.Alert{From: tlswire.ClientToServer, Level: 2, Description: 42, At: at(8)}
	srvAlert := func(desc uint8) []tlswire.Alert {
		return []tlswire.Alert{{From: tlswire.ServerToClient, Level: 2, Description: desc, At: at(5)}}
	}
	tests := []struct {
		name   string
		spec   sessionSpec
		edit   func(s *decode.TLSSession)
		want   []want
		hintOK string // a phrase the hint must hold
	}{
		{name: "a SHA-1 signed leaf", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(sha1Leaf), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "SHA1-RSA"}}, hintOK: "No GODEBUG switch"},
		{name: "an MD5 signed leaf", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(md5Leaf), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "MD5-RSA"}}},
		{name: "a negative serial is kept raw and judged", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(negative), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "negative serial"}}, hintOK: "GODEBUG=x509negativeserial=1"},
		{name: "a certificate crypto/x509 cannot parse is judged, not dropped", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(garbage), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "cannot parse"}}},
		{name: "an RSA key under 1024 bits", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(weakKey), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "512-bit RSA key"}}, hintOK: "GODEBUG=rsa1024min=0"},
		{name: "a leaf with its name only in the Common Name", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(cnOnly), alerts: []tlswire.Alert{badCert}},
			want: []want{{modHost, "error", "Common Name"}}},
		{name: "a SHA-1 self-signed root at the end of the chain is never checked",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(good, sha1Root)}},
		{name: "a sound leaf with a SAN passes", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(withSAN)}},
		{name: "a client that carried on past a SHA-1 leaf makes a warning",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(sha1Leaf), clientRecs: appData(2, 200)},
			want: []want{{modHost, "warning", "carried on"}}},
		{name: "a server that chose RSA key exchange", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, clientRecs: appData(2, 200)},
			edit: func(s *decode.TLSSession) { s.ServerHello.CipherSuite = 0x009c },
			want: []want{{modHost, "warning", "RSA key exchange"}}, hintOK: "GODEBUG=tlsrsakex=1"},
		{name: "a server that chose 3DES", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12},
			edit: func(s *decode.TLSSession) { s.ServerHello.CipherSuite = 0x000a },
			want: []want{{modHost, "error", "3DES"}}, hintOK: "GODEBUG=tls3des=1"},
		{name: "a server that chose TLS 1.0", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS10},
			want: []want{{modHost, "error", "TLS 1.0"}}, hintOK: "GODEBUG=tls10server=1"},
		{name: "handshake_failure answering a hello of ECDHE suites only", spec: sessionSpec{sni: modHost, alerts: srvAlert(40)},
			edit: func(s *decode.TLSSession) { s.ClientHello.CipherSuites = []uint16{0x1301, 0xc02f, 0xc02b} },
			want: []want{{modHost, "error", "RSA key exchange"}}},
		{name: "protocol_version answering a hello of TLS 1.2 and 1.3", spec: sessionSpec{sni: modHost, alerts: srvAlert(70)},
			want: []want{{modHost, "error", "TLS 1.0/1.1"}}},
		{name: "handshake_failure to a hello that offered RSA and 3DES is something else", spec: sessionSpec{sni: modHost, alerts: srvAlert(40)},
			edit: func(s *decode.TLSSession) { s.ClientHello.CipherSuites = []uint16{0xc02f, 0x009c, 0x000a} }},
		{name: "protocol_version to a hello that offered TLS 1.0 is something else", spec: sessionSpec{sni: modHost, alerts: srvAlert(70)},
			edit: func(s *decode.TLSSession) {
				s.ClientHello.SupportedVersions = []uint16{tlswire.VersionTLS12, tlswire.VersionTLS11, tlswire.VersionTLS10}
			}},
		{name: "a client's handshake_failure is not the server's choice",
			spec: sessionSpec{sni: modHost, alerts: []tlswire.Alert{{From: tlswire.ClientToServer, Level: 2, Description: 40, At: at(5)}}}},
		{name: "TLS 1.2 with ECDHE and AES-GCM passes", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12}},
		{name: "TLS 1.3 passes", spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tlsSession(tt.spec)
			if tt.edit != nil {
				tt.edit(s)
			}
			ev := &decode.Events{TLS: []*decode.TLSSession{s}, TCP: []*decode.TCPConn{s.Conn}}
			got := runCheck(t, "tls-go-policy", ctxFor(ev, 10000, Options{}))
			expectFindings(t, got, tt.want...)
			if tt.hintOK != "" && len(got) > 0 && !strings.Contains(got[0].Hint, tt.hintOK) {
				t.Errorf("hint lacks %q: %s", tt.hintOK, got[0].Hint)
			}
		})
	}
}

// TestUnparsedLeafIsNotMistakenForTheChain: with the leaf unparseable, no
// other check judges the intermediate as if it were the leaf.
func TestUnparsedLeafIsNotMistakenForTheChain(t *testing.T) {
	ca := makeRSACA(t)
	negative := ca.issue(t, x509.SHA256WithRSA, nil, func(tbs []byte) []byte {
		return replaceOnce(t, tbs, []byte{0x02, 0x01, 0x55}, []byte{0x02, 0x01, 0xab})
	}, crypto.SHA256, oidSHA256WithRSA)
	s := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: rawMsg(negative, ca.cert.Raw)})
	ev := &decode.Events{TLS: []*decode.TLSSession{s}, TCP: []*decode.TCPConn{s.Conn}}
	for _, id := range []string{"tls-hostname-mismatch", "tls-expired", "tls-client-trust-store"} {
		if got := runCheck(t, id, ctxFor(ev, 10000, Options{Trust: []*x509.Certificate{ca.cert}})); len(got) > 0 {
			t.Errorf("%s judged the intermediate as the leaf: %s", id, got[0].Summary)
		}
	}
}
