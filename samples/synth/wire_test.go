package synth

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// decodeCapture reads a synthesized capture back with modsniff's reader
// and decoder.
func decodeCapture(t *testing.T, c *Capture) *decode.Events {
	t.Helper()
	b, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(b), "synth")
	if err != nil {
		t.Fatal(err)
	}
	in := pipeline.Decode(0, "synth", r, decode.Options{})
	if errs := in.Info.Errors; len(errs) > 0 {
		t.Fatalf("reading back: %v", errs)
	}
	return in.Events
}

func TestFramesDecodeOnEveryLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		link Link
	}{{"ethernet", Ethernet}, {"sll2", SLL2}} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCapture(tc.link, "test", 1)
			client, server := Local("192.168.1.23", []byte{2, 0, 0, 0, 0, 1}), Remote("142.251.36.113", 128, 10)
			r := c.Resolver(Loopback("127.0.0.1"), Loopback("127.0.0.53"), time.Millisecond, 0)
			r.GoLookup(BaseTime, "proxy.golang.org", []string{"proxy.golang.org. 300 IN A 142.251.36.113"}, nil)
			k := c.Dial(client, server, 443, 18*time.Millisecond)
			at := k.Handshake(BaseTime.Add(2 * time.Millisecond))
			k.Play(at, Transcript{{Dir: FromClient, Data: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
				{Dir: FromServer, Data: bytes.Repeat([]byte("a"), 4000)}}, DefaultTiming)
			ev := decodeCapture(t, c)
			if len(ev.DNS) != 2 || len(ev.DNS[0].Responses) != 1 {
				t.Errorf("DNS: %d exchanges", len(ev.DNS))
			}
			if len(ev.TCP) != 1 || ev.TCP[0].SYNACK.IsZero() || ev.TCP[0].Payload[1] != 4000 || ev.TCP[0].SYNACKIP.TTL != 118 {
				t.Errorf("TCP: %+v", ev.TCP)
			}
		})
	}
}

func TestFragmentsReassembleInAnyOrder(t *testing.T) {
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		c := NewCapture(Ethernet, "test", 2)
		client, srv := Local("192.168.1.23", []byte{2, 0, 0, 0, 0, 1}), Remote("10.20.0.53", 64, 3)
		r := c.Resolver(client, srv, 30*time.Millisecond, 1232)
		q := r.GoQuery(BaseTime, "big.example", dns.TypeTXT)
		m := q.Reply(dns.RcodeSuccess, "big.example. 60 IN TXT \""+string(bytes.Repeat([]byte("x"), 200))+"\" \""+
			string(bytes.Repeat([]byte("y"), 200))+"\"")
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		c.Fragmented(BaseTime.Add(30*time.Millisecond), time.Millisecond, srv, 53, client, q.Port, 300, order, b)
		ev := decodeCapture(t, c)
		if len(ev.DNS) != 1 || len(ev.DNS[0].Responses) != 1 {
			t.Errorf("order %v: the fragmented response was not reassembled", order)
		}
	}
}

func TestAckStopsAtTheFirstHole(t *testing.T) {
	c := NewCapture(Ethernet, "test", 3)
	k := c.Dial(Local("192.168.1.23", []byte{2, 0, 0, 0, 0, 1}), Remote("142.251.36.113", 128, 10), 443, 10*time.Millisecond)
	at := k.Handshake(BaseTime)
	segs := k.Segments(FromServer, bytes.Repeat([]byte("z"), 3000))
	k.Advance(FromServer, 3000)
	start := k.isn[1] + 1
	k.Send(FromServer, at.Add(time.Millisecond), segs[1])
	if ack, _, _ := k.ackFor(FromClient, at.Add(2*time.Millisecond)); ack != start {
		t.Errorf("after the second segment only: ack %d, want %d (the hole)", ack-start, 0)
	}
	k.Send(FromServer, at.Add(3*time.Millisecond), segs[0])
	if ack, _, _ := k.ackFor(FromClient, at.Add(4*time.Millisecond)); ack != segs[1].Seq+uint32(len(segs[1].Payload)) {
		t.Errorf("after the hole is filled: ack %d", ack-start)
	}
}

func TestCutInsideBlockLeavesADamagedButReadableFile(t *testing.T) {
	c := NewCapture(Ethernet, "test", 4)
	r := c.Resolver(Local("192.168.1.23", []byte{2, 0, 0, 0, 0, 1}), Remote("192.168.1.1", 64, 0), time.Millisecond, 0)
	r.GoLookup(BaseTime, "proxy.golang.org", []string{"proxy.golang.org. 300 IN A 142.251.36.113"}, nil)
	b, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := capture.NewReader(bytes.NewReader(CutInsideBlock(b, 2)), "cut")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := rd.Next(); err != nil {
			break
		}
		n++
	}
	if n != 3 || len(rd.Errors()) == 0 {
		t.Errorf("read %d packets and %d errors, want 3 packets (the fourth is cut) and the damage reported", n, len(rd.Errors()))
	}
}

func TestSecretsPrecedeThePackets(t *testing.T) {
	c := NewCapture(Ethernet, "test", 1)
	c.Secrets = []byte("CLIENT_RANDOM 00 11\n")
	k := c.Dial(Local("192.168.1.23", []byte{2, 0, 0, 0, 0, 1}), Remote("142.251.36.113", 128, 10), 443, time.Millisecond)
	k.Handshake(BaseTime)
	b, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	r, err := capture.NewReader(bytes.NewReader(b), "synth")
	if err != nil {
		t.Fatal(err)
	}
	var got []capture.Secrets
	packets := 0
	r.OnSecrets = func(s capture.Secrets) {
		if packets > 0 {
			t.Errorf("the secrets come after %d packets", packets)
		}
		got = append(got, s)
	}
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		packets++
	}
	if len(got) != 1 || got[0].Type != capture.SecretsTLSKeyLog || string(got[0].Data) != string(c.Secrets) {
		t.Errorf("secrets read back: %+v", got)
	}
}

func TestGoAwayErrorsReadLikeGos(t *testing.T) {
	frame := func(last, code uint32, debug string) []byte {
		b := []byte{byte(last >> 24), byte(last >> 16), byte(last >> 8), byte(last), byte(code >> 24), byte(code >> 16), byte(code >> 8), byte(code)}
		return append(b, debug...)
	}
	for _, tc := range []struct {
		stream uint32
		frame  []byte
		want   string
	}{
		{1, frame(0, H2InadequateSecurity, ""), "http2: Transport received GOAWAY from server ErrCode:INADEQUATE_SECURITY"},
		{3, frame(1, 0, ""), `http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug=""`},
		{1, frame(1, 0xb, "calm"), `http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=ENHANCE_YOUR_CALM, debug="calm"`},
	} {
		conv := Converse(func(c net.Conn) error { return goAwayError(c, tc.stream, tc.frame) }, noop)
		if conv.ClientErr == nil || conv.ClientErr.Error() != tc.want {
			t.Errorf("stream %d, GOAWAY %x: %v, want %s", tc.stream, tc.frame, conv.ClientErr, tc.want)
		}
	}
}

func noop(net.Conn) error { return nil }
