package analyze

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// t0 is the capture time of the constructed events.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// at refers to packet n, n milliseconds after t0.
func at(n int) capture.Ref {
	return capture.NewRef(0, n, t0.Add(time.Duration(n)*time.Millisecond))
}

func addrPortOf(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// rr parses "A 1.2.3.4" or "CNAME x.example" into an answer for name.
func rr(name, s string) decode.DNSRecord {
	typ, data, _ := strings.Cut(s, " ")
	r := decode.DNSRecord{Name: name, Type: dns.StringToType[typ], TTL: 300}
	switch r.Type {
	case dns.TypeA, dns.TypeAAAA:
		r.Addr = netip.MustParseAddr(data)
	default:
		r.Target = data
	}
	return r
}

// response builds a DNS response at packet n.
func response(n int, rcode string, ttl uint8, name string, answers ...string) *decode.DNSResponse {
	r := &decode.DNSResponse{At: at(n), RCode: uint16(dns.StringToRcode[rcode]), IP: decode.IPInfo{TTL: ttl, ID: uint16(1000 + n)}}
	for _, a := range answers {
		r.Answers = append(r.Answers, rr(name, a))
	}
	return r
}

// exchange builds a DNS transaction whose query is packet q.
func exchange(q int, client, server, name, typ string, responses ...*decode.DNSResponse) *decode.DNSExchange {
	return &decode.DNSExchange{Client: addrPortOf(client), Server: addrPortOf(server), Transport: decode.DNSOverUDP, ID: uint16(q),
		Name: name, QType: dns.StringToType[typ], Query: at(q), Responses: responses}
}

// ctxFor builds a check context over events; the capture's last packet is
// at packet `end`.
func ctxFor(ev *decode.Events, end int, opt Options) *Context {
	ev.Stats = append(ev.Stats, decode.Stats{Input: 0, First: t0, Last: at(end).Time(), Packets: end})
	return &Context{Events: ev, Opt: opt}
}

// ids runs one check and returns "id host severity" per finding.
func runCheck(t *testing.T, id string, ctx *Context) []Finding {
	t.Helper()
	for _, c := range Checks() {
		if c.ID == id {
			fs := c.run(ctx)
			for i := range fs {
				fs[i].ID = id
				fs[i].finalize()
			}
			return fs
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

// testCA and friends build real certificates for the TLS checks.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makeCA(t testing.TB, subject pkix.Name) *testCA {
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key}
}

// leaf issues a server certificate for names, valid from nb to na.
func (ca *testCA) leaf(t testing.TB, cn string, names []string, nb, na time.Time) *x509.Certificate {
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn}, DNSNames: names,
		NotBefore: nb, NotAfter: na, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// chainMsg wraps certificates as a Certificate message.
func chainMsg(certs ...*x509.Certificate) *tlswire.CertificateMsg {
	m := &tlswire.CertificateMsg{}
	for _, c := range certs {
		d := tlswire.NewCertData(c.Raw)
		d.Subject, d.Issuer = c.Subject.String(), c.Issuer.String()
		m.Certificates = append(m.Certificates, tlswire.Certificate{CertData: d})
	}
	return m
}

// session builds a TLS session for sni on a connection.
type sessionSpec struct {
	sni         string
	version     uint16   // negotiated; 0 for no ServerHello
	clientALPN  []string // default h2, http/1.1
	serverALPN  string
	keyShare    uint16 // server's group
	certs       *tlswire.CertificateMsg
	alerts      []tlswire.Alert
	clientRecs  []tlswire.RecordInfo
	serverRecs  int
	clientFIN   bool
	helloPkts   int
	retransmits int
	serverBytes int64
	resets      []decode.TCPReset
	synackTTL   uint8
}

func tlsSession(spec sessionSpec) *decode.TLSSession {
	alpn := spec.clientALPN
	if alpn == nil {
		alpn = []string{"h2", "http/1.1"}
	}
	c := &decode.TCPConn{Client: addrPortOf("10.0.0.2:50000"), Server: addrPortOf("142.250.1.1:443"), First: at(1),
		Extra: &decode.TCPExtra{SYN: []capture.Ref{at(1)}, Resets: spec.resets}, SYNACK: at(2), SYNACKIP: decode.IPInfo{TTL: spec.synackTTL}}
	c.Payload[1] = spec.serverBytes
	c.Stream[0].Retransmitted = int32(spec.retransmits)
	if spec.clientFIN {
		c.FIN[0] = at(30)
	}
	s := &tlswire.Session{
		ClientHello: &tlswire.ClientHello{ServerName: spec.sni, LegacyVersion: tlswire.VersionTLS12, Length: 1500,
			HelloProfile: &tlswire.HelloProfile{ALPN: alpn, SupportedVersions: []uint16{tlswire.VersionTLS13, tlswire.VersionTLS12},
				KeyShareGroups: []uint16{0x11ec, 0x001d}}},
		ClientHelloAt: at(4), ClientHelloFirstAt: at(4), ClientHelloPackets: int32(max(spec.helloPkts, 1)),
	}
	if spec.version != 0 {
		sh := &tlswire.ServerHello{LegacyVersion: tlswire.VersionTLS12, CipherSuite: 0x1301, ALPN: "", KeyShareGroup: spec.keyShare}
		if spec.version == tlswire.VersionTLS13 {
			sh.SupportedVersion = tlswire.VersionTLS13
		} else {
			sh.LegacyVersion = spec.version
			sh.CipherSuite = 0xc02f
			sh.ALPN = spec.serverALPN
		}
		s.ServerHello, s.ServerHelloAt = sh, at(6)
	}
	if spec.certs != nil {
		s.Certificates, s.CertificatesAt = spec.certs, at(6)
	}
	s.Alerts = spec.alerts
	for i, r := range spec.clientRecs { // as the decoder keeps them
		if i < tlswire.MaxEncryptedRecords && r.Type == tlswire.ContentApplicationData {
			if s.AppDataAmongFirst[0] == 0 {
				s.FirstAppDataAt[0], s.FirstAppDataLength[0] = r.At, r.Length
			}
			s.AppDataAmongFirst[0] = min(s.AppDataAmongFirst[0]+1, 2)
		}
	}
	s.EncryptedCount[0] = int32(len(spec.clientRecs))
	s.EncryptedCount[1] = int32(spec.serverRecs)
	// The record-layer state the decoder infers from those records' shape.
	if spec.serverRecs > 0 {
		s.Dirs[tlswire.ServerToClient].ProtectedFrom = at(6)
	}
	for _, r := range spec.clientRecs {
		st := &s.Dirs[tlswire.ClientToServer]
		switch {
		case r.Type != tlswire.ContentApplicationData:
		case spec.version == tlswire.VersionTLS13 && st.Finished.IsZero():
			if r.Length >= 4+32+1+16 {
				st.Finished, st.FinishedInferred = r.At, true
			}
		default:
			if st.AppData.IsZero() {
				st.AppData, st.AppDataInferred = r.At, true
			}
			st.AppDataRecords++
		}
	}
	ts := &decode.TLSSession{Conn: c, Session: s}
	c.TLS = ts
	return ts
}

// appData returns n client records of application data (the first being
// TLS 1.3's Finished).
func appData(n int, length int32) []tlswire.RecordInfo {
	var out []tlswire.RecordInfo
	for i := range n {
		out = append(out, tlswire.RecordInfo{Type: tlswire.ContentApplicationData, Length: length, At: at(10 + i)})
	}
	return out
}
