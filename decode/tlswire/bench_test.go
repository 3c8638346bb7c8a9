package tlswire

import (
	"testing"
)

// BenchmarkConnAppData measures the skip path: a Conn past the handshake fed
// 1460-byte segments of 16 KiB application_data records.
func BenchmarkConnAppData(b *testing.B) {
	c := NewConn(ConnOptions{})
	feedPackets(c, tls12Flight(b), 1)
	data := appDataStream(1 << 20)
	at := ref(100)
	before := c.Session().EncryptedCount[ServerToClient]
	perLoop := (len(data) + 1<<14 + 4) / (1<<14 + 5)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	loops := 0
	for b.Loop() {
		for off := 0; off < len(data); off += 1460 {
			c.Feed(ServerToClient, data[off:min(off+1460, len(data))], at)
		}
		loops++
	}
	if s := c.Session(); s.Lost[1] || int(s.EncryptedCount[1]-before) != loops*perLoop {
		b.Fatalf("lost %v, counted %d records, want %d", s.Lost, s.EncryptedCount[1]-before, loops*perLoop)
	}
}

// BenchmarkConnHandshake decodes a whole TLS 1.2 handshake (certificates
// from the cache after the first).
func BenchmarkConnHandshake(b *testing.B) {
	flight := tls12Flight(b)
	certs := NewCertCache(0)
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(ConnOptions{Certs: certs})
		feedPackets(c, flight, 1)
		c.Finish()
	}
}

func BenchmarkParseClientHello(b *testing.B) {
	b.SetBytes(int64(len(browserHello)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientHello(browserHello); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJA4(b *testing.B) {
	ch, _ := ParseClientHello(browserHello)
	b.ReportAllocs()
	for b.Loop() {
		JA4(ch, 't')
	}
}
