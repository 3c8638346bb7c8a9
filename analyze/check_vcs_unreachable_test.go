package analyze

import (
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

func TestVCSUnreachable(t *testing.T) {
	git := exchange(1, client, router, "git.corp.internal", "A", response(2, "NOERROR", 64, "git.corp.internal", "A 10.20.9.9"))
	ssh := func(edit func(c *decode.TCPConn)) *decode.TCPConn {
		c := &decode.TCPConn{Client: addrPortOf("10.0.0.2:50200"), Server: addrPortOf("10.20.9.9:22"), Extra: &decode.TCPExtra{SYN: []capture.Ref{at(10)}}}
		edit(c)
		return c
	}
	tests := []struct {
		name string
		ev   *decode.Events
		want []want
	}{
		{name: "SSH SYNs unanswered", ev: &decode.Events{DNS: []*decode.DNSExchange{git}, TCP: []*decode.TCPConn{
			ssh(func(c *decode.TCPConn) { c.Extra.SYN = append(c.Extra.SYN, at(1010), at(3010)) })}},
			want: []want{{"git.corp.internal", "error", "unanswered (3 SYNs)"}}},
		{name: "SSH refused", ev: &decode.Events{DNS: []*decode.DNSExchange{git}, TCP: []*decode.TCPConn{
			ssh(func(c *decode.TCPConn) { c.Extra.Resets = []decode.TCPReset{{At: at(11)}} })}},
			want: []want{{"git.corp.internal", "error", "refused"}}},
		{name: "SSH closed without a banner", ev: &decode.Events{DNS: []*decode.DNSExchange{git}, TCP: []*decode.TCPConn{
			ssh(func(c *decode.TCPConn) { c.SYNACK, c.FIN[1] = at(11), at(40) })}},
			want: []want{{"git.corp.internal", "error", "without an SSH banner"}}},
		{name: "a working SSH session is not a finding", ev: &decode.Events{DNS: []*decode.DNSExchange{git}, TCP: []*decode.TCPConn{
			ssh(func(c *decode.TCPConn) { c.SYNACK, c.FIN[1] = at(11), at(400); c.Payload[1] = 4096 })}}},
		{name: "a refused connection to another port is not git", ev: &decode.Events{TCP: []*decode.TCPConn{
			ssh(func(c *decode.TCPConn) {
				c.Server = addrPortOf("10.20.9.9:2222")
				c.Extra.Resets = []decode.TCPReset{{At: at(11)}}
			})}}},
		{name: "smart-HTTP discovery answered 401", ev: &decode.Events{HTTP: []*decode.HTTPExchange{
			hx(3, "git.corp.internal", "/team/lib.git/info/refs?…", 401, nil)}},
			want: []want{{"git.corp.internal", "error", "401"}}},
		{name: "smart-HTTP discovery answered 200", ev: &decode.Events{HTTP: []*decode.HTTPExchange{
			hx(3, "git.corp.internal", "/team/lib.git/info/refs?…", 200, nil)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFindings(t, runCheck(t, "vcs-unreachable", ctxFor(tt.ev, 5000, Options{})), tt.want...)
		})
	}
}
