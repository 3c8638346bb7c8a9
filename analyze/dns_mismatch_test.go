package analyze

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/samples/synth"
)

// misbehavingResolver answers every UDP query on 127.0.0.1 through mangle
// and records each query and response in the order they passed.
type misbehavingResolver struct {
	conn   net.PacketConn
	mangle func(q *dns.Msg) []byte
	mu     sync.Mutex
	wire   []wireMsg
}

type wireMsg struct {
	response bool
	port     int // the client's port
	data     []byte
}

func startResolver(t *testing.T, mangle func(q *dns.Msg) []byte) *misbehavingResolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &misbehavingResolver{conn: pc, mangle: mangle}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			port := from.(*net.UDPAddr).Port
			resp := r.mangle(q)
			r.mu.Lock()
			r.wire = append(r.wire, wireMsg{port: port, data: append([]byte(nil), buf[:n]...)})
			r.wire = append(r.wire, wireMsg{response: true, port: port, data: resp})
			r.mu.Unlock()
			pc.WriteTo(resp, from) //nolint:errcheck // a lost answer is the client's timeout
		}
	}()
	return r
}

// lookup runs the real go resolver (PreferGo) against the resolver.
func (r *misbehavingResolver) lookup(name string) ([]string, error) {
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, r.conn.LocalAddr().String())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	return res.LookupHost(ctx, name)
}

// answer builds the honest response to q.
func answer(q *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	name := q.Question[0].Name
	switch q.Question[0].Qtype {
	case dns.TypeA:
		rr, _ := dns.NewRR(name + " 300 IN A 142.250.1.1")
		m.Answer = append(m.Answer, rr)
	case dns.TypeAAAA:
		rr, _ := dns.NewRR(name + " 300 IN AAAA 2a00:1450:4001:813::2011")
		m.Answer = append(m.Answer, rr)
	}
	return m
}

func pack(m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

func TestDNSAnswerMismatchAgainstTheGoResolver(t *testing.T) {
	tests := []struct {
		name    string
		mangle  func(q *dns.Msg) []byte
		goErr   string // "" when the go resolver accepts the answer
		tcpDead bool   // the resolver refuses TCP (the retry of a truncated answer)
		finding string // a phrase of the expected finding, "" for none
	}{
		{name: "a response naming another question is ignored: go times out although every query was answered",
			mangle: func(q *dns.Msg) []byte {
				m := answer(q)
				m.Question[0].Name = "portal.example."
				return pack(m)
			}, goErr: "i/o timeout", finding: "name another question"},
		{name: "a response for another type is ignored too",
			mangle: func(q *dns.Msg) []byte {
				m := answer(q)
				m.Question[0].Qtype = dns.TypeTXT
				return pack(m)
			}, goErr: "i/o timeout", finding: "name another question"},
		{name: "a question that differs only in case is accepted",
			mangle: func(q *dns.Msg) []byte {
				m := answer(q)
				m.Question[0].Name = strings.ToUpper(m.Question[0].Name)
				return pack(m)
			}},
		{name: "an answer whose owner name alone differs is accepted by go, so it is not this error",
			mangle: func(q *dns.Msg) []byte {
				m := answer(q)
				for _, rr := range m.Answer {
					rr.Header().Name = "elsewhere.example."
				}
				return pack(m)
			}},
		{name: "an answer section that does not parse fails with cannot unmarshal",
			mangle: func(q *dns.Msg) []byte {
				b := pack(answer(q))
				return b[:len(b)-3] // the last record's data cut short; the header still counts it
			}, goErr: "cannot unmarshal DNS message", finding: "cannot unmarshal DNS message"},
		{name: "a truncated answer whose retry over TCP is refused",
			mangle: func(q *dns.Msg) []byte {
				m := answer(q)
				m.Answer, m.Truncated = nil, true
				return pack(m)
			}, goErr: "connection refused", tcpDead: true, finding: "the retry was refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startResolver(t, tt.mangle)
			_, err := r.lookup(modHost)
			switch {
			case tt.goErr == "" && err != nil:
				t.Fatalf("the go resolver rejected it: %v", err)
			case tt.goErr != "" && (err == nil || !strings.Contains(err.Error(), tt.goErr)):
				var de *net.DNSError
				errors.As(err, &de)
				t.Fatalf("the go resolver said %v, want %q", err, tt.goErr)
			}
			r.mu.Lock()
			wire := append([]wireMsg(nil), r.wire...)
			r.mu.Unlock()
			// Replay what passed on the loopback as a capture.
			rep := synthReport(t, func(c *synth.Capture) error {
				srv := synth.Loopback("127.0.0.1")
				me := synth.Loopback("127.0.0.1")
				when := pathT0
				for _, w := range wire {
					when = when.Add(pathMS(0.3))
					if w.response {
						c.UDP(when, srv, 53, me, uint16(w.port), c.IDs(srv), w.data)
					} else {
						c.UDP(when, me, uint16(w.port), srv, 53, c.IDs(me), w.data)
					}
				}
				if tt.tcpDead {
					k := c.Dial(me, srv, 53, pathMS(0.05))
					k.SYN(when.Add(pathMS(0.2)))
					k.Refuse(when.Add(pathMS(0.25)), 64)
				}
				c.Mark(when.Add(1500 * time.Millisecond))
				return nil
			})
			got := findingsOf(rep, "dns-answer-mismatch")
			if len(findingsOf(rep, "dns-timeout")) > 0 {
				t.Errorf("dns-timeout fired beside dns-answer-mismatch: %v", findingIDs(rep))
			}
			if tt.finding == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s / %s", got[0].Summary, got[0].Observed)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one dns-answer-mismatch for the host (all: %v)", findingIDs(rep))
			}
			f := got[0]
			t.Logf("%s | %s", f.Summary, f.Observed)
			if !strings.Contains(f.Summary+" "+f.Observed, tt.finding) || f.Host != modHost || len(f.Evidence) < 2 {
				t.Errorf("finding lacks %q or evidence: %+v", tt.finding, f)
			}
		})
	}
}

func TestDNSTruncatedAnswerRetriedOverTCP(t *testing.T) {
	udp := exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost))
	udp.Responses[0].Truncated = true
	tcp := exchange(5, client, router, modHost, "A", response(8, "NOERROR", 64, modHost, "A 142.250.1.1"))
	tcp.Transport = decode.DNSOverTCP
	tests := []struct {
		name string
		ev   *decode.Events
		want []want
	}{
		{name: "a truncated answer fetched again over TCP is what RFC 7766 asks: nothing to report",
			ev: &decode.Events{DNS: []*decode.DNSExchange{udp, tcp}}},
		{name: "a truncated answer with no TCP retry before the capture ended long after",
			ev:   &decode.Events{DNS: []*decode.DNSExchange{udp}},
			want: []want{{modHost, "error", "no retry over TCP followed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFindings(t, runCheck(t, "dns-answer-mismatch", ctxFor(tt.ev, 5000, Options{})), tt.want...)
		})
	}
	t.Run("a capture that ends right after the truncated answer judges nothing", func(t *testing.T) {
		expectFindings(t, runCheck(t, "dns-answer-mismatch", ctxFor(&decode.Events{DNS: []*decode.DNSExchange{udp}}, 300, Options{})))
	})
}
