package tlswire

import "testing"

func TestDebugDump(t *testing.T) {
	for _, path := range corpusCaptures(t) {
		res := decodeCapture(t, path, nil)
		for _, tc := range res.conns {
			s := tc.conn.Session()
			if !tc.conn.IsTLS() && s.ClientHello == nil {
				continue
			}
			if s.ClientHello == nil && s.ServerHello == nil && len(s.Notes) == 0 {
				continue
			}
			sni := ""
			if s.ClientHello != nil {
				sni = s.ClientHello.ServerName
			}
			t.Logf("%s %v->%v tls=%v sni=%q v=%s chAt=%v pk=%d enc=%v cnt=%v ccs=%v alerts=%v lost=%v", rel(t, path), tc.client, tc.server, tc.conn.IsTLS(), sni, VersionName(s.Version()), s.ClientHelloAt, s.ClientHelloPackets, s.EncryptedAt, s.EncryptedCount, s.ChangeCipherSpec, s.Alerts, s.Lost)
			for _, n := range s.Notes {
				t.Logf("    note: %s", n)
			}
			for _, n := range s.Errors {
				t.Logf("    ERR: %s", n)
			}
			if s.ClientHello != nil && len(s.ClientHello.Notes) > 0 {
				t.Logf("    chnotes: %q", s.ClientHello.Notes)
			}
			if s.ServerHello != nil && len(s.ServerHello.Notes) > 0 {
				t.Logf("    shnotes: %q", s.ServerHello.Notes)
			}
		}
	}
}
