package tlswire

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/capture"
)

func ref(n int) capture.Ref { return capture.Ref{Packet: int32(n)} }

// flight12 is a hand-built TLS 1.2 handshake: one packet per entry.
type packet struct {
	dir  Dir
	data []byte
}

func tls12Certificate(t testing.TB) []byte {
	p := getPKI(t)
	return msg(TypeCertificate, vec24(vec24(p.rsaChain.Certificate[0]), vec24(p.inter.Raw)))
}

func tls12Flight(t testing.TB) []packet {
	certMsg := tls12Certificate(t)
	ske := msg(TypeServerKeyExchange, cat(hx("03 001d"), vec8(make([]byte, 32)), hx("0401"), vec16(make([]byte, 256)))) // ECDHE x25519, rsa_pkcs1_sha256 signature
	return []packet{
		{ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello))},                                                    // #1 ClientHello
		{ServerToClient, record(ContentHandshake, cat(msg(TypeServerHello, serverHello12), certMsg, ske, msg(TypeServerHelloDone, nil)))}, // #2 ServerHello, Certificate, ServerKeyExchange, ServerHelloDone in one record
		{ClientToServer, record(ContentHandshake, msg(TypeClientKeyExchange, vec8(make([]byte, 32))))},                                    // #3 ClientKeyExchange
		{ClientToServer, cat(record(ContentChangeCipherSpec, hx("01")), record(ContentHandshake, bytes.Repeat([]byte{0xee}, 40)))},        // #4 CCS, encrypted Finished
		{ServerToClient, cat(record(ContentChangeCipherSpec, hx("01")), record(ContentHandshake, bytes.Repeat([]byte{0xdd}, 40)))},        // #5 CCS, encrypted Finished
		{ClientToServer, record(ContentApplicationData, bytes.Repeat([]byte{0xcc}, 100))},                                                 // #6 request
		{ServerToClient, record(ContentApplicationData, bytes.Repeat([]byte{0xbb}, 3000))},                                                // #7 response
		{ServerToClient, record(ContentAlert, bytes.Repeat([]byte{0xaa}, 26))},                                                            // #8 encrypted close_notify
	}
}

func feedPackets(c *Conn, pkts []packet, first int) {
	for i, p := range pkts {
		c.Feed(p.dir, p.data, ref(first+i))
	}
}

func TestConnTLS12(t *testing.T) {
	c := NewConn(ConnOptions{})
	feedPackets(c, tls12Flight(t), 1)
	c.Finish()
	s := c.Session()
	if s.ClientHello == nil || s.ServerHello == nil || s.Version() != VersionTLS12 || s.ServerALPN() != "h2" {
		t.Fatalf("%+v", s)
	}
	if s.Certificates == nil || len(s.Certificates.Certificates) != 2 || s.CertificatesAt != ref(2) {
		t.Errorf("certificates %+v at %v", s.Certificates, s.CertificatesAt)
	}
	if skeGroup(s) != 29 || s.Message(ServerToClient, TypeServerHelloDone) == nil || s.Message(ClientToServer, TypeClientKeyExchange) == nil {
		t.Errorf("ske group %d, messages %v", skeGroup(s), s.Messages())
	}
	var types []uint8
	for _, h := range s.Messages() {
		types = append(types, h.Type)
	}
	if !slices.Equal(types, []uint8{1, 2, 11, 12, 14, 16}) {
		t.Errorf("handshake messages %v", types)
	}
	if !c.h[0].ccsSeen || !c.h[1].ccsSeen || protectedFrom(s) != [2]capture.Ref{ref(4), ref(5)} {
		t.Errorf("ccs seen %v/%v encrypted %v", c.h[0].ccsSeen, c.h[1].ccsSeen, protectedFrom(s))
	}
	// Finished is the first protected record after each CCS (type
	// handshake); application data the records of type application_data.
	if d := s.Dirs; d[0].Finished != ref(4) || !d[0].FinishedInferred || d[1].Finished != ref(5) ||
		d[0].AppData != ref(6) || d[0].AppDataRecords != 1 || d[1].AppData != ref(7) || !s.ClientSentAppData() ||
		d[0].Phase != PhaseProtected || d[1].Phase != PhaseProtected {
		t.Errorf("record-layer state %+v", d)
	}
	// Each side's protected records are its Finished (handshake), one of
	// application data and, from the server, an alert.
	wantApp := [2]RecordInfo{{ContentApplicationData, 100, ref(6)}, {ContentApplicationData, 3000, ref(7)}}
	if s.FirstAppDataAt != [2]capture.Ref{ref(6), ref(7)} || s.FirstAppDataLength != [2]int32{100, 3000} || s.AppDataAmongFirst != [2]uint8{1, 1} {
		t.Errorf("first application data records at %v of %v (%v)", s.FirstAppDataAt, s.FirstAppDataLength, s.AppDataAmongFirst)
	}
	for d := range 2 {
		if r, ok := s.SoleAppDataRecord(Dir(d)); !ok || r != wantApp[d] {
			t.Errorf("%v: sole application data record %v %v", Dir(d), r, ok)
		}
	}
	if s.EncryptedCount != [2]int32{2, 3} {
		t.Errorf("counts %v", s.EncryptedCount)
	}
	if len(s.Alerts) != 1 || s.Alerts[0] != (Alert{From: ServerToClient, Encrypted: true, At: ref(8)}) || s.Alerts[0].Name() != "encrypted" {
		t.Errorf("alerts %v", s.Alerts)
	}
	if len(s.Notes())+len(s.Errors()) != 0 {
		t.Errorf("notes %q errors %q", s.Notes(), s.Errors())
	}
}

// A Certificate message cut into three records, the cuts falling inside its
// header and body, the records themselves cut across packets differently.
func TestConnMessageAcrossRecords(t *testing.T) {
	p := getPKI(t)
	certMsg := msg(TypeCertificate, vec24(vec24(p.rsaChain.Certificate[0]), vec24(p.inter.Raw)))
	stream := cat(
		record(ContentHandshake, msg(TypeServerHello, serverHello12)),
		record(ContentHandshake, certMsg[:2]),    // the first two header bytes
		record(ContentHandshake, certMsg[2:700]), // the rest of the header, part of the body
		record(ContentHandshake, cat(certMsg[700:], msg(TypeServerHelloDone, nil))),
	)
	c := NewConn(ConnOptions{})
	c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
	cuts := []int{0, 3, 90, 95, 1000, 1003, len(stream)}
	for i := 1; i < len(cuts); i++ {
		c.Feed(ServerToClient, stream[cuts[i-1]:cuts[i]], ref(10+i))
	}
	c.Finish()
	s := c.Session()
	if s.Certificates == nil || len(s.Certificates.Certificates) != 2 || s.Certificates.Certificates[0].Subject != p.leafName {
		t.Fatalf("certificates %+v", s.Certificates)
	}
	if done := s.Message(ServerToClient, TypeServerHelloDone); s.CertificatesAt != ref(16) || done == nil || done.At != ref(16) {
		t.Errorf("certificate at %v, done %v", s.CertificatesAt, done)
	}
	if len(s.Notes())+len(s.Errors()) != 0 {
		t.Errorf("notes %q errors %q", s.Notes(), s.Errors())
	}
}

// The ClientHello of a post-quantum client cut into three segments.
func TestConnClientHelloPackets(t *testing.T) {
	rec := record(ContentHandshake, msg(TypeClientHello, browserHello))
	c := NewConn(ConnOptions{})
	c.Feed(ClientToServer, rec[:3], ref(4))
	c.Feed(ClientToServer, rec[3:1000], ref(5))
	c.Feed(ClientToServer, rec[1000:1200], ref(6))
	c.Feed(ClientToServer, rec[1200:], ref(6)) // the same packet again: counted once
	s := c.Session()
	if s.ClientHello == nil || s.ClientHelloPackets != 3 || s.ClientHelloAt != ref(6) || s.ClientHelloFirstAt != ref(4) {
		t.Errorf("hello %v at %v first %v packets %d", s.ClientHello != nil, s.ClientHelloAt, s.ClientHelloFirstAt, s.ClientHelloPackets)
	}
}

func TestConnLimits(t *testing.T) {
	t.Run("handshake message over 64 KiB", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
		big := cat([]byte{TypeCertificate, 0x01, 0x11, 0x70}, make([]byte, 100)) // a Certificate of 70000 bytes
		c.Feed(ServerToClient, cat(record(ContentHandshake, msg(TypeServerHello, serverHello12)), record(ContentHandshake, big)), ref(2))
		c.Feed(ServerToClient, cat(record(ContentHandshake, make([]byte, 16000)), record(ContentChangeCipherSpec, hx("01"))), ref(3))
		s := c.Session()
		if len(s.Errors()) != 1 || !strings.Contains(s.Errors()[0], "certificate message of 70000 bytes exceeds the 65536-byte reassembly limit") {
			t.Errorf("errors %q", s.Errors())
		}
		if !c.h[ServerToClient].ccsSeen || s.Lost[1] {
			t.Errorf("the record layer stopped too: ccs seen %v lost %v", c.h[ServerToClient].ccsSeen, s.Lost)
		}
	})
	t.Run("record over 2^14+2048", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
		c.Feed(ClientToServer, hx("17 0303 4801"), ref(2)) // application_data of 18433 bytes
		c.Feed(ClientToServer, record(ContentAlert, hx("0228")), ref(3))
		s := c.Session()
		if len(s.Errors()) != 1 || !strings.Contains(s.Errors()[0], "#2 client: record_overflow: application_data record of 18433 bytes exceeds 18432") || !s.Lost[0] || len(s.Alerts) != 0 {
			t.Errorf("errors %q lost %v alerts %v", s.Errors(), s.Lost, s.Alerts)
		}
	})
	t.Run("junk after a record", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, cat(record(ContentHandshake, msg(TypeClientHello, browserHello)), []byte("GET / HTTP/1.1\r\n")), ref(1))
		s := c.Session()
		if s.ClientHello == nil || !s.Lost[0] || len(s.Errors()) != 1 || !c.IsTLS() {
			t.Errorf("hello %v lost %v errors %q", s.ClientHello != nil, s.Lost, s.Errors())
		}
	})
}

func TestConnNotTLS(t *testing.T) {
	c := NewConn(ConnOptions{})
	c.Feed(ClientToServer, []byte("GET / HTTP/1.1\r\nHost: proxy.golang.org\r\n\r\n"), ref(1))
	c.Feed(ServerToClient, record(ContentHandshake, msg(TypeServerHello, serverHello12)), ref(2))
	c.Finish()
	if c.IsTLS() || c.Session().ServerHello != nil {
		t.Errorf("plain HTTP taken for TLS: %+v", c.Session())
	}
	// A header cut in the first Feed is judged once complete.
	c = NewConn(ConnOptions{})
	c.Feed(ClientToServer, []byte("GE"), ref(1))
	if !c.IsTLS() {
		t.Error("judged on two bytes")
	}
	c.Feed(ClientToServer, []byte("T / HTTP/1.1\r\n"), ref(2))
	if c.IsTLS() {
		t.Error("plain HTTP taken for TLS")
	}
}

func TestLooksLikeTLS(t *testing.T) {
	for _, tc := range []struct {
		prefix []byte
		want   bool
	}{
		{hx("16 0301 0200 01"), true},      // handshake, TLS 1.0 record version, 512 bytes
		{hx("16 0303 4800"), true},         // 18432 bytes: the maximum
		{hx("16 0303 4801"), false},        // one byte more
		{hx("17 0303 0000"), false},        // empty
		{hx("16 0305 0010"), false},        // version 3.5
		{hx("16 0203 0010"), false},        // major 2
		{hx("19 0303 0010"), false},        // content type 25
		{hx("15 0300 0002"), true},         // SSL 3.0 alert
		{hx("16 0301"), false},             // too short
		{[]byte("GET / HTTP/1.1"), false},  // plain HTTP
		{[]byte("SSH-2.0-OpenSSH"), false}, // SSH
		{sslv2Hello[:5], true},             // SSLv2 CLIENT-HELLO
		{hx("80 2e 02 0301"), false},       // SSLv2, not CLIENT-HELLO
		{hx("05 01 00"), false},            // SOCKS5 greeting
	} {
		if got := LooksLikeTLS(tc.prefix); got != tc.want {
			t.Errorf("LooksLikeTLS(% x) = %v", tc.prefix, got)
		}
	}
}

func TestConnGap(t *testing.T) {
	flight := tls12Flight(t)
	t.Run("inside an encrypted record", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		feedPackets(c, flight[:6], 1)
		rec := record(ContentApplicationData, make([]byte, 1000))
		c.Feed(ServerToClient, rec[:100], ref(7))
		c.Gap(ServerToClient, 500, ref(8))
		c.Feed(ServerToClient, cat(rec[600:], record(ContentApplicationData, make([]byte, 10))), ref(9))
		c.Finish()
		s := c.Session()
		// Inside a record skipped by counting, a gap costs nothing and is
		// not noted (snap-length captures are full of them).
		if s.Lost[1] || s.EncryptedCount[1] != 3 || s.FirstAppDataAt[1] != ref(9) || s.AppDataAmongFirst[1] != 2 || len(s.Notes()) != 0 {
			t.Errorf("lost %v count %d records at %v (%v) notes %q", s.Lost, s.EncryptedCount, s.FirstAppDataAt, s.AppDataAmongFirst, s.Notes())
		}
		if _, ok := s.SoleAppDataRecord(ServerToClient); ok {
			t.Error("two records of application data taken as one")
		}
	})
	t.Run("inside a certificate", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, flight[0].data, ref(1))
		sf := flight[1].data
		c.Feed(ServerToClient, sf[:200], ref(2))
		c.Gap(ServerToClient, 300, ref(3))
		c.Feed(ServerToClient, sf[500:], ref(4))
		c.Finish()
		s := c.Session()
		certLen := len(tls12Certificate(t)) - 4
		if s.Certificates != nil || s.Message(ServerToClient, TypeServerHelloDone) == nil || skeGroup(s) == 0 || s.Lost[1] ||
			!slices.Contains(s.Notes(), "#3 server: certificate message of "+strconv.Itoa(certLen)+" bytes lost in a gap") {
			t.Errorf("certs %v messages %v lost %v notes %q", s.Certificates != nil, s.Messages(), s.Lost, s.Notes())
		}
	})
	t.Run("unknown size", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		feedPackets(c, flight[:6], 1)
		c.Gap(ServerToClient, -1, ref(7))
		c.Feed(ServerToClient, flight[6].data, ref(8))
		s := c.Session()
		if !s.Lost[1] || s.EncryptedCount[1] != 1 {
			t.Errorf("lost %v count %v", s.Lost, s.EncryptedCount)
		}
	})
	t.Run("across a record header", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		feedPackets(c, flight[:6], 1)
		c.Gap(ServerToClient, 10, ref(7)) // at a record boundary: the next header is lost
		if !c.Session().Lost[1] {
			t.Error("not lost")
		}
	})
}

func TestConnFinish(t *testing.T) {
	rec := record(ContentHandshake, msg(TypeClientHello, browserHello))
	c := NewConn(ConnOptions{})
	c.Feed(ClientToServer, rec[:500], ref(1))
	c.Feed(ServerToClient, hx("1603"), ref(2))
	c.Finish()
	c.Finish()
	c.Feed(ClientToServer, rec[500:], ref(3)) // ignored after Finish
	s := c.Session()
	want := []string{
		"#1 client: stream ends " + strconv.Itoa(len(rec)-500) + " bytes before the end of a " + strconv.Itoa(len(rec)-5) + "-byte handshake record",
		"#1 client: stream ends inside a client_hello message (495 of " + strconv.Itoa(len(rec)-5) + " bytes)",
		"#2 server: stream ends inside a record header (2 of 5 bytes)",
	}
	if !slices.Equal(s.Notes(), want) || s.ClientHello != nil {
		t.Errorf("notes %q", s.Notes())
	}
}

func TestConnAlerts(t *testing.T) {
	c := NewConn(ConnOptions{})
	c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
	c.Feed(ServerToClient, record(ContentAlert, hx("0228")), ref(2)) // fatal handshake_failure
	s := c.Session()
	if len(s.Alerts) != 1 || s.Alerts[0] != (Alert{From: ServerToClient, Level: 2, Description: 40, At: ref(2)}) || s.Alerts[0].Name() != "handshake_failure" {
		t.Errorf("alerts %v", s.Alerts)
	}
}

// TLS 1.3 with a missing HelloRetryRequest, a compatibility CCS, and a
// client whose next handshake record is encrypted because the ServerHello
// was missed.
func TestConnTLS13CompatCCS(t *testing.T) {
	t.Run("second hello after a missed HelloRetryRequest", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
		c.Feed(ClientToServer, record(ContentChangeCipherSpec, hx("01")), ref(2))
		c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(3))
		s := c.Session()
		if s.SecondClientHello() == nil || s.SecondClientHelloAt() != ref(3) || !s.Dirs[0].ProtectedFrom.IsZero() {
			t.Errorf("second hello %v at %v, encrypted at %v", s.SecondClientHello() != nil, s.SecondClientHelloAt(), protectedFrom(s))
		}
	})
	t.Run("encrypted flight after a missed ServerHello", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
		c.Feed(ClientToServer, record(ContentChangeCipherSpec, hx("01")), ref(2))
		c.Feed(ClientToServer, record(ContentHandshake, bytes.Repeat([]byte{0x9c}, 40)), ref(3))
		s := c.Session()
		if s.SecondClientHello() != nil || s.Dirs[0].ProtectedFrom != ref(3) || s.EncryptedCount[0] != 1 || len(s.Errors()) != 0 {
			t.Errorf("encrypted at %v count %v errors %q", protectedFrom(s), s.EncryptedCount, s.Errors())
		}
	})
	t.Run("server", func(t *testing.T) {
		c := NewConn(ConnOptions{})
		c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
		c.Feed(ServerToClient, cat(record(ContentHandshake, msg(TypeServerHello, serverHello13)), record(ContentChangeCipherSpec, hx("01")),
			record(ContentApplicationData, make([]byte, 2000))), ref(2))
		c.Feed(ClientToServer, cat(record(ContentChangeCipherSpec, hx("01")), record(ContentApplicationData, make([]byte, 53))), ref(3))
		s := c.Session()
		if protectedFrom(s) != [2]capture.Ref{ref(3), ref(2)} || s.EncryptedCount != [2]int32{1, 1} || !c.h[0].ccsSeen || !c.h[1].ccsSeen {
			t.Errorf("encrypted at %v count %v ccs seen %v/%v", protectedFrom(s), s.EncryptedCount, c.h[0].ccsSeen, c.h[1].ccsSeen)
		}
	})
}

// fakeOpener "decrypts" a record whose body is the TLSInnerPlaintext itself
// (content, then the inner type byte): it exercises the decryption seam.
type fakeOpener struct{}

func (fakeOpener) open(hdr, body []byte) (uint8, []byte, error) {
	if len(body) == 0 {
		return 0, nil, errBadName
	}
	return body[len(body)-1], body[:len(body)-1], nil
}

func TestConnOpenerSeam(t *testing.T) {
	p := getPKI(t)
	c := NewConn(ConnOptions{})
	c.h[ServerToClient].open = fakeOpener{}
	c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
	ee := msg(TypeEncryptedExtensions, vec16(ext(0x0010, vec16(vec8([]byte("h2"))))))
	cert := msg(TypeCertificate, cat(vec8(), vec24(vec24(p.ecdsaChain.Certificate[0]), vec16())))
	stream := cat(
		record(ContentHandshake, msg(TypeServerHello, serverHello13)),
		record(ContentChangeCipherSpec, hx("01")),
		record(ContentApplicationData, cat(ee, cert[:10], []byte{ContentHandshake})), // EncryptedExtensions and the start of Certificate
		record(ContentApplicationData, cat(cert[10:], []byte{ContentHandshake})),     // the rest of Certificate
		record(ContentApplicationData, cat(hx("0230"), []byte{ContentAlert})),        // fatal unknown_ca
	)
	for i := range stream {
		c.Feed(ServerToClient, stream[i:i+1], ref(2))
	}
	s := c.Session()
	if s.EncryptedExtensions() == nil || s.ServerALPN() != "h2" || s.Certificates == nil || !s.Certificates.TLS13 ||
		s.Certificates.Certificates[0].Subject != p.leafName {
		t.Errorf("decrypted flight: ee %+v certs %+v", s.EncryptedExtensions(), s.Certificates)
	}
	if len(s.Alerts) != 1 || !s.Alerts[0].Encrypted || s.Alerts[0].Name() != "unknown_ca" || s.EncryptedCount[1] != 3 {
		t.Errorf("alerts %v count %d", s.Alerts, s.EncryptedCount[1])
	}
}

// The skip path allocates nothing.
func TestConnAppDataAllocs(t *testing.T) {
	c := NewConn(ConnOptions{})
	feedPackets(c, tls12Flight(t), 1)
	data := appDataStream(64 << 10)
	at := ref(100)
	allocs := testing.AllocsPerRun(20, func() {
		for off := 0; off < len(data); off += 1460 {
			c.Feed(ServerToClient, data[off:min(off+1460, len(data))], at)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per %d bytes of application data", allocs, len(data))
	}
}

// appDataStream returns n bytes of back-to-back 16 KiB application_data
// records (the last one cut to fit exactly).
func appDataStream(n int) []byte {
	var b []byte
	for n-len(b) > 5 {
		body := min(1<<14, n-len(b)-5)
		b = append(b, record(ContentApplicationData, make([]byte, body))...)
	}
	return b
}

// Without keys, a TLS 1.3 client's record layer is read by shape: a
// record too short for Finished (its alert) is neither Finished nor
// application data; a Finished-sized one is Finished; the next ones are
// application data.
func TestConnTLS13InferredState(t *testing.T) {
	c := NewConn(ConnOptions{})
	c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
	c.Feed(ServerToClient, cat(record(ContentHandshake, msg(TypeServerHello, serverHello13)), record(ContentApplicationData, make([]byte, 2000))), ref(2))
	c.Feed(ClientToServer, cat(record(ContentChangeCipherSpec, hx("01")), record(ContentApplicationData, make([]byte, 19))), ref(3))
	s := c.Session()
	if s.FinishedSeen(ClientToServer) || s.ClientSentAppData() || s.Dirs[0].Phase != PhaseProtected || s.Dirs[1].Phase != PhaseProtected {
		t.Fatalf("after an alert-sized record: %+v", s.Dirs)
	}
	c.Feed(ClientToServer, record(ContentApplicationData, make([]byte, 53)), ref(4))
	c.Feed(ClientToServer, record(ContentApplicationData, make([]byte, 300)), ref(5))
	c.Feed(ClientToServer, record(ContentApplicationData, make([]byte, 30)), ref(6))
	c.Finish()
	if d := s.Dirs[0]; d.Finished != ref(4) || !d.FinishedInferred || d.AppData != ref(5) || !d.AppDataInferred || d.AppDataRecords != 2 {
		t.Errorf("client state %+v", d)
	}
	if !s.Dirs[1].Finished.IsZero() || s.Dirs[1].ProtectedFrom != ref(2) {
		t.Errorf("server state %+v: its TLS 1.3 flight has no readable shape", s.Dirs[1])
	}
}

// TestConnFillsTheSessionItIsGiven checks ConnOptions.Session: the Conn
// fills the caller's Session, and without one allocates its own.
func TestConnFillsTheSessionItIsGiven(t *testing.T) {
	var s Session
	c := NewConn(ConnOptions{Session: &s})
	if c.Session() != &s {
		t.Fatalf("Session() = %p, want the given %p", c.Session(), &s)
	}
	c.Feed(ClientToServer, []byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 0}, ref(1))
	if c.h[ClientToServer].bytes != 10 || s.Dirs[ClientToServer].Phase != PhasePlain {
		t.Errorf("the given Session was not filled: %+v after %d bytes", s.Dirs[ClientToServer], c.h[ClientToServer].bytes)
	}
	if NewConn(ConnOptions{}).Session() == nil {
		t.Error("no Session without one given")
	}
}
