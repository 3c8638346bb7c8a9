package benchgen

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"time"
)

// The certificate chains and TLS handshakes are made once per seed with
// crypto/x509 and an in-memory crypto/tls handshake, then replayed on many
// connections.
//
// Go 1.26 ignores the caller's randomness in crypto/tls and crypto/ecdsa
// (only testing/cryptotest can make it deterministic, and only inside a
// test). The output is made deterministic anyway:
//   - keys come from seeded bytes (ecdsa.ParseRawPrivateKey) and
//     certificates are signed deterministically (RFC 6979, nil random), so
//     every certificate is a function of the seed;
//   - a handshake is repeated until the server's ECDSA signature has the
//     usual DER length, so every message length is fixed;
//   - the bytes that are random by nature (randoms, session IDs, key shares,
//     signatures, encrypted records) are then overwritten with seeded bytes.
// The result is byte-for-byte the same for a seed, and still real
// crypto/tls framing, extensions and certificates.

// chainSpec describes one CA hierarchy and the leaves it issues.
type chainSpec struct {
	root, inter pkix.Name
	rootCurve   elliptic.Curve
	leaves      []leafSpec
	sendRoot    bool // the server sends the root too, as some do
}

type leafSpec struct {
	cn    string
	names []string
}

func name(cn, o, c string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: []string{o}, Country: []string{c}}
}

// Synthetic CAs: named plainly, so nobody mistakes them for the real ones
// (modsniff reports them as foreign issuers, which is what they are).
var chainSpecs = []chainSpec{
	{
		root:      name("Bench Trust Services Root R4", "Bench Trust Services LLC", "US"),
		inter:     name("Bench WE1", "Bench Trust Services", "US"),
		rootCurve: elliptic.P384(),
		leaves: []leafSpec{
			{"*.golang.org", []string{"*.golang.org", "golang.org", "go.dev", "*.go.dev"}},
			{"storage.googleapis.com", []string{"storage.googleapis.com", "*.storage.googleapis.com", "*.googleapis.com"}},
			{"*.googlesource.com", []string{"*.googlesource.com", "googlesource.com"}},
			{"dl.google.com", []string{"dl.google.com", "*.dl.google.com"}},
		},
	},
	{
		root:      name("Bench Global Root G2", "Bench Certs Inc", "US"),
		inter:     name("Bench Global G2 TLS ECC SHA384 2020 CA1", "Bench Certs Inc", "US"),
		rootCurve: elliptic.P384(),
		leaves: []leafSpec{
			{"github.com", []string{"github.com", "www.github.com", "codeload.github.com"}},
			{"*.githubusercontent.com", []string{"*.githubusercontent.com", "githubusercontent.com"}},
		},
	},
	{
		root:      name("Bench ISRG Root X2", "Bench Security Research Group", "US"),
		inter:     name("E6", "Bench Encrypt", "US"),
		rootCurve: elliptic.P384(),
		sendRoot:  true,
		leaves: []leafSpec{
			{"goproxy.io", []string{"goproxy.io", "*.goproxy.io"}},
			{"goproxy.cn", []string{"goproxy.cn"}},
			{"gopkg.in", []string{"gopkg.in", "*.gopkg.in"}},
		},
	},
}

// certTime is the reference time: certificates are valid around it and the
// capture is taken shortly after it.
var certTime = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// leafCert is a certificate chain ready for a tls.Config.
type leafCert struct {
	names []string
	chain [][]byte
	key   *ecdsa.PrivateKey
}

// seededKey derives an ECDSA key on curve c from r.
func seededKey(c elliptic.Curve, r *rand.ChaCha8) (*ecdsa.PrivateKey, error) {
	size := (c.Params().BitSize + 7) / 8
	b := make([]byte, size)
	for {
		r.Read(b)
		b[0] &= 0x7f // below the group order
		if k, err := ecdsa.ParseRawPrivateKey(c, b); err == nil {
			return k, nil
		}
	}
}

// makeChains builds every chain of chainSpecs: each certificate is a
// function of the seed.
func makeChains(seed uint64) ([]leafCert, error) {
	r := rand.NewChaCha8(seedBytes(seed, "chains"))
	serial := int64(0x4c0d)
	var leaves []leafCert
	for i, cs := range chainSpecs {
		rootKey, err := seededKey(cs.rootCurve, r)
		if err != nil {
			return nil, err
		}
		interKey, err := seededKey(elliptic.P256(), r)
		if err != nil {
			return nil, err
		}
		serial += 0x10001
		rootT := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               cs.root,
			NotBefore:             certTime.AddDate(-9, 0, 0),
			NotAfter:              certTime.AddDate(16, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		rootDER, err := x509.CreateCertificate(nil, rootT, rootT, &rootKey.PublicKey, rootKey)
		if err != nil {
			return nil, fmt.Errorf("chain %d root: %w", i, err)
		}
		root, _ := x509.ParseCertificate(rootDER)
		serial += 0x10001
		interT := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               cs.inter,
			NotBefore:             certTime.AddDate(-1, -6, 0),
			NotAfter:              certTime.AddDate(3, 6, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			MaxPathLenZero:        true,
			OCSPServer:            []string{"http://o.bench.example/" + cs.inter.CommonName},
			IssuingCertificateURL: []string{"http://i.bench.example/root.crt"},
			CRLDistributionPoints: []string{"http://c.bench.example/root.crl"},
		}
		interDER, err := x509.CreateCertificate(nil, interT, root, &interKey.PublicKey, rootKey)
		if err != nil {
			return nil, fmt.Errorf("chain %d intermediate: %w", i, err)
		}
		inter, _ := x509.ParseCertificate(interDER)
		for _, ls := range cs.leaves {
			key, err := seededKey(elliptic.P256(), r)
			if err != nil {
				return nil, err
			}
			serial += 0x10001
			leafT := &x509.Certificate{
				SerialNumber:          big.NewInt(serial),
				Subject:               pkix.Name{CommonName: ls.cn},
				DNSNames:              ls.names,
				NotBefore:             certTime.AddDate(0, -1, 0),
				NotAfter:              certTime.AddDate(0, 2, 0),
				KeyUsage:              x509.KeyUsageDigitalSignature,
				ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				BasicConstraintsValid: true,
				OCSPServer:            []string{"http://o.bench.example/" + cs.inter.CommonName},
				IssuingCertificateURL: []string{"http://i.bench.example/" + cs.inter.CommonName + ".crt"},
				CRLDistributionPoints: []string{"http://c.bench.example/" + cs.inter.CommonName + ".crl"},
			}
			leafDER, err := x509.CreateCertificate(nil, leafT, inter, &key.PublicKey, interKey)
			if err != nil {
				return nil, fmt.Errorf("chain %d leaf %s: %w", i, ls.cn, err)
			}
			chain := [][]byte{leafDER, interDER}
			if cs.sendRoot {
				chain = append(chain, rootDER)
			}
			leaves = append(leaves, leafCert{names: ls.names, chain: chain, key: key})
		}
	}
	return leaves, nil
}

// certFor returns the leaf covering host.
func certFor(leaves []leafCert, host string) (*leafCert, error) {
	for i := range leaves {
		for _, n := range leaves[i].names {
			if n == host || (len(n) > 2 && n[:2] == "*." && dotSuffix(host, n[1:])) {
				return &leaves[i], nil
			}
		}
	}
	return nil, fmt.Errorf("no certificate for %s", host)
}

// dotSuffix reports whether host is exactly one label followed by suffix
// (".example.com").
func dotSuffix(host, suffix string) bool {
	if len(host) <= len(suffix) || host[len(host)-len(suffix):] != suffix {
		return false
	}
	label := host[:len(host)-len(suffix)]
	for i := 0; i < len(label); i++ {
		if label[i] == '.' {
			return false
		}
	}
	return true
}

// flight is the bytes one side sends before it waits for the other.
type flight struct {
	dir  int // 0 client, 1 server
	data []byte
}

// handshake is one recorded, canonicalized TLS handshake.
type handshake struct {
	host    string
	version uint16
	alpn    string
	flights []flight
	// recBody is the body length of a full application_data record
	// (16 KiB of plaintext) in this session; alertBody that of an
	// encrypted close_notify, alertType its outer content type.
	recBody   int
	alertBody int
	alertType uint8
}

// handshakeSpec is what varies between the distinct handshakes.
type handshakeSpec struct {
	host      string
	tls12     bool     // the client's maximum is TLS 1.2
	alpn      []string // offered by the client
	classical bool     // the client offers classical groups only
}

// detSigner signs like the key it wraps, deterministically (RFC 6979), and
// records the length of its last signature.
type detSigner struct {
	key  *ecdsa.PrivateKey
	last int
}

func (s *detSigner) Public() crypto.PublicKey { return &s.key.PublicKey }

func (s *detSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := s.key.Sign(nil, digest, opts)
	s.last = len(sig)
	return sig, err
}

// recorder logs what each side writes into a shared, ordered list. On a
// net.Pipe a write completes only once the peer has read it all, so the
// log's order is the order on the wire.
type recorder struct {
	net.Conn
	dir int
	mu  *sync.Mutex
	log *[]flight
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	l := *r.log
	if n := len(l); n > 0 && l[n-1].dir == r.dir {
		l[n-1].data = append(l[n-1].data, b...)
	} else {
		l = append(l, flight{dir: r.dir, data: append([]byte(nil), b...)})
	}
	*r.log = l
	r.mu.Unlock()
	return r.Conn.Write(b)
}

// runHandshake performs one in-memory handshake and returns its flights and
// the negotiated state.
func runHandshake(ccfg, scfg *tls.Config) ([]flight, tls.ConnectionState, error) {
	var mu sync.Mutex
	var log []flight
	c, s := net.Pipe()
	client := tls.Client(&recorder{Conn: c, dir: 0, mu: &mu, log: &log}, ccfg)
	server := tls.Server(&recorder{Conn: s, dir: 1, mu: &mu, log: &log}, scfg)
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	errc := make(chan error, 1)
	go func() { errc <- server.Handshake() }()
	cerr := client.Handshake()
	if cerr != nil {
		c.Close() // unblock the server
	}
	serr := <-errc
	st := client.ConnectionState()
	c.Close()
	s.Close()
	if cerr != nil || serr != nil {
		return nil, st, fmt.Errorf("handshake: client: %v; server: %v", cerr, serr)
	}
	return log, st, nil
}

// makeHandshake records the handshake of spec, repeating it until the
// server's signature has its most common DER length, and canonicalizes it
// with bytes from r.
func makeHandshake(spec handshakeSpec, leaf *leafCert, r *rand.ChaCha8) (*handshake, error) {
	signer := &detSigner{key: leaf.key}
	now := func() time.Time { return certTime.Add(24 * time.Hour) }
	scfg := &tls.Config{
		Certificates:           []tls.Certificate{{Certificate: leaf.chain, PrivateKey: signer}},
		NextProtos:             []string{"h2", "http/1.1"},
		SessionTicketsDisabled: true,
		Time:                   now,
	}
	ccfg := &tls.Config{
		ServerName:             spec.host,
		NextProtos:             spec.alpn,
		InsecureSkipVerify:     true, // the chains are synthetic; verifying would only cost time
		SessionTicketsDisabled: true,
		Time:                   now,
	}
	if spec.tls12 {
		ccfg.MaxVersion = tls.VersionTLS12
	}
	if spec.classical {
		ccfg.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
	}
	// P-256 DER signatures are 70, 71 or 72 bytes (a leading zero pads r or
	// s); 71 is the commonest.
	const wantSig = 71
	var (
		flights []flight
		st      tls.ConnectionState
		err     error
	)
	for try := 0; ; try++ {
		if try == 64 {
			return nil, fmt.Errorf("handshake for %s: no signature of %d bytes in %d tries", spec.host, wantSig, try)
		}
		flights, st, err = runHandshake(ccfg, scfg)
		if err != nil {
			return nil, err
		}
		if signer.last == wantSig {
			break
		}
	}
	if err := canonicalize(flights, r); err != nil {
		return nil, fmt.Errorf("handshake for %s: %w", spec.host, err)
	}
	h := &handshake{host: spec.host, version: st.Version, alpn: st.NegotiatedProtocol, flights: flights}
	switch {
	case st.Version == tls.VersionTLS13:
		h.recBody, h.alertBody, h.alertType = 1<<14+1+16, 2+1+16, 23
	case st.CipherSuite == tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		h.recBody, h.alertBody, h.alertType = 1<<14+16, 2+16, 21
	default: // AES-GCM: explicit nonce and tag
		h.recBody, h.alertBody, h.alertType = 1<<14+8+16, 2+8+16, 21
	}
	return h, nil
}

// canonicalize overwrites, in place, every byte of the handshake that is
// random by nature with bytes from r: client and server randoms (keeping a
// downgrade sentinel), session IDs (the server's echo stays equal to the
// client's), key shares, ECDHE public values and signatures, and every
// encrypted record body. The framing is left exactly as crypto/tls wrote it.
func canonicalize(flights []flight, r *rand.ChaCha8) error {
	var origSID, newSID []byte
	for dir := range 2 {
		// A record may in principle straddle two flights of its direction:
		// walk the concatenation and write back.
		var stream []byte
		for _, f := range flights {
			if f.dir == dir {
				stream = append(stream, f.data...)
			}
		}
		ccs := false
		for off := 0; off < len(stream); {
			if off+5 > len(stream) {
				return errors.New("truncated record header")
			}
			typ := stream[off]
			n := int(binary.BigEndian.Uint16(stream[off+3:]))
			if off+5+n > len(stream) {
				return errors.New("truncated record")
			}
			body := stream[off+5 : off+5+n]
			switch {
			case typ == 20:
				ccs = true
			case typ == 23, ccs:
				r.Read(body)
			case typ == 22:
				if err := canonicalizeMessages(body, r, &origSID, &newSID); err != nil {
					return err
				}
			}
			off += 5 + n
		}
		for i := range flights {
			if flights[i].dir == dir {
				n := copy(flights[i].data, stream)
				stream = stream[n:]
			}
		}
	}
	return nil
}

// canonicalizeMessages handles the plaintext handshake messages of one
// record.
func canonicalizeMessages(b []byte, r *rand.ChaCha8, origSID, newSID *[]byte) error {
	for len(b) >= 4 {
		typ := b[0]
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if 4+n > len(b) {
			return nil // continued in the next record: not produced by crypto/tls here
		}
		m := b[4 : 4+n]
		b = b[4+n:]
		switch typ {
		case 1: // ClientHello
			if len(m) < 35 {
				return errors.New("short ClientHello")
			}
			r.Read(m[2:34])
			sl := int(m[34])
			sid := m[35 : 35+sl]
			*origSID = append([]byte(nil), sid...)
			r.Read(sid)
			*newSID = append([]byte(nil), sid...)
			p := 35 + sl
			p += 2 + int(binary.BigEndian.Uint16(m[p:])) // cipher suites
			p += 1 + int(m[p])                           // compression methods
			if err := canonicalizeKeyShares(m[p:], r, true); err != nil {
				return err
			}
		case 2: // ServerHello
			if len(m) < 35 {
				return errors.New("short ServerHello")
			}
			random := m[2:34]
			var tail [8]byte
			copy(tail[:], random[24:])
			r.Read(random)
			if string(tail[:7]) == "DOWNGRD" {
				copy(random[24:], tail[:])
			}
			sl := int(m[34])
			sid := m[35 : 35+sl]
			if sl > 0 && string(sid) == string(*origSID) {
				copy(sid, *newSID)
			} else {
				r.Read(sid)
			}
			p := 35 + sl + 2 + 1 // session ID, cipher suite, compression
			if err := canonicalizeKeyShares(m[p:], r, false); err != nil {
				return err
			}
		case 12: // ServerKeyExchange, ECDHE (RFC 8422 §5.4)
			if len(m) < 4 || m[0] != 3 {
				return errors.New("unexpected ServerKeyExchange")
			}
			pl := int(m[3])
			r.Read(m[4 : 4+pl])
			p := 4 + pl + 2
			sl := int(binary.BigEndian.Uint16(m[p:]))
			r.Read(m[p+2 : p+2+sl])
		case 16: // ClientKeyExchange, ECDHE
			if len(m) >= 1 {
				r.Read(m[1 : 1+int(m[0])])
			}
		}
	}
	return nil
}

// canonicalizeKeyShares overwrites the key_exchange bytes of the key_share
// extension (RFC 8446 §4.2.8) in the extensions block b (with its length
// prefix): a list of shares in a ClientHello, one in a ServerHello.
func canonicalizeKeyShares(b []byte, r *rand.ChaCha8, client bool) error {
	if len(b) < 2 {
		return nil // no extensions
	}
	exts := b[2:]
	for len(exts) >= 4 {
		typ := binary.BigEndian.Uint16(exts)
		n := int(binary.BigEndian.Uint16(exts[2:]))
		if 4+n > len(exts) {
			return errors.New("truncated extension")
		}
		e := exts[4 : 4+n]
		exts = exts[4+n:]
		if typ != 51 {
			continue
		}
		if client {
			e = e[2:]
		}
		for len(e) >= 4 {
			kl := int(binary.BigEndian.Uint16(e[2:]))
			r.Read(e[4 : 4+kl])
			e = e[4+kl:]
		}
	}
	return nil
}

// hostWeights says how often each host is the target of a connection: the
// module proxy dominates, as in a real `go mod download`.
var hostWeights = []struct {
	host   string
	weight int
}{
	{"proxy.golang.org", 40},
	{"storage.googleapis.com", 14},
	{"sum.golang.org", 10},
	{"index.golang.org", 2},
	{"go.googlesource.com", 4},
	{"golang.org", 3},
	{"go.dev", 2},
	{"dl.google.com", 2},
	{"github.com", 8},
	{"codeload.github.com", 5},
	{"objects.githubusercontent.com", 3},
	{"goproxy.io", 3},
	{"goproxy.cn", 2},
	{"gopkg.in", 2},
}

// handshakeSpecs returns n distinct handshake specifications.
func handshakeSpecs(n int, r *rand.Rand) []handshakeSpec {
	total := 0
	for _, hw := range hostWeights {
		total += hw.weight
	}
	specs := make([]handshakeSpec, n)
	for i := range specs {
		var host string
		if i < len(hostWeights) {
			host = hostWeights[i].host // every host at least once
		} else {
			x := r.IntN(total)
			for _, hw := range hostWeights {
				if x < hw.weight {
					host = hw.host
					break
				}
				x -= hw.weight
			}
		}
		s := handshakeSpec{host: host}
		s.tls12 = r.IntN(100) < 35
		switch x := r.IntN(100); {
		case x < 70:
			s.alpn = []string{"h2", "http/1.1"}
		case x < 95:
			s.alpn = []string{"http/1.1"}
		}
		s.classical = r.IntN(100) < 30
		specs[i] = s
	}
	return specs
}

// makeHandshakes records the n distinct handshakes of a seed, in parallel
// (each is deterministic on its own).
func makeHandshakes(seed uint64, n int, leaves []leafCert) ([]*handshake, error) {
	specs := handshakeSpecs(n, rand.New(rand.NewPCG(seed, 0x68616e64)))
	out := make([]*handshake, n)
	errs := make([]error, n)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				leaf, err := certFor(leaves, specs[i].host)
				if err != nil {
					errs[i] = err
					continue
				}
				r := rand.NewChaCha8(seedBytes(seed, fmt.Sprintf("handshake %d", i)))
				out[i], errs[i] = makeHandshake(specs[i], leaf, r)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// seedBytes derives a ChaCha8 seed from the generator's seed and a label.
func seedBytes(seed uint64, label string) [32]byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:8], seed)
	h := uint64(14695981039346656037)
	for i := 0; i < len(label); i++ {
		h = (h ^ uint64(label[i])) * 1099511628211
	}
	binary.LittleEndian.PutUint64(s[8:16], h)
	copy(s[16:], "modsniff-bench!!")
	return s
}
