package analyze

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

func TestClientTrustStore(t *testing.T) {
	corp := makeCA(t, pkix.Name{CommonName: "Corp Root CA", Organization: []string{"Example Corp"}})
	other := makeCA(t, pkix.Name{CommonName: "Other Root", Organization: []string{"Other"}})
	good := corp.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	wrongName := corp.leaf(t, "portal.example.net", []string{"portal.example.net"}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	expired := corp.leaf(t, modHost, []string{modHost}, t0.AddDate(-2, 0, 0), t0.AddDate(0, -1, 0))
	cnOnly := corp.leaf(t, modHost, nil, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	foreign := other.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	alert := func(desc uint8) tlswire.Alert {
		return tlswire.Alert{From: tlswire.ClientToServer, Level: 2, Description: desc, At: at(8)}
	}
	trustCorp := Options{Trust: []*x509.Certificate{corp.cert}}
	tests := []struct {
		name string
		spec sessionSpec
		opt  Options
		want []want
	}{
		{name: "a chain to a --trust CA rejected with bad_certificate", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(good), alerts: []tlswire.Alert{alert(42)}},
			want: []want{{modHost, "error", "the CA given with --trust"}}},
		{name: "a chain to a --trust CA rejected with unknown_ca", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(good), alerts: []tlswire.Alert{alert(48)}},
			want: []want{{modHost, "error", "unknown_ca"}}},
		{name: "a client that carries on trusts the chain", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(good), clientRecs: appData(2, 200)}},
		{name: "an untrusted chain is a foreign issuer, not the client's store",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(foreign), alerts: []tlswire.Alert{alert(48)}}},
		{name: "a chain that does not cover the name is a hostname mismatch", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(wrongName), alerts: []tlswire.Alert{alert(42)}}},
		{name: "an expired chain is tls-expired's", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(expired), alerts: []tlswire.Alert{alert(42)}}},
		{name: "a CN-only leaf is the go command's policy", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(cnOnly), alerts: []tlswire.Alert{alert(42)}}},
		{name: "another fatal alert is another reason", opt: trustCorp,
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(good), alerts: []tlswire.Alert{alert(40)}}},
		{name: "a TLS 1.3 rejection without any chain seen says nothing",
			spec: sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec, serverRecs: 4, clientRecs: appData(1, 19), clientFIN: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tlsSession(tt.spec)
			ev := &decode.Events{TLS: []*decode.TLSSession{s}, TCP: []*decode.TCPConn{s.Conn}}
			got := runCheck(t, "tls-client-trust-store", ctxFor(ev, 10000, tt.opt))
			expectFindings(t, got, tt.want...)
			for _, f := range got {
				if !strings.Contains(f.Hint, "corp-ca.pem") || !strings.Contains(f.Hint, "update-ca-certificates") {
					t.Errorf("the hint for a --trust CA should say how to copy it into the image: %s", f.Hint)
				}
			}
		})
	}
}

// TestClientTrustStoreTLS13BorrowsAChain: without keys a TLS 1.3 session
// shows no certificate; another session of the capture to the same name
// that showed a trusted chain makes the rejection the client's store.
func TestClientTrustStoreTLS13BorrowsAChain(t *testing.T) {
	corp := makeCA(t, pkix.Name{CommonName: "Corp Root CA", Organization: []string{"Example Corp"}})
	good := corp.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	seen := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(good), clientRecs: appData(2, 200)})
	rejected := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS13, keyShare: 0x11ec, serverRecs: 4,
		clientRecs: appData(1, 19), clientFIN: true})
	elsewhere := tlsSession(sessionSpec{sni: "sum.golang.org", version: tlswire.VersionTLS13, keyShare: 0x11ec, serverRecs: 4,
		clientRecs: appData(1, 19), clientFIN: true})
	ev := &decode.Events{TLS: []*decode.TLSSession{seen, rejected, elsewhere}}
	got := runCheck(t, "tls-client-trust-store", ctxFor(ev, 10000, Options{Trust: []*x509.Certificate{corp.cert}}))
	expectFindings(t, got, want{modHost, "error", "another session"})
}

// TestAlertHintPointsAtTrustStore: tls-alert's hint names the check that
// explains the alert — the client's store for a trusted chain, the issuer
// otherwise.
func TestAlertHintPointsAtTrustStore(t *testing.T) {
	corp := makeCA(t, pkix.Name{CommonName: "Corp Root CA", Organization: []string{"Example Corp"}})
	good := corp.leaf(t, modHost, []string{modHost}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	badCert := tlswire.Alert{From: tlswire.ClientToServer, Level: 2, Description: 42, At: at(8)}
	for _, tc := range []struct {
		name  string
		opt   Options
		names string
	}{
		{"trusted chain", Options{Trust: []*x509.Certificate{corp.cert}}, "tls-client-trust-store"},
		{"untrusted chain", Options{}, "tls-foreign-issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(good), alerts: []tlswire.Alert{badCert}})
			got := runCheck(t, "tls-alert", ctxFor(&decode.Events{TLS: []*decode.TLSSession{s}}, 10000, tc.opt))
			if len(got) != 1 || !strings.Contains(got[0].Hint, tc.names) {
				t.Fatalf("want one tls-alert whose hint names %s, got %+v", tc.names, got)
			}
		})
	}
}
