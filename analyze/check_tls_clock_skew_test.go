package analyze

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

func TestClockSkew(t *testing.T) {
	dated := func(req int, skew time.Duration) *decode.HTTPExchange {
		return hx(req, modHost, "/m/@v/list", 200, func(h *decode.HTTPExchange) {
			h.Date = at(req + 1).Time.Add(skew).Truncate(time.Second)
		})
	}
	corp := makeCA(t, pkix.Name{CommonName: "Corp Root CA", Organization: []string{"Example Corp"}})
	// Issued two days after the machine's clock, valid for a year.
	future := corp.leaf(t, modHost, []string{modHost}, t0.Add(48*time.Hour), t0.AddDate(1, 0, 0))
	badCert := tlswire.Alert{From: tlswire.ClientToServer, Level: 2, Description: 42, At: at(8)}
	trust := Options{Trust: []*x509.Certificate{corp.cert}}
	tests := []struct {
		name string
		ev   func() *decode.Events
		opt  Options
		want []want
	}{
		{name: "servers' Date headers three days ahead",
			ev: func() *decode.Events {
				return &decode.Events{HTTP: []*decode.HTTPExchange{dated(3, 72*time.Hour), dated(5, 72*time.Hour)}}
			},
			want: []want{{modHost, "warning", "2 days behind the servers'"}}},
		{name: "a machine whose clock is ahead",
			ev:   func() *decode.Events { return &decode.Events{HTTP: []*decode.HTTPExchange{dated(3, -2*time.Hour)}} },
			want: []want{{modHost, "warning", "ahead of"}}},
		{name: "Date headers within a minute agree",
			ev: func() *decode.Events { return &decode.Events{HTTP: []*decode.HTTPExchange{dated(3, 40*time.Second)}} }},
		{name: "one server with a wrong clock among three does not make the machine's wrong",
			ev: func() *decode.Events {
				return &decode.Events{HTTP: []*decode.HTTPExchange{dated(3, 0), dated(5, 30*24*time.Hour), dated(7, time.Second)}}
			}},
		{name: "a trusted certificate from the future that the client rejected", opt: trust,
			ev: func() *decode.Events {
				s := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(future), alerts: []tlswire.Alert{badCert}})
				return &decode.Events{TLS: []*decode.TLSSession{s}}
			},
			want: []want{{modHost, "error", "looked expired or not yet valid"}}},
		{name: "an untrusted certificate from the future says nothing of the clock",
			ev: func() *decode.Events {
				s := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(future), alerts: []tlswire.Alert{badCert}})
				return &decode.Events{TLS: []*decode.TLSSession{s}}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFindings(t, runCheck(t, "tls-clock-skew", ctxFor(tt.ev(), 100, tt.opt)), tt.want...)
		})
	}
	// tls-expired then says whose clock is wrong.
	s := tlsSession(sessionSpec{sni: modHost, version: tlswire.VersionTLS12, certs: chainMsg(future), alerts: []tlswire.Alert{badCert}})
	got := runCheck(t, "tls-expired", ctxFor(&decode.Events{TLS: []*decode.TLSSession{s}}, 100, trust))
	if len(got) != 1 || !strings.Contains(got[0].Hint, "this machine's clock 47h59m behind the servers' (tls-clock-skew)") {
		t.Errorf("tls-expired should name the wrong clock: %+v", got)
	}
}
