package tlswire

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// Certificate is one certificate of a Certificate message: the parsed DER,
// shared, and what the message added to it. An unparseable certificate is
// kept raw with its error. The CertData of values returned by a
// [CertCache] is shared with every other message that carried the same
// DER: treat it as read-only. CertData is never nil in a parsed message.
type Certificate struct {
	*CertData
	// Extensions lists the extension types of the TLS 1.3 CertificateEntry
	// (RFC 8446 §4.4.2: status_request, signed_certificate_timestamp …).
	Extensions []uint16
}

// CertData is a DER certificate and what was parsed of it. Messages refer
// to it rather than copy it: a capture holds many messages per distinct
// certificate, and each Certificate is then 32 bytes.
//
// It keeps the facts the analysis reads of a certificate ([CertInfo]), not
// the *x509.Certificate: that struct alone is 1.5 KB, a capture holds a
// distinct leaf per server, and only the verification of a chain needs
// it, which [CertData.X509] parses again.
type CertData struct {
	// Raw is the DER as sent.
	Raw []byte
	// Info is what crypto/x509 parsed of Raw, nil when it rejected it.
	Info *CertInfo
	// Err is crypto/x509's error, nil when Info is set.
	Err error
	// SHA256 is the SHA-256 of Raw, the fingerprint reports show.
	SHA256 [32]byte
	// Subject and Issuer are the names formatted by [FormatName], read from
	// the DER even when crypto/x509 rejected the certificate; "" when even
	// that failed.
	Subject, Issuer string
}

// CertInfo is what the analysis reads of a parsed certificate (RFC 5280
// §4.1) outside the verification of its chain.
type CertInfo struct {
	// NotBefore and NotAfter bound the validity (RFC 5280 §4.1.2.5).
	NotBefore, NotAfter time.Time
	// DNSNames and IPAddresses are the subjectAltName entries of those
	// kinds (RFC 5280 §4.2.1.6).
	DNSNames    []string
	IPAddresses []net.IP
	// Subject and Issuer are the parts of the names the analysis words
	// and matches.
	Subject, Issuer Name
	// NegativeSerial is the serial number in decimal when it is negative
	// (crypto/x509 parses one only with GODEBUG=x509negativeserial=1),
	// "" otherwise.
	NegativeSerial string
	// SignatureAlgorithm is the algorithm of the issuer's signature.
	SignatureAlgorithm x509.SignatureAlgorithm
	// RSABits is the modulus length of an RSA public key, 0 for other
	// keys.
	RSABits int32
	// IsCA is the basic constraints' cA flag (RFC 5280 §4.2.1.9).
	IsCA bool
	// SelfIssued reports whether the issuer is the subject, byte for
	// byte (RFC 5280 §3.2): a root, or a self-signed server certificate.
	SelfIssued bool
	// HasSAN reports whether the certificate names anything in a
	// subjectAltName: a DNS name, an IP address, a URI or an email
	// address. Go refuses a leaf that names its host only in its Common
	// Name.
	HasSAN bool
}

// RawNames returns the DER of the certificate's issuer and subject names
// (RFC 5280 §4.1.2.4, §4.1.2.6), views into Raw, nil when Raw does not
// hold them: crypto/x509 finds a parent by its raw subject. They are read
// again on each call rather than kept, as only judging a new chain needs
// them.
func (c *CertData) RawNames() (issuer, subject []byte) {
	issuer, subject, _ = rawNames(c.Raw)
	return issuer, subject
}

// Name is the parts of a distinguished name (RFC 5280 §4.1.2.4) the
// analysis words and matches.
type Name struct {
	CommonName                       string
	Organization, OrganizationalUnit []string
	// Full is the name as pkix.Name.String renders it, kept only when the
	// name has neither a common name nor an organization, the parts a
	// short form is made of.
	Full string
}

// NameOf takes the parts of n that a Name keeps.
func NameOf(n pkix.Name) Name {
	out := Name{CommonName: n.CommonName, Organization: n.Organization, OrganizationalUnit: n.OrganizationalUnit}
	if n.CommonName == "" && (len(n.Organization) == 0 || n.Organization[0] == "") {
		out.Full = n.String()
	}
	return out
}

// Fingerprint returns the SHA-256 of Raw: SHA256, or its hash when the
// CertData was made without it.
func (c *CertData) Fingerprint() [32]byte {
	if c.SHA256 == ([32]byte{}) {
		return sha256.Sum256(c.Raw)
	}
	return c.SHA256
}

// X509 parses the certificate again with crypto/x509, for the
// verification of its chain. Each call parses: a caller that needs it
// often keeps the result.
func (c *CertData) X509() (*x509.Certificate, error) {
	return x509.ParseCertificate(c.Raw)
}

// NewCertData parses a DER certificate the way the decoders do, for a
// certificate that comes from elsewhere (a TLS stack, a PEM file). The
// result does not alias der.
func NewCertData(der []byte) *CertData {
	return parseDER(slices.Clone(der), sha256.Sum256(der))
}

// CertificateMsg is a decoded Certificate message: the TLS 1.2 form (RFC
// 5246 §7.4.2) or the TLS 1.3 form (RFC 8446 §4.4.2).
type CertificateMsg struct {
	// TLS13 tells which form was parsed.
	TLS13 bool
	// Context is the TLS 1.3 certificate_request_context (empty for a
	// server's certificate).
	Context []byte
	// Certificates is the chain in the order sent, leaf first.
	Certificates []Certificate
	// Notes records legal-but-odd details (trailing bytes, empty entries).
	Notes []string
}

// Leaf returns the first certificate, or nil for an empty chain.
func (m *CertificateMsg) Leaf() *Certificate {
	if len(m.Certificates) == 0 {
		return nil
	}
	return &m.Certificates[0]
}

// ParseCertificate decodes the body of a Certificate handshake message
// without its handshake header: the TLS 1.2 form (RFC 5246 §7.4.2) or, with
// tls13, the TLS 1.3 form (RFC 8446 §4.4.2). Each certificate is parsed with
// crypto/x509 and without caching; see [CertCache.ParseCertificate]. On
// error the returned message holds the certificates read before the damage.
func ParseCertificate(body []byte, tls13 bool) (*CertificateMsg, error) {
	return (*CertCache)(nil).ParseCertificate(body, tls13)
}

// DefaultCertCacheEntries is the number of certificates a CertCache made by
// NewCertCache(0) keeps.
const DefaultCertCacheEntries = 4096

// defaultCertCacheBytes bounds the DER bytes a CertCache holds.
const defaultCertCacheBytes = 64 << 20

// CertCache parses each distinct DER certificate once: the same chain comes
// back thousands of times in a large capture. It is keyed by the SHA-256 of
// the DER, bounded in entries and in bytes, and evicts the oldest entry
// first.
//
// It also keeps each distinct Certificate message that parsed without
// error, keyed by the SHA-256 of its body: a server sends the same chain to
// every client, and a session that repeats it then costs one pointer, not a
// list of certificates. Such a *CertificateMsg is shared by every session
// that received the same bytes: treat it as read-only. The chains are
// bounded like the certificates.
//
// It is safe for concurrent use. A nil *CertCache is valid and caches
// nothing.
type CertCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	m        map[[32]byte]*CertData
	queue    [][32]byte // insertion order; queue[head:] is live
	head     int
	hits     int
	misses   int

	chains     map[chainKey]*CertificateMsg
	chainQueue []chainKey // insertion order; chainQueue[chainHead:] is live
	chainHead  int
	chainBytes int
}

// chainKey identifies a Certificate message body in one of its two forms.
type chainKey struct {
	sum   [32]byte
	tls13 bool
	n     int // the body's length, which chainBytes counts
}

// NewCertCache returns a cache that keeps at most maxEntries certificates
// (DefaultCertCacheEntries when maxEntries <= 0) and at most 64 MiB of DER.
func NewCertCache(maxEntries int) *CertCache {
	if maxEntries <= 0 {
		maxEntries = DefaultCertCacheEntries
	}
	return &CertCache{max: maxEntries, maxBytes: defaultCertCacheBytes, m: make(map[[32]byte]*CertData),
		chains: make(map[chainKey]*CertificateMsg)}
}

// Len returns the number of cached certificates.
func (cc *CertCache) Len() int {
	if cc == nil {
		return 0
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.m)
}

// Stats returns how many lookups found a parsed certificate and how many had
// to parse one.
func (cc *CertCache) Stats() (hits, misses int) {
	if cc == nil {
		return 0, 0
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.hits, cc.misses
}

// Parse returns the certificate for der, parsing it only if the cache has
// not seen it. The result never aliases der.
func (cc *CertCache) Parse(der []byte) Certificate {
	sum := sha256.Sum256(der)
	if cc != nil {
		cc.mu.Lock()
		if d, ok := cc.m[sum]; ok {
			cc.hits++
			cc.mu.Unlock()
			return Certificate{CertData: d}
		}
		cc.misses++
		cc.mu.Unlock()
	}
	d := parseDER(slices.Clone(der), sum)
	if cc != nil {
		d = cc.add(d)
	}
	return Certificate{CertData: d}
}

func parseDER(raw []byte, sum [32]byte) *CertData {
	c := &CertData{Raw: raw, SHA256: sum}
	x, err := x509.ParseCertificate(raw)
	if err != nil {
		c.Err = err
	} else {
		c.Info = infoOf(x)
	}
	if iss, sub, ok := rawNames(raw); ok {
		c.Issuer, _ = FormatName(iss)
		c.Subject, _ = FormatName(sub)
	}
	return c
}

// infoOf takes the facts a CertInfo keeps from a parsed certificate. Its
// slices and strings are crypto/x509's, which it allocated for them alone.
func infoOf(x *x509.Certificate) *CertInfo {
	i := &CertInfo{NotBefore: x.NotBefore, NotAfter: x.NotAfter, DNSNames: x.DNSNames, IPAddresses: x.IPAddresses,
		Subject: NameOf(x.Subject), Issuer: NameOf(x.Issuer), SelfIssued: bytes.Equal(x.RawIssuer, x.RawSubject),
		SignatureAlgorithm: x.SignatureAlgorithm, IsCA: x.IsCA,
		HasSAN: len(x.DNSNames)+len(x.IPAddresses)+len(x.URIs)+len(x.EmailAddresses) > 0}
	if x.SerialNumber != nil && x.SerialNumber.Sign() < 0 {
		i.NegativeSerial = x.SerialNumber.String()
	}
	if k, ok := x.PublicKey.(*rsa.PublicKey); ok && k.N != nil {
		i.RSABits = int32(k.N.BitLen())
	}
	return i
}

// add keeps d and returns the data to use: d, or the one another caller
// parsed concurrently and cached first.
func (cc *CertCache) add(d *CertData) *CertData {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if old, ok := cc.m[d.SHA256]; ok {
		return old // parsed concurrently by another caller
	}
	if len(d.Raw) > cc.maxBytes {
		return d
	}
	for len(cc.m) >= cc.max || cc.bytes+len(d.Raw) > cc.maxBytes {
		old := cc.queue[cc.head]
		cc.head++
		cc.bytes -= len(cc.m[old].Raw)
		delete(cc.m, old)
	}
	if cc.head > len(cc.queue)/2 {
		cc.queue = append(cc.queue[:0], cc.queue[cc.head:]...)
		cc.head = 0
	}
	cc.m[d.SHA256] = d
	cc.queue = append(cc.queue, d.SHA256)
	cc.bytes += len(d.Raw)
	return d
}

// chain returns the message cached for key, nil if none.
func (cc *CertCache) chain(key chainKey) *CertificateMsg {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	m := cc.chains[key]
	if m != nil {
		cc.hits += len(m.Certificates)
	}
	return m
}

// addChain keeps m, parsed without error from a body with key, and returns
// the message to use: m, or the one another caller cached first.
func (cc *CertCache) addChain(key chainKey, m *CertificateMsg) *CertificateMsg {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if old, ok := cc.chains[key]; ok {
		return old
	}
	if key.n > cc.maxBytes {
		return m
	}
	for len(cc.chains) >= cc.max || cc.chainBytes+key.n > cc.maxBytes {
		old := cc.chainQueue[cc.chainHead]
		cc.chainHead++
		cc.chainBytes -= old.n
		delete(cc.chains, old)
	}
	if cc.chainHead > len(cc.chainQueue)/2 {
		cc.chainQueue = append(cc.chainQueue[:0], cc.chainQueue[cc.chainHead:]...)
		cc.chainHead = 0
	}
	cc.chains[key] = m
	cc.chainQueue = append(cc.chainQueue, key)
	cc.chainBytes += key.n
	return m
}

// ParseCertificate is like the package-level [ParseCertificate] but takes
// certificates from the cache, and returns the message parsed before when
// body is the same as one that parsed without error (see [CertCache]).
func (cc *CertCache) ParseCertificate(body []byte, tls13 bool) (*CertificateMsg, error) {
	if cc == nil {
		return cc.parseCertificate(body, tls13)
	}
	key := chainKey{sum: sha256.Sum256(body), tls13: tls13, n: len(body)}
	if m := cc.chain(key); m != nil {
		return m, nil
	}
	m, err := cc.parseCertificate(body, tls13)
	if err != nil {
		return m, err // a damaged message is its session's own
	}
	return cc.addChain(key, m), nil
}

func (cc *CertCache) parseCertificate(body []byte, tls13 bool) (*CertificateMsg, error) {
	s := cryptobyte.String(body)
	m := &CertificateMsg{TLS13: tls13}
	note := func(format string, args ...any) {
		m.Notes = addNote(m.Notes, fmt.Sprintf(format, args...))
	}
	if tls13 {
		var ctx cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) {
			return m, perr(msgCertificate, "certificate_request_context", ErrTruncated)
		}
		m.Context = slices.Clone([]byte(ctx))
	}
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) {
		return m, perr(msgCertificate, "certificate_list", ErrTruncated)
	}
	if !s.Empty() {
		note("%d bytes of trailing data after certificate_list", len(s))
	}
	if n := countEntries(list, tls13); n > 0 {
		m.Certificates = make([]Certificate, 0, n)
	}
	for i := 0; !list.Empty(); i++ {
		var der cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) {
			return m, perr(msgCertificate, fmt.Sprintf("certificate %d", i), ErrTruncated)
		}
		if len(der) == 0 {
			note("certificate %d is empty", i)
		}
		c := cc.Parse(der)
		if tls13 {
			var exts cryptobyte.String
			if !list.ReadUint16LengthPrefixed(&exts) {
				m.Certificates = append(m.Certificates, c)
				return m, perr(msgCertificate, fmt.Sprintf("certificate %d extensions", i), ErrTruncated)
			}
			for !exts.Empty() {
				var typ uint16
				var data cryptobyte.String
				if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
					m.Certificates = append(m.Certificates, c)
					return m, perr(msgCertificate, fmt.Sprintf("certificate %d extensions", i), ErrTruncated)
				}
				c.Extensions = append(c.Extensions, typ)
			}
		}
		m.Certificates = append(m.Certificates, c)
	}
	return m, nil
}

// countEntries returns how many entries of a certificate_list the loop of
// parseCertificate appends, at most one too many: the chain is kept for the
// whole analysis, and growing it by append would leave room unused.
func countEntries(list cryptobyte.String, tls13 bool) int {
	n := 0
	for !list.Empty() {
		var der, exts cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&der) {
			return n
		}
		n++
		if tls13 && !list.ReadUint16LengthPrefixed(&exts) {
			return n
		}
	}
	return n
}
