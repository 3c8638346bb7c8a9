package tlswire

import (
	"testing"
)

// serverCertSession feeds a TLS 1.2 ClientHello and a server flight
// carrying certMsgs (whole Certificate handshake messages, one record
// each) to a Conn with cache, and returns its Session.
func serverCertSession(cache *CertCache, certMsgs ...[]byte) *Session {
	c := NewConn(ConnOptions{Certs: cache})
	c.Feed(ClientToServer, record(ContentHandshake, msg(TypeClientHello, browserHello)), ref(1))
	c.Feed(ServerToClient, record(ContentHandshake, msg(TypeServerHello, serverHello12)), ref(2))
	for i, m := range certMsgs {
		c.Feed(ServerToClient, record(ContentHandshake, m), ref(3+i))
	}
	c.Finish()
	return c.Session()
}

func TestCertCacheSharesRepeatedChains(t *testing.T) {
	p := getPKI(t)
	rsaChain := msg(TypeCertificate, vec24(vec24(p.rsaChain.Certificate[0]), vec24(p.inter.Raw)))
	ecdsaChain := msg(TypeCertificate, vec24(vec24(p.ecdsaChain.Certificate[0]), vec24(p.inter.Raw)))
	// The RSA chain cut short inside its second certificate.
	damaged := msg(TypeCertificate, cat(vec24(vec24(p.rsaChain.Certificate[0]), vec24(p.inter.Raw))[:len(p.rsaChain.Certificate[0])+3+3+10]))

	t.Run("two sessions with the same chain share it", func(t *testing.T) {
		cache := NewCertCache(0)
		a, b := serverCertSession(cache, rsaChain), serverCertSession(cache, rsaChain)
		if a.Certificates == nil || len(a.Certificates.Certificates) != 2 || a.Certificates.Certificates[0].Subject != p.leafName {
			t.Fatalf("certificates %+v", a.Certificates)
		}
		if a.Certificates != b.Certificates {
			t.Error("the same chain is kept twice")
		}
		if hits, misses := cache.Stats(); hits != 2 || misses != 2 {
			t.Errorf("hits %d misses %d, want 2 and 2", hits, misses)
		}
	})
	t.Run("a different chain is not shared", func(t *testing.T) {
		cache := NewCertCache(0)
		a, b := serverCertSession(cache, rsaChain), serverCertSession(cache, ecdsaChain)
		if a.Certificates == nil || b.Certificates == nil || a.Certificates == b.Certificates {
			t.Fatalf("chains %p %p", a.Certificates, b.Certificates)
		}
		if a.Certificates.Certificates[0].SHA256 == b.Certificates.Certificates[0].SHA256 {
			t.Error("different leaves")
		}
		// The intermediate they have in common is parsed once.
		if a.Certificates.Certificates[1].CertData != b.Certificates.Certificates[1].CertData {
			t.Error("the common intermediate is parsed twice")
		}
	})
	t.Run("the same chain in the TLS 1.3 form is another message", func(t *testing.T) {
		cache := NewCertCache(0)
		leaf, inter := p.rsaChain.Certificate[0], p.inter.Raw
		m12, err12 := cache.ParseCertificate(vec24(vec24(leaf), vec24(inter)), false)
		m13, err13 := cache.ParseCertificate(cat(vec8(nil), vec24(vec24(leaf), vec16(nil), vec24(inter), vec16(nil))), true)
		if err12 != nil || err13 != nil {
			t.Fatal(err12, err13)
		}
		if m12 == m13 || m12.TLS13 || !m13.TLS13 {
			t.Errorf("TLS 1.2 form %+v, TLS 1.3 form %+v", m12, m13)
		}
	})
	t.Run("a damaged message is never shared", func(t *testing.T) {
		cache := NewCertCache(0)
		a, b := serverCertSession(cache, damaged), serverCertSession(cache, damaged)
		if a.Certificates == nil || b.Certificates == nil {
			t.Fatalf("damaged chains not kept: %+v %+v", a.Certificates, b.Certificates)
		}
		if a.Certificates == b.Certificates {
			t.Error("a damaged message is shared")
		}
		for _, s := range []*Session{a, b} {
			if m := s.Message(ServerToClient, TypeCertificate); m == nil || m.Err == nil || len(s.Errors()) == 0 {
				t.Errorf("damage not reported: %+v", m)
			}
		}
		// Neither is the damaged message shared with the intact one it starts like.
		if c := serverCertSession(cache, rsaChain); c.Certificates == a.Certificates {
			t.Error("the intact chain is the damaged one")
		}
	})
	t.Run("a chain repeated in one session keeps the view at the first", func(t *testing.T) {
		cache := NewCertCache(0)
		serverCertSession(cache, rsaChain)
		s := serverCertSession(cache, rsaChain, rsaChain)
		var logged []*CertificateMsg
		for _, m := range s.Messages() {
			if v, ok := m.Value.(*CertificateMsg); ok {
				logged = append(logged, v)
			}
		}
		if len(logged) != 2 || logged[0] != s.Certificates || logged[1] == s.Certificates || s.CertificatesAt != ref(3) {
			t.Errorf("certificates at %v, logged %p (view %p)", s.CertificatesAt, logged, s.Certificates)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		cache := NewCertCache(1)
		serverCertSession(cache, rsaChain)
		serverCertSession(cache, ecdsaChain)
		if n := len(cache.chains); n != 1 {
			t.Errorf("%d chains kept, want 1", n)
		}
		var nilCache *CertCache
		if a, b := serverCertSession(nilCache, rsaChain), serverCertSession(nilCache, rsaChain); a.Certificates == nil || a.Certificates == b.Certificates {
			t.Error("a nil cache shares or does not parse")
		}
	})
}
