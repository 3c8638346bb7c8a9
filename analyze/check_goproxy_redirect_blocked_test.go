package analyze

import (
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

func TestGoproxyRedirectBlocked(t *testing.T) {
	const storage = "storage.googleapis.com"
	redirect := func() *decode.HTTPExchange {
		return hx(10, modHost, "/rsc.io/quote/@v/v1.5.2.zip", 302, func(h *decode.HTTPExchange) { h.Location = storage })
	}
	ok := func() *decode.HTTPExchange { return hx(10, modHost, "/rsc.io/quote/@v/list", 200, nil) }
	nx := exchange(20, client, router, storage, "A", response(21, "NXDOMAIN", 64, storage))
	resolved := exchange(20, client, router, storage, "A", response(21, "NOERROR", 64, storage, "A 142.250.1.128"))
	sumDNS := exchange(20, client, router, "sum.golang.org", "A", response(21, "NOERROR", 64, "sum.golang.org", "A 142.250.1.129"))
	conn := func(server string, answered bool) *decode.TCPConn {
		c := &decode.TCPConn{Client: addrPortOf("10.0.0.2:50100"), Server: addrPortOf(server),
			Extra: &decode.TCPExtra{SYN: []capture.Ref{at(30), at(1030), at(3030)}}}
		if answered {
			c.Extra.SYN, c.SYNACK = c.Extra.SYN[:1], at(31)
		}
		return c
	}
	tests := []struct {
		name string
		ev   *decode.Events
		want []want
	}{
		{name: "redirect target answered NXDOMAIN",
			ev:   &decode.Events{DNS: []*decode.DNSExchange{nx}, HTTP: []*decode.HTTPExchange{redirect()}},
			want: []want{{storage, "error", "DNS answered NXDOMAIN"}}},
		{name: "redirect target whose SYNs go unanswered",
			ev: &decode.Events{DNS: []*decode.DNSExchange{resolved}, HTTP: []*decode.HTTPExchange{redirect()},
				TCP: []*decode.TCPConn{conn("142.250.1.128:443", false)}},
			want: []want{{storage, "error", "never answered"}}},
		{name: "a redirect target that was reached is not blocked",
			ev: &decode.Events{DNS: []*decode.DNSExchange{resolved}, HTTP: []*decode.HTTPExchange{redirect()},
				TCP: []*decode.TCPConn{conn("142.250.1.128:443", false), conn("142.250.1.128:443", true)}}},
		{name: "the proxy works and the checksum database is blocked",
			ev: &decode.Events{DNS: []*decode.DNSExchange{sumDNS}, HTTP: []*decode.HTTPExchange{ok()},
				TCP: []*decode.TCPConn{conn("142.250.1.129:443", false)}},
			want: []want{{"sum.golang.org", "error", "checksum database"}}},
		{name: "without an answer from the proxy nothing says it works",
			ev: &decode.Events{DNS: []*decode.DNSExchange{sumDNS}, TCP: []*decode.TCPConn{conn("142.250.1.129:443", false)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFindings(t, runCheck(t, "goproxy-redirect-blocked", ctxFor(tt.ev, 5000, Options{})), tt.want...)
		})
	}
}
