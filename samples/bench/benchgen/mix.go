package benchgen

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sync"

	"github.com/miekg/dns"
)

// Mix names the traffic a capture holds.
type Mix string

const (
	// MixDefault is an office network's density: per GiB about 5,000 TLS
	// connections (62 % TLS 1.3, 38 % TLS 1.2 whose certificate chains,
	// distinct per site, are in clear), 7,500 DNS queries (some over TCP,
	// some NXDOMAIN, a few forged), 420 HTTP CONNECT tunnels, about 85 % of
	// the bytes bulk application data. The connections scale with the size.
	MixDefault Mix = "default"
	// MixHandshakeHeavy has 4× the connections of MixDefault, each with a
	// few interactive exchanges, so that about 30 % of the bytes are bulk.
	MixHandshakeHeavy Mix = "handshake-heavy"
	// MixLight is 3,000 long downloads whatever the size, over 240 distinct
	// handshakes to the Go hosts.
	MixLight Mix = "light"
)

// Mixes lists the mixes Generate knows.
var Mixes = []Mix{MixDefault, MixHandshakeHeavy, MixLight}

// mixParams is what a mix changes in the generator.
type mixParams struct {
	connsPerGiB  int     // TCP connections with TLS per GiB (0: fixed count)
	tls12Share   int     // percent of them whose client offers TLS 1.2 at most
	sitesShare   int     // percent of TLS 1.3 connections to the many sites (the rest: Go hosts)
	proxyPerMil  int     // per mille through an HTTP CONNECT proxy
	dnsTCPPerMil int     // per mille of connections preceded by a DNS lookup over TCP
	lookups      int     // percent: extra DNS-only lookups per connection
	nxPerCent    int     // percent of the extra lookups that get NXDOMAIN
	forgedPerMil int     // per mille of DNS exchanges with a forged answer first
	exchanges    int     // interactive request/response exchanges per connection (mean)
	overhead     float64 // bytes per connection besides its download
}

func paramsFor(m Mix) (mixParams, error) {
	switch m {
	case MixDefault, "":
		return mixParams{connsPerGiB: 5000, tls12Share: 38, sitesShare: 50, proxyPerMil: 84, dnsTCPPerMil: 30,
			lookups: 30, nxPerCent: 20, forgedPerMil: 2, exchanges: 1, overhead: 12500}, nil
	case MixHandshakeHeavy:
		return mixParams{connsPerGiB: 20000, tls12Share: 38, sitesShare: 50, proxyPerMil: 84, dnsTCPPerMil: 30,
			lookups: 30, nxPerCent: 20, forgedPerMil: 2, exchanges: 24, overhead: 39000}, nil
	case MixLight:
		return mixParams{overhead: connOverhead, proxyPerMil: 100}, nil
	}
	return mixParams{}, fmt.Errorf("unknown mix %q (want default, handshake-heavy or light)", m)
}

// site is one of the many web sites of an office's traffic: its own name,
// address and certificate chain.
type site struct {
	name  string
	v4    netip.Addr
	chain [][]byte
}

// sitesMaterial is the certificate hierarchy of the sites: a few roots and
// intermediates, and a leaf per site made on demand.
type sitesMaterial struct {
	leafKey *ecdsa.PrivateKey
	inters  []issuer
}

type issuer struct {
	cert     *x509.Certificate
	der      []byte
	rootDER  []byte
	key      *ecdsa.PrivateKey
	sendRoot bool
}

var (
	sitesMu    sync.Mutex
	sitesCache = map[uint64]*sitesMaterial{}
)

// makeSitesMaterial makes the issuers of a seed, once per process.
func makeSitesMaterial(seed uint64) (*sitesMaterial, error) {
	sitesMu.Lock()
	defer sitesMu.Unlock()
	if m := sitesCache[seed]; m != nil {
		return m, nil
	}
	r := rand.NewChaCha8(seedBytes(seed, "sites"))
	leafKey, err := seededKey(elliptic.P256(), r)
	if err != nil {
		return nil, err
	}
	m := &sitesMaterial{leafKey: leafKey}
	serial := int64(0x51e0000)
	for i := range 6 {
		rootKey, err := seededKey(elliptic.P256(), r)
		if err != nil {
			return nil, err
		}
		serial++
		rootT := &x509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               name(fmt.Sprintf("Bench Web Root %c%d", 'A'+i, 2017+i), "Bench Web Trust", "US"),
			NotBefore:             certTime.AddDate(-8, 0, 0),
			NotAfter:              certTime.AddDate(17, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		rootDER, err := x509.CreateCertificate(nil, rootT, rootT, &rootKey.PublicKey, rootKey)
		if err != nil {
			return nil, err
		}
		root, _ := x509.ParseCertificate(rootDER)
		for j := range 5 {
			key, err := seededKey(elliptic.P256(), r)
			if err != nil {
				return nil, err
			}
			serial++
			t := &x509.Certificate{
				SerialNumber:          big.NewInt(serial),
				Subject:               name(fmt.Sprintf("Bench Web CA %c%d", 'A'+i, j+1), "Bench Web Trust", "US"),
				NotBefore:             certTime.AddDate(-1, 0, 0),
				NotAfter:              certTime.AddDate(4, 0, 0),
				KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
				ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
				BasicConstraintsValid: true,
				IsCA:                  true,
				MaxPathLenZero:        true,
			}
			der, err := x509.CreateCertificate(nil, t, root, &key.PublicKey, rootKey)
			if err != nil {
				return nil, err
			}
			cert, _ := x509.ParseCertificate(der)
			m.inters = append(m.inters, issuer{cert: cert, der: der, rootDER: rootDER, key: key, sendRoot: j%5 == 0})
		}
	}
	sitesCache[seed] = m
	return m, nil
}

// siteName returns the name of site i: distinct, the same length for every
// i below 10^6 so that hello sizes do not drift.
func siteName(i int) string {
	tlds := [...]string{"com", "net", "org", "dev"}
	return fmt.Sprintf("w%06d.benchsite.%s", i, tlds[i%len(tlds)])
}

// makeSites issues the leaves of sites [0, n), in parallel (each is a
// function of the seed and its index).
func makeSites(seed uint64, n int) ([]site, error) {
	sm, err := makeSitesMaterial(seed)
	if err != nil {
		return nil, err
	}
	out := make([]site, n)
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := w; i < n; i += len(errs) {
				nm := siteName(i)
				is := &sm.inters[i%len(sm.inters)]
				t := &x509.Certificate{
					SerialNumber:          big.NewInt(int64(0x5000000 + i)),
					Subject:               pkix.Name{CommonName: nm},
					DNSNames:              []string{nm, "www." + nm},
					NotBefore:             certTime.AddDate(0, -2, 0),
					NotAfter:              certTime.AddDate(0, 1, 0),
					KeyUsage:              x509.KeyUsageDigitalSignature,
					ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
					BasicConstraintsValid: true,
				}
				der, err := x509.CreateCertificate(nil, t, is.cert, &sm.leafKey.PublicKey, is.key)
				if err != nil {
					errs[w] = err
					return
				}
				chain := [][]byte{der, is.der}
				if is.sendRoot || i%7 == 0 {
					chain = append(chain, is.rootDER)
				}
				// Public-looking addresses of a CDN range, distinct per site.
				v4 := netip.AddrFrom4([4]byte{151, byte(101 + i>>16), byte(i >> 8), byte(i)})
				out[i] = site{name: nm, v4: v4, chain: chain}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// sitePair packs the DNS exchange of a site name: its address for A, an
// empty answer with the zone's SOA for AAAA, NXDOMAIN for a name that does
// not exist (RFC 2308 §2.1).
func sitePair(nm string, qtype uint16, v4 netip.Addr, nx bool) (dnsPair, error) {
	h := &dnsHost{name: nm}
	if v4.IsValid() {
		h.v4 = []netip.Addr{v4}
	}
	p, err := packPair(h, qtype)
	if err != nil || !nx {
		return p, err
	}
	var resp dns.Msg
	if err := resp.Unpack(p.response); err != nil {
		return p, err
	}
	resp.Rcode = dns.RcodeNameError
	resp.Answer = nil
	if len(resp.Ns) == 0 {
		resp.Ns = []dns.RR{&dns.SOA{
			Hdr: dns.RR_Header{Name: dns.Fqdn(nm), Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
			Ns:  "ns1.benchsite.com.", Mbox: "hostmaster.benchsite.com.",
			Serial: 2025060201, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 300,
		}}
	}
	if p.response, err = resp.Pack(); err != nil {
		return p, err
	}
	return p, nil
}

// forgedResponse turns a packed A response into an injected one: the same
// ID and question, one answer pointing elsewhere, a long TTL.
func forgedResponse(resp []byte) ([]byte, error) {
	var m dns.Msg
	if err := m.Unpack(resp); err != nil {
		return nil, err
	}
	if len(m.Question) == 0 {
		return nil, errors.New("no question")
	}
	m.Answer = []dns.RR{&dns.A{
		Hdr: dns.RR_Header{Name: m.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 86400},
		A:   []byte{31, 13, 90, 36},
	}}
	m.Ns = nil
	m.Extra = nil
	return m.Pack()
}

// withSNI returns a copy of the client's first flight (one handshake record
// holding the ClientHello) whose server_name extension (RFC 6066 §3) names
// host.
func withSNI(flight []byte, host string) ([]byte, error) {
	if len(flight) < 9 || flight[0] != 22 || flight[5] != 1 {
		return nil, errors.New("the first flight is not a ClientHello record")
	}
	rl := int(binary.BigEndian.Uint16(flight[3:]))
	if 5+rl != len(flight) {
		return nil, errors.New("the ClientHello flight is not one record")
	}
	m := flight[9:]
	if len(m) < 35 {
		return nil, errors.New("short ClientHello")
	}
	p := 34
	p += 1 + int(m[p])
	p += 2 + int(binary.BigEndian.Uint16(m[p:]))
	p += 1 + int(m[p])
	if p+2 > len(m) {
		return nil, errors.New("ClientHello without extensions")
	}
	out := make([]byte, 0, len(flight)+len(host))
	out = append(out, flight[:9]...)
	out = append(out, m[:p]...)
	extStart := len(out)
	out = append(out, 0, 0)
	exts := m[p+2:]
	for len(exts) >= 4 {
		typ := binary.BigEndian.Uint16(exts)
		n := int(binary.BigEndian.Uint16(exts[2:]))
		if 4+n > len(exts) {
			return nil, errors.New("truncated extension")
		}
		if typ == 0 {
			out = binary.BigEndian.AppendUint16(out, 0)
			out = binary.BigEndian.AppendUint16(out, uint16(5+len(host)))
			out = binary.BigEndian.AppendUint16(out, uint16(3+len(host)))
			out = append(out, 0)
			out = binary.BigEndian.AppendUint16(out, uint16(len(host)))
			out = append(out, host...)
		} else {
			out = append(out, exts[:4+n]...)
		}
		exts = exts[4+n:]
	}
	binary.BigEndian.PutUint16(out[extStart:], uint16(len(out)-extStart-2))
	ml := len(out) - 9
	out[6], out[7], out[8] = byte(ml>>16), byte(ml>>8), byte(ml)
	binary.BigEndian.PutUint16(out[3:], uint16(len(out)-5))
	return out, nil
}

// withChain returns a copy of the server's first TLS 1.2 flight (handshake
// records only) whose Certificate message (RFC 5246 §7.4.2) carries chain,
// re-framed into records of at most 2^14 bytes.
func withChain(flight []byte, chain [][]byte) ([]byte, error) {
	var msgs []byte
	hdr := [3]byte{}
	for off := 0; off < len(flight); {
		if off+5 > len(flight) || flight[off] != 22 {
			return nil, errors.New("the server's first flight is not handshake records")
		}
		copy(hdr[:], flight[off:off+3])
		n := int(binary.BigEndian.Uint16(flight[off+3:]))
		if off+5+n > len(flight) {
			return nil, errors.New("truncated record")
		}
		msgs = append(msgs, flight[off+5:off+5+n]...)
		off += 5 + n
	}
	var out []byte
	for len(msgs) >= 4 {
		n := int(msgs[1])<<16 | int(msgs[2])<<8 | int(msgs[3])
		if 4+n > len(msgs) {
			return nil, errors.New("truncated handshake message")
		}
		msg := msgs[:4+n]
		if msgs[0] == 11 {
			total := 0
			for _, c := range chain {
				total += 3 + len(c)
			}
			msg = []byte{11, byte((total + 3) >> 16), byte((total + 3) >> 8), byte(total + 3), byte(total >> 16), byte(total >> 8), byte(total)}
			for _, c := range chain {
				msg = append(msg, byte(len(c)>>16), byte(len(c)>>8), byte(len(c)))
				msg = append(msg, c...)
			}
		}
		// One record per message, split at 2^14 bytes, as crypto/tls
		// writes them.
		for len(msg) > 0 {
			k := min(len(msg), 1<<14)
			out = append(out, hdr[0], hdr[1], hdr[2], byte(k>>8), byte(k))
			out = append(out, msg[:k]...)
			msg = msg[k:]
		}
		msgs = msgs[4+n:]
	}
	return out, nil
}
