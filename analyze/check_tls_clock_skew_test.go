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
			h.Date = at(req + 1).Time().Add(skew).Truncate(time.Second)
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

func TestClockSkewFromNTP(t *testing.T) {
	ntp := func(q int, stratum uint8, skew time.Duration, answered bool) *decode.NTPExchange {
		x := &decode.NTPExchange{Client: addrPortOf("10.0.0.2:123"), Server: addrPortOf("192.0.2.123:123"), Query: at(q)}
		if answered {
			x.Response, x.Stratum, x.Transmit = at(q+1), stratum, at(q+1).Time().Add(skew)
		}
		return x
	}
	tests := []struct {
		name string
		ntp  []*decode.NTPExchange
		want []want
		say  string
	}{
		{name: "an NTP reply six hours ahead of the packet",
			ntp: []*decode.NTPExchange{ntp(3, 2, 6*time.Hour, true)}, want: []want{{"192.0.2.123", "warning", "6h behind the servers'"}}},
		{name: "unanswered requests are named beside the measure",
			ntp:  []*decode.NTPExchange{ntp(1, 0, 0, false), ntp(3, 2, 6*time.Hour, true)},
			want: []want{{"192.0.2.123", "warning", "behind"}}, say: "1 NTP request(s) went unanswered"},
		{name: "an NTP reply within seconds agrees",
			ntp: []*decode.NTPExchange{ntp(3, 2, 2*time.Second, true)}},
		{name: "a kiss-o'-death measures nothing",
			ntp: []*decode.NTPExchange{ntp(3, 0, 6*time.Hour, true)}},
		{name: "unanswered requests alone prove no skew",
			ntp: []*decode.NTPExchange{ntp(3, 0, 0, false)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCheck(t, "tls-clock-skew", ctxFor(&decode.Events{NTP: tt.ntp}, 100, Options{}))
			expectFindings(t, got, tt.want...)
			if tt.say != "" && (len(got) == 0 || !strings.Contains(got[0].Observed, tt.say)) {
				t.Errorf("observed %q lacks %q", got, tt.say)
			}
		})
	}
}
