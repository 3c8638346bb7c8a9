package synth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"time"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType int

// Key algorithms.
const (
	ECDSAP256 KeyType = iota
	RSA2048
)

// NewKey generates a key from the global random source (deterministic
// under testing/cryptotest.SetGlobalRandom).
func NewKey(kt KeyType) (crypto.Signer, error) {
	if kt == RSA2048 {
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// CA is a certificate authority: its certificate and key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Issuer issues certificates with serial numbers drawn from a seeded
// source.
type Issuer struct {
	Rand *mrand.Rand
}

// serial draws a positive 16-byte serial number.
func (is *Issuer) serial() *big.Int {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(is.Rand.UintN(256))
	}
	b[0] &= 0x7f
	b[0] |= 0x01
	return new(big.Int).SetBytes(b)
}

// CASpec describes a CA certificate to create.
type CASpec struct {
	Subject             pkix.Name
	NotBefore, NotAfter time.Time
	Key                 KeyType
	// MaxPathLen is set on intermediates (0 means "may only issue leaves").
	MaxPathLen int
}

// Root creates a self-signed root CA.
func (is *Issuer) Root(s CASpec) (*CA, error) {
	key, err := NewKey(s.Key)
	if err != nil {
		return nil, err
	}
	tmpl := is.caTemplate(s)
	tmpl.MaxPathLenZero = false
	tmpl.MaxPathLen = -1
	return is.sign(tmpl, tmpl, key, key)
}

// Impersonator creates an intermediate that names real (a public root) as
// its issuer, byte for byte, but is signed by a private key: the forgery
// a chain "from Google Trust Services" made by a middlebox is.
func (is *Issuer) Impersonator(real *x509.Certificate, s CASpec) (*CA, error) {
	fakeRootKey, err := NewKey(ECDSAP256)
	if err != nil {
		return nil, err
	}
	key, err := NewKey(s.Key)
	if err != nil {
		return nil, err
	}
	parent := &x509.Certificate{RawSubject: real.RawSubject, Subject: real.Subject,
		SubjectKeyId: real.SubjectKeyId, PublicKey: fakeRootKey.Public()}
	return is.sign(is.caTemplate(s), parent, fakeRootKey, key)
}

// Intermediate creates a CA certificate signed by parent.
func (is *Issuer) Intermediate(parent *CA, s CASpec) (*CA, error) {
	key, err := NewKey(s.Key)
	if err != nil {
		return nil, err
	}
	return is.sign(is.caTemplate(s), parent.Cert, parent.Key, key)
}

func (is *Issuer) caTemplate(s CASpec) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          is.serial(),
		Subject:               s.Subject,
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            s.MaxPathLen,
		MaxPathLenZero:        s.MaxPathLen == 0,
	}
}

func (is *Issuer) sign(tmpl, parent *x509.Certificate, parentKey, key crypto.Signer) (*CA, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("synth: certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// LeafSpec describes a server certificate.
type LeafSpec struct {
	Subject             pkix.Name
	DNSNames            []string
	NotBefore, NotAfter time.Time
	Key                 KeyType
	// ReuseKey signs for the issuer's own key, as mitmproxy does for every
	// certificate it forges.
	ReuseKey bool
}

// Leaf issues a server certificate from ca.
func (is *Issuer) Leaf(ca *CA, s LeafSpec) (*CA, error) {
	var key crypto.Signer
	if s.ReuseKey {
		key = ca.Key
	} else {
		var err error
		if key, err = NewKey(s.Key); err != nil {
			return nil, err
		}
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := key.(*rsa.PrivateKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          is.serial(),
		Subject:               s.Subject,
		DNSNames:              s.DNSNames,
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	return is.sign(tmpl, ca.Cert, ca.Key, key)
}

// Chain is a server's certificate chain, leaf first, with the leaf's key.
type Chain struct {
	Certs []*x509.Certificate
	Key   crypto.Signer
}

// NewChain builds the chain a server sends: leaf then intermediates.
func NewChain(leaf *CA, intermediates ...*CA) Chain {
	ch := Chain{Certs: []*x509.Certificate{leaf.Cert}, Key: leaf.Key}
	for _, ca := range intermediates {
		ch.Certs = append(ch.Certs, ca.Cert)
	}
	return ch
}

// TLSCertificate returns the chain for tls.Config.Certificates.
func (ch Chain) TLSCertificate() tls.Certificate {
	c := tls.Certificate{PrivateKey: ch.Key, Leaf: ch.Certs[0]}
	for _, x := range ch.Certs {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}

// Pool returns a pool holding the given CAs: what a client trusts.
func Pool(cas ...*CA) *x509.CertPool {
	p := x509.NewCertPool()
	for _, ca := range cas {
		p.AddCert(ca.Cert)
	}
	return p
}

// PEM encodes certificates as PEM.
func PEM(cas ...*CA) []byte {
	var out []byte
	for _, ca := range cas {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})...)
	}
	return out
}

// oidEmail is PKCS #9 emailAddress, which several products put in their
// CA names.
var oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// WithEmail adds an emailAddress attribute (an IA5String, RFC 2985) to a
// name.
func WithEmail(n pkix.Name, email string) pkix.Name {
	v := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagIA5String, Bytes: []byte(email)}
	n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: oidEmail, Value: v})
	return n
}
