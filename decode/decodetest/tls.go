package decodetest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// PKI is a root CA and a leaf certificate (ECDSA and RSA keys) it signed
// for some host names, valid from an hour ago for two days.
type PKI struct {
	Root     *x509.Certificate
	Roots    *x509.CertPool
	RootPEM  []byte
	ECDSA    tls.Certificate // leaf and root
	RSA      tls.Certificate
	LeafName string // the leaf's subject, as modsniff writes it ("CN=…")
}

// NewPKI returns a root named root (a pkix Name: CN and O) and a leaf for
// names (the first is the leaf's CN).
func NewPKI(root pkix.Name, names ...string) (*PKI, error) {
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(48 * time.Hour)
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: root, NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootCert, err := sign(rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	p := &PKI{Root: rootCert, Roots: x509.NewCertPool(), LeafName: "CN=" + names[0]}
	p.Roots.AddCert(rootCert)
	p.RootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootCert.Raw})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	for i, k := range []crypto.Signer{ecKey, rsaKey} {
		leaf, err := sign(&x509.Certificate{SerialNumber: big.NewInt(int64(2 + i)), Subject: pkix.Name{CommonName: names[0]},
			DNSNames: names, NotBefore: notBefore, NotAfter: notAfter,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, rootCert, k.Public(), rootKey)
		if err != nil {
			return nil, err
		}
		c := tls.Certificate{Certificate: [][]byte{leaf.Raw, rootCert.Raw}, PrivateKey: k, Leaf: leaf}
		if i == 0 {
			p.ECDSA = c
		} else {
			p.RSA = c
		}
	}
	return p, nil
}

func sign(tmpl, parent *x509.Certificate, pub any, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// ClientConfig returns a client configured like the go command (h2 and
// http/1.1, default curves and suites) for serverName, trusting roots (nil:
// trusting nothing, so that the certificate is rejected) and logging keys
// to r.
func (r *Recorder) ClientConfig(serverName string, roots *x509.CertPool) *tls.Config {
	if roots == nil {
		roots = x509.NewCertPool()
	}
	return &tls.Config{ServerName: serverName, NextProtos: []string{"h2", "http/1.1"}, RootCAs: roots, KeyLogWriter: r.KeyLog()}
}

// ServerConfig returns a server with both of p's certificates, offering
// the given ALPN protocols.
func (p *PKI) ServerConfig(alpn ...string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.ECDSA, p.RSA}, NextProtos: alpn}
}

// TLS runs one TLS session over a new recorded connection: both sides
// handshake, then clientApp and serverApp run on their side (nil: nothing),
// and each side closes when done. It returns each side's first error.
func (r *Recorder) TLS(ccfg, scfg *tls.Config, clientApp, serverApp func(*tls.Conn) error) (clientErr, serverErr error) {
	ce, se := r.Pipe()
	var wg sync.WaitGroup
	wg.Add(2)
	run := func(c *tls.Conn, app func(*tls.Conn) error, errp *error) {
		defer wg.Done()
		defer c.Close()
		if *errp = c.Handshake(); *errp != nil {
			return
		}
		if app != nil {
			*errp = app(c)
		}
	}
	go run(tls.Client(ce, ccfg), clientApp, &clientErr)
	go run(tls.Server(se, scfg), serverApp, &serverErr)
	wg.Wait()
	return clientErr, serverErr
}

// HTTP serves handler over TLS (scfg) on an in-memory listener and returns
// a client whose connections (made with ccfg; HTTP/2 when h2 is set and
// the server agrees) are recorded, and a function that closes both.
func (r *Recorder) HTTP(scfg, ccfg *tls.Config, h2 bool, handler http.Handler) (*http.Client, func()) {
	l := r.Listener()
	srv := &http.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	if h2 {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetHTTP2(true)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(tls.NewListener(l, scfg))
	}()
	tr := &http.Transport{DialContext: l.Dial, TLSClientConfig: ccfg, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr}, func() {
		tr.CloseIdleConnections()
		srv.Close()
		<-done
	}
}
