package analyze

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/decodetest"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/samples/synth"
)

// The path checks read sequence numbers, ACKs, sizes and TTLs: they are
// tested on packets that go through the real decoder, laid out by the
// sample generator's TCP model (samples/synth), with real crypto/tls
// handshakes where TLS is involved.

var (
	pathMe   = synth.Local("10.0.0.2", net.HardwareAddr{2, 0, 0, 0, 0, 2})
	pathT0   = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	pathPKI  *decodetest.PKI
	pkiOnce  sync.Once
	pkiError error
)

func pathServer() *synth.Host { return synth.Remote("142.250.1.1", 128, 10) }

func pathMS(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// testPKI returns a CA and a leaf for proxy.golang.org.
func testPKI(t *testing.T) *decodetest.PKI {
	t.Helper()
	pkiOnce.Do(func() { pathPKI, pkiError = decodetest.NewPKI(pkix.Name{CommonName: "Path Test Root"}, modHost) })
	if pkiError != nil {
		t.Fatal(pkiError)
	}
	return pathPKI
}

// synthReport lays out a capture with build and analyzes it.
func synthReport(t *testing.T, build func(c *synth.Capture) error) *Report {
	t.Helper()
	c := synth.NewCapture(synth.Ethernet, "eth0", 7)
	if err := build(c); err != nil {
		t.Fatal(err)
	}
	data, err := c.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.pcapng")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := pipeline.Open(0, path, nil, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Build([]*Input{in}, Options{})
}

// findingsOf returns the findings of one check.
func findingsOf(rep *Report, id string) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// tlsConverse runs a real crypto/tls client against server over the
// generator's pipes; the client writes request after the handshake and
// reads until the server closes.
func tlsConverse(t *testing.T, request []byte, server func(net.Conn) error) synth.Conversation {
	t.Helper()
	pki := testPKI(t)
	cfg := &tls.Config{ServerName: modHost, RootCAs: pki.Roots}
	client := func(c net.Conn) error {
		tc := tls.Client(c, cfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		if _, err := tc.Write(request); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, tc)
		return err
	}
	return synth.Converse(client, server)
}

// tlsServerSending answers the request with n bytes of application data.
func tlsServerSending(t *testing.T, n int) func(net.Conn) error {
	pki := testPKI(t)
	scfg := pki.ServerConfig()
	return func(c net.Conn) error {
		tc := tls.Server(c, scfg)
		if err := tc.Handshake(); err != nil {
			return err
		}
		buf := make([]byte, 512)
		if _, err := tc.Read(buf); err != nil {
			return err
		}
		_, err := tc.Write(make([]byte, n))
		return err
	}
}

func TestTLSNotTLS(t *testing.T) {
	plainHTTP := func(c net.Conn) error {
		buf := make([]byte, 4096)
		c.Read(buf) //nolint:errcheck // the ClientHello, whatever it holds
		_, err := io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nServer: squid/6.10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return err
	}
	tests := []struct {
		name, goErr, phrase, hint string
		port                      uint16
		server                    func(net.Conn) error
		want, healthy             bool
	}{
		{name: "a plain HTTP answer on 443 is quoted and blamed on a portal or transparent proxy", port: 443, server: plainHTTP, want: true,
			goErr: "first record does not look like a TLS handshake", phrase: `"HTTP/1.1 400 Bad Request"`, hint: "captive portal"},
		{name: "a plain HTTP proxy asked for TLS is an https:// proxy URL", port: 3128, server: plainHTTP, want: true,
			goErr: "first record does not look like a TLS handshake", phrase: "HTTP/1.1 400", hint: "HTTPS_PROXY=http://"},
		{name: "an SSH banner on 443 is named", port: 443, want: true, phrase: "SSH-2.0-OpenSSH_9.6", hint: "not a TLS server",
			goErr: "first record does not look like a TLS handshake",
			server: func(c net.Conn) error {
				_, err := io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
				return err
			}},
		{name: "a TLS server is not reported", port: 443, server: tlsServerSending(t, 100), healthy: true},
		{name: "a TLS alert is TLS, not something else", port: 443,
			goErr: "handshake failure",
			server: func(c net.Conn) error {
				buf := make([]byte, 4096)
				c.Read(buf)                                      //nolint:errcheck
				_, err := c.Write([]byte{21, 3, 3, 0, 2, 2, 40}) // fatal handshake_failure
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := synthReport(t, func(c *synth.Capture) error {
				k := c.Dial(pathMe, pathServer(), tt.port, pathMS(20))
				tm := k.Handshake(pathT0)
				conv := tlsConverse(t, []byte("GET / HTTP/1.1\r\n\r\n"), tt.server)
				if tt.healthy && conv.ClientErr != nil {
					t.Errorf("the go client failed against a healthy server: %v", conv.ClientErr)
				}
				if tt.goErr != "" && (conv.ClientErr == nil || !strings.Contains(conv.ClientErr.Error(), tt.goErr)) {
					t.Errorf("the go client said %v, want %q", conv.ClientErr, tt.goErr)
				}
				k.Close(k.Play(tm, conv.Transcript, synth.DefaultTiming).Add(pathMS(1)))
				return nil
			})
			got := findingsOf(rep, "tls-not-tls")
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s", got[0].Summary)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d tls-not-tls findings, want 1 (all: %v)", len(got), findingIDs(rep))
			}
			f := got[0]
			t.Logf("%s | %s", f.Summary, f.Observed)
			if !strings.Contains(f.Observed, tt.phrase) || !strings.Contains(f.Hint, tt.hint) || len(f.Evidence) < 2 {
				t.Errorf("finding lacks %q / %q:\n%s\n%s", tt.phrase, tt.hint, f.Observed, f.Hint)
			}
		})
	}
}

// cutServer returns tr with the server's last write cut to keep bytes.
func cutServer(tr synth.Transcript, keep int) synth.Transcript {
	out := append(synth.Transcript(nil), tr...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].Dir == synth.FromServer && len(out[i].Data) > keep {
			out[i].Data = out[i].Data[:keep]
			return out[:i+1]
		}
	}
	return out
}

// untilRequest returns tr up to and including the client's request: the
// first client write after the server's first flight and the client's
// Finished.
func untilRequest(tr synth.Transcript, request []byte) synth.Transcript {
	for i, ch := range tr {
		if ch.Dir == synth.FromClient && len(ch.Data) >= len(request) && i > 1 {
			return tr[:i+1]
		}
	}
	return tr
}

func TestTCPResetMidTransfer(t *testing.T) {
	request := make([]byte, 300)
	tests := []struct {
		name   string
		build  func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time)
		want   bool
		phrase string
	}{
		{name: "a reset injected in the middle of a download, its TTL unlike the server's", want: true, phrase: "injected",
			build: func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time) {
				end := k.Play(t0, cutServer(conv.Transcript, 9000), synth.DefaultTiming)
				k.Send(synth.FromServer, end.Add(pathMS(0.3)), synth.Seg{Flags: synth.RST | synth.ACK, TTL: 50, NoTimestamps: true})
			}},
		{name: "a server-side reset after a minute of waiting for the response reads as an idle timeout", want: true, phrase: "idle timeout",
			build: func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time) {
				end := k.Play(t0, untilRequest(conv.Transcript, request), synth.DefaultTiming)
				k.Reset(synth.FromServer, end.Add(65*time.Second))
			}},
		{name: "the go command resetting its own finished connections at exit is not a finding",
			build: func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time) {
				end := k.Play(t0, conv.Transcript, synth.DefaultTiming)
				k.Reset(synth.FromClient, end.Add(1400*time.Millisecond))
			}},
		{name: "a server closing an idle connection after a complete response is not a finding",
			build: func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time) {
				end := k.Play(t0, conv.Transcript, synth.DefaultTiming)
				k.Fin(synth.FromServer, end.Add(60*time.Second))
				k.Fin(synth.FromClient, end.Add(60*time.Second+pathMS(0.2)))
			}},
		{name: "a capture that ends mid-transfer is not a reset",
			build: func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time) {
				k.Play(t0, cutServer(conv.Transcript, 9000), synth.DefaultTiming)
			}},
		{name: "a reset after the client closed first is not a finding",
			build: func(c *synth.Capture, k *synth.Conn, conv synth.Conversation, t0 time.Time) {
				end := k.Play(t0, cutServer(conv.Transcript, 9000), synth.DefaultTiming)
				k.Fin(synth.FromClient, end.Add(pathMS(1)))
				k.Reset(synth.FromServer, end.Add(pathMS(25)))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := tlsConverse(t, request, tlsServerSending(t, 30000))
			if conv.ClientErr != nil || conv.ServerErr != nil {
				t.Fatalf("the conversation failed: client %v, server %v", conv.ClientErr, conv.ServerErr)
			}
			rep := synthReport(t, func(c *synth.Capture) error {
				k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
				tt.build(c, k, conv, k.Handshake(pathT0))
				return nil
			})
			got := findingsOf(rep, "tcp-reset-mid-transfer")
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s / %s", got[0].Summary, got[0].Observed)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1 (all: %v)", len(got), findingIDs(rep))
			}
			t.Logf("%s | %s", got[0].Summary, got[0].Observed)
			if !strings.Contains(got[0].Observed+got[0].Hint, tt.phrase) {
				t.Errorf("finding lacks %q: %s", tt.phrase, got[0].Observed)
			}
		})
	}
	t.Run("a capture that begins mid-connection is not a reset", func(t *testing.T) {
		rep := synthReport(t, func(c *synth.Capture) error {
			k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
			end := k.Data(synth.FromServer, pathT0, pathMS(0.1), append([]byte{23, 3, 3, 0x40, 0}, make([]byte, 5000)...))
			k.Ack(synth.FromClient, end.Add(pathMS(0.1)))
			k.Send(synth.FromServer, end.Add(pathMS(0.3)), synth.Seg{Flags: synth.RST | synth.ACK, TTL: 50})
			return nil
		})
		if got := findingsOf(rep, "tcp-reset-mid-transfer"); len(got) != 0 {
			t.Fatalf("unexpected finding: %s", got[0].Summary)
		}
	})
	t.Run("a reset right after the ClientHello is tcp-reset-after-hello's, not this one", func(t *testing.T) {
		conv := tlsConverse(t, request, tlsServerSending(t, 100))
		rep := synthReport(t, func(c *synth.Capture) error {
			k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
			end := k.Data(synth.FromClient, k.Handshake(pathT0), 0, conv.Transcript[0].Data)
			k.Send(synth.FromServer, end.Add(pathMS(9)), synth.Seg{Flags: synth.RST | synth.ACK, TTL: 50})
			return nil
		})
		if got := findingsOf(rep, "tcp-reset-mid-transfer"); len(got) != 0 {
			t.Fatalf("unexpected finding: %s", got[0].Summary)
		}
		if got := findingsOf(rep, "tcp-reset-after-hello"); len(got) != 1 {
			t.Fatalf("want tcp-reset-after-hello, got %v", findingIDs(rep))
		}
	})
}

// pmtuBase opens a connection and sends a ClientHello-sized request.
func pmtuBase(c *synth.Capture) (*synth.Conn, time.Time) {
	k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
	t := k.Handshake(pathT0)
	return k, k.Data(synth.FromClient, t.Add(pathMS(0.1)), 0, append([]byte{22, 3, 1, 1, 0x27}, make([]byte, 295)...))
}

func TestTCPPMTUBlackhole(t *testing.T) {
	tests := []struct {
		name   string
		build  func(c *synth.Capture) error
		want   bool
		phrase string
	}{
		{name: "seen from the receiver: full-size segments never arrive, the small one after them does, the client gives up", want: true,
			phrase: "2896 bytes from 142.250.1.1:443 never arrived",
			build: func(c *synth.Capture) error {
				k, t := pmtuBase(c)
				segs := k.Segments(synth.FromServer, make([]byte, 4000))
				k.Send(synth.FromServer, t.Add(pathMS(21)), segs[len(segs)-1])
				k.Advance(synth.FromServer, 4000)
				k.Ack(synth.FromClient, t.Add(pathMS(21.1)))
				k.Fin(synth.FromClient, t.Add(10*time.Second))
				return nil
			}},
		{name: "seen from the sender: the same full-size segment retransmitted, a router's ICMP ignored", want: true,
			phrase: "next-hop MTU is 1400",
			build: func(c *synth.Capture) error {
				k, t := pmtuBase(c)
				k.Ack(synth.FromServer, t.Add(pathMS(20))) // the request was acknowledged
				t = t.Add(pathMS(30))
				segs := k.Segments(synth.FromClient, make([]byte, 4000))
				var first []byte
				for i, s := range segs {
					s.Lost = i < len(segs)-1
					ip := k.Send(synth.FromClient, t.Add(time.Duration(i)*pathMS(0.02)), s)
					if i == 0 {
						first = ip
					}
				}
				k.Advance(synth.FromClient, 4000)
				c.ICMPFragNeeded(t.Add(pathMS(5)), synth.Remote("10.8.0.1", 64, 1), pathMe, 1400, first)
				k.Ack(synth.FromServer, t.Add(pathMS(20)))
				rto := pathMS(220)
				for when := t.Add(rto); when.Before(t.Add(9 * time.Second)); rto *= 2 {
					s := segs[0]
					s.Lost = true
					k.Send(synth.FromClient, when, s)
					when = when.Add(rto)
				}
				return nil
			}},
		{name: "ordinary loss that recovers is not a black hole",
			build: func(c *synth.Capture) error {
				k, t := pmtuBase(c)
				segs := k.Segments(synth.FromServer, make([]byte, 4000))
				k.Send(synth.FromServer, t.Add(pathMS(21)), segs[len(segs)-1])
				k.Advance(synth.FromServer, 4000)
				k.Ack(synth.FromClient, t.Add(pathMS(21.1)))
				for i, s := range segs[:len(segs)-1] {
					k.Send(synth.FromServer, t.Add(pathMS(250+0.1*float64(i))), s) // the retransmissions arrive
				}
				k.Ack(synth.FromClient, t.Add(pathMS(251)))
				k.Fin(synth.FromClient, t.Add(10*time.Second))
				return nil
			}},
		{name: "a sender's retransmission that gets through is ordinary loss",
			build: func(c *synth.Capture) error {
				k, t := pmtuBase(c)
				t = t.Add(pathMS(30))
				segs := k.Segments(synth.FromClient, make([]byte, 4000))
				for i, s := range segs {
					s.Lost = i == 0
					k.Send(synth.FromClient, t.Add(time.Duration(i)*pathMS(0.02)), s)
				}
				k.Advance(synth.FromClient, 4000)
				k.Ack(synth.FromServer, t.Add(pathMS(20)))
				k.Send(synth.FromClient, t.Add(pathMS(220)), segs[0])
				k.Send(synth.FromClient, t.Add(pathMS(660)), segs[0]) // a spurious second one
				k.Ack(synth.FromServer, t.Add(pathMS(700)))
				k.Fin(synth.FromClient, t.Add(3*time.Second))
				return nil
			}},
		{name: "a capture that simply ends during a stall is not a black hole",
			build: func(c *synth.Capture) error {
				k, t := pmtuBase(c)
				segs := k.Segments(synth.FromServer, make([]byte, 4000))
				k.Send(synth.FromServer, t.Add(pathMS(21)), segs[len(segs)-1])
				k.Advance(synth.FromServer, 4000)
				k.Ack(synth.FromClient, t.Add(pathMS(21.1)))
				c.Mark(t.Add(3 * time.Second))
				return nil
			}},
		{name: "a stall that lasts less than a second before the close is not judged",
			build: func(c *synth.Capture) error {
				k, t := pmtuBase(c)
				segs := k.Segments(synth.FromServer, make([]byte, 4000))
				k.Send(synth.FromServer, t.Add(pathMS(21)), segs[len(segs)-1])
				k.Advance(synth.FromServer, 4000)
				k.Ack(synth.FromClient, t.Add(pathMS(21.1)))
				k.Reset(synth.FromClient, t.Add(pathMS(300)))
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := synthReport(t, tt.build)
			got := findingsOf(rep, "tcp-pmtu-blackhole")
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s / %s", got[0].Summary, got[0].Observed)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want 1 (all: %v)", len(got), findingIDs(rep))
			}
			t.Logf("%s | %s | %s", got[0].Summary, got[0].Observed, got[0].WiresharkFilter)
			if !strings.Contains(got[0].Observed, tt.phrase) {
				t.Errorf("finding lacks %q: %s", tt.phrase, got[0].Observed)
			}
		})
	}
}

func TestTCPIPv6Broken(t *testing.T) {
	me6 := synth.Local("2a02:810d:4b40:2a00::71", net.HardwareAddr{2, 0, 0, 0, 0, 2})
	const v6, v4 = "2a00:1450:4001:82f::2011", "142.250.1.1"
	lookup := func(c *synth.Capture) time.Time {
		r := c.Resolver(pathMe, synth.Neighbor("10.0.0.1", synth.Gateway, 64), pathMS(3), 1232)
		return r.GoLookup(pathT0, modHost, []string{modHost + ". 300 IN A " + v4}, []string{modHost + ". 300 IN AAAA " + v6})
	}
	v4Fetch := func(c *synth.Capture, at time.Time) {
		k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
		end := k.Data(synth.FromClient, k.Handshake(at).Add(pathMS(0.1)), 0, make([]byte, 300))
		end = k.Data(synth.FromServer, end.Add(pathMS(21)), pathMS(0.1), make([]byte, 3000))
		k.Close(end.Add(pathMS(1)))
	}
	tests := []struct {
		name           string
		build          func(c *synth.Capture)
		severity, what string // "" severity: no finding
	}{
		{name: "unanswered IPv6 SYNs with a working IPv4 fallback are a warning, with the fallback's cost", severity: "warning", what: "reached 300ms after",
			build: func(c *synth.Capture) {
				t := lookup(c)
				c.Dial(me6, synth.Remote(v6, 64, 12), 443, pathMS(20)).SYN(t.Add(pathMS(0.2)))
				v4Fetch(c, t.Add(pathMS(300.2)))
				c.Mark(t.Add(5 * time.Second))
			}},
		{name: "refused IPv6 without any IPv4 that works is an error", severity: "error", what: "refused",
			build: func(c *synth.Capture) {
				t := lookup(c)
				k := c.Dial(me6, synth.Remote(v6, 64, 12), 443, pathMS(20))
				k.SYN(t.Add(pathMS(0.2)))
				k.Refuse(t.Add(pathMS(20.2)), 52)
			}},
		{name: "an IPv6 connection that stalls after its handshake where IPv4 works", severity: "warning", what: "stalled",
			build: func(c *synth.Capture) {
				t := lookup(c)
				k := c.Dial(me6, synth.Remote(v6, 64, 12), 443, pathMS(20))
				end := k.Data(synth.FromClient, k.Handshake(t.Add(pathMS(0.2))).Add(pathMS(0.1)), 0, make([]byte, 300))
				k.Reset(synth.FromClient, end.Add(10*time.Second))
				v4Fetch(c, end.Add(10*time.Second+pathMS(1)))
			}},
		{name: "an IPv4-only machine that never dials the AAAA addresses is normal",
			build: func(c *synth.Capture) { v4Fetch(c, lookup(c).Add(pathMS(0.2))) }},
		{name: "working IPv6 is not reported",
			build: func(c *synth.Capture) {
				t := lookup(c)
				k := c.Dial(me6, synth.Remote(v6, 64, 12), 443, pathMS(20))
				end := k.Data(synth.FromClient, k.Handshake(t.Add(pathMS(0.2))).Add(pathMS(0.1)), 0, make([]byte, 300))
				end = k.Data(synth.FromServer, end.Add(pathMS(21)), pathMS(0.1), make([]byte, 3000))
				k.Close(end.Add(pathMS(1)))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := synthReport(t, func(c *synth.Capture) error { tt.build(c); return nil })
			got := findingsOf(rep, "tcp-ipv6-broken")
			if n := len(findingsOf(rep, "tcp-connect-timeout")) + len(findingsOf(rep, "tcp-connect-refused")); n > 0 {
				t.Errorf("tcp-connect-* repeats the IPv6 half: %v", findingIDs(rep))
			}
			if tt.severity == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s", got[0].Summary)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d findings, want one for the host (all: %v)", len(got), findingIDs(rep))
			}
			t.Logf("%s | %s", got[0].Summary, got[0].Observed)
			if got[0].Severity.String() != tt.severity || got[0].Host != modHost || !strings.Contains(got[0].Observed, tt.what) {
				t.Errorf("got %s %s: %s", got[0].Severity, got[0].Host, got[0].Observed)
			}
		})
	}
	t.Run("no IPv6 SYN at all, but the go command says the address could not be assigned", func(t *testing.T) {
		ev := &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "AAAA", response(2, "NOERROR", 64, modHost, "AAAA "+v6))}}
		ctx := ctxFor(ev, 3000, Options{})
		exit := 1
		m := &capture.Metadata{ExitStatus: &exit, StderrTail: `go: rsc.io/quote@v1.5.2: Get "https://proxy.golang.org/rsc.io/quote/@v/v1.5.2.info": dial tcp [` + v6 + `]:443: connect: cannot assign requested address`}
		comments, err := m.Comments()
		if err != nil {
			t.Fatal(err)
		}
		ctx.Inputs = []*Input{{Sections: []capture.Section{{Comments: comments}}}}
		expectFindings(t, runCheck(t, "tcp-ipv6-broken", ctx), want{modHost, "error", "cannot assign requested address"})
	})
}

// closingProxy accepts one connection on 127.0.0.1, reads the client's
// first message (an HTTP CONNECT head, or a SOCKS5 greeting) and closes
// without answering. It returns the proxy's address and a channel that
// yields what the client sent.
func closingProxy(t *testing.T, socks bool) (string, <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		var msg []byte
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			msg = append(msg, buf[:n]...)
			if err != nil || (socks && len(msg) >= 2 && len(msg) >= 2+int(msg[1])) || (!socks && strings.Contains(string(msg), "\r\n\r\n")) {
				break
			}
		}
		c.Close()
		got <- msg
	}()
	return ln.Addr().String(), got
}

func TestProxyClosedWithoutResponse(t *testing.T) {
	tests := []struct {
		name, scheme, goErr, phrase string
		port                        uint16
	}{
		{name: "an HTTP proxy that accepts and closes without answering the CONNECT", scheme: "http",
			goErr: "EOF", phrase: "without any response to the CONNECT", port: 3128},
		{name: "a SOCKS5 proxy that closes right after the greeting", scheme: "socks5",
			goErr: "EOF", phrase: "right after the SOCKS5 greeting", port: 1080},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, sent := closingProxy(t, tt.scheme == "socks5")
			pu, _ := url.Parse(tt.scheme + "://" + addr)
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
			_, err := hc.Get("https://" + modHost + "/rsc.io/quote/@v/list")
			if err == nil || !strings.Contains(err.Error(), tt.goErr) {
				t.Fatalf("the go client said %v, want %q", err, tt.goErr)
			}
			t.Logf("go said: %v", err)
			msg := <-sent
			if len(msg) == 0 {
				t.Fatal("the proxy received nothing")
			}
			rep := synthReport(t, func(c *synth.Capture) error {
				k := c.Dial(pathMe, synth.Remote("10.20.0.8", 64, 2), tt.port, pathMS(0.6))
				end := k.Data(synth.FromClient, k.Handshake(pathT0).Add(pathMS(0.1)), 0, msg)
				k.Fin(synth.FromServer, end.Add(pathMS(0.8)))
				k.Fin(synth.FromClient, end.Add(pathMS(1)))
				return nil
			})
			got := findingsOf(rep, "proxy-connect-failed")
			if len(got) != 1 || !strings.Contains(got[0].Summary, tt.phrase) {
				t.Fatalf("want one proxy-connect-failed saying %q, got %+v (all %v)", tt.phrase, got, findingIDs(rep))
			}
		})
	}
	t.Run("a proxy connection the client closes first is not a silent proxy", func(t *testing.T) {
		rep := synthReport(t, func(c *synth.Capture) error {
			k := c.Dial(pathMe, synth.Remote("10.20.0.8", 64, 2), 3128, pathMS(0.6))
			end := k.Data(synth.FromClient, k.Handshake(pathT0).Add(pathMS(0.1)), 0, []byte("CONNECT proxy.golang.org:443 HTTP/1.1\r\nHost: proxy.golang.org:443\r\n\r\n"))
			k.Close(end.Add(pathMS(5)))
			return nil
		})
		if got := findingsOf(rep, "proxy-connect-failed"); len(got) != 0 {
			t.Fatalf("unexpected finding: %s", got[0].Summary)
		}
	})
}

func TestDNSNAT64Unreachable(t *testing.T) {
	me6 := synth.Local("2001:db8:64::71", net.HardwareAddr{2, 0, 0, 0, 0, 2})
	dns64 := synth.Neighbor("2001:db8:64::1", synth.Gateway, 64)
	tests := []struct {
		name, addr, phrase string
		prefixQuery        string // an ipv4only.arpa answer, when set
		answered, want     bool
	}{
		{name: "an address in the well-known prefix whose SYNs go unanswered", addr: "64:ff9b::8efb:2471", want: true, phrase: "64:ff9b::/96"},
		{name: "a network-specific prefix learned from ipv4only.arpa", addr: "2001:db8:1:ffff::8efb:2471",
			prefixQuery: "2001:db8:1:ffff::c000:aa", want: true, phrase: "2001:db8:1:ffff::/96"},
		{name: "a NAT64 that answers is not reported", addr: "64:ff9b::8efb:2471", answered: true},
		{name: "an address outside any NAT64 prefix is tcp-ipv6-broken's, not this check's", addr: "2a00:1450:4001:82f::2011"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := synthReport(t, func(c *synth.Capture) error {
				r := c.Resolver(me6, dns64, pathMS(2), 1232)
				tm := pathT0
				if tt.prefixQuery != "" {
					tm = r.GoLookup(tm, "ipv4only.arpa", nil, []string{"ipv4only.arpa. 3600 IN AAAA " + tt.prefixQuery})
				}
				tm = r.GoLookup(tm, modHost, nil, []string{modHost + ". 300 IN AAAA " + tt.addr})
				k := c.Dial(me6, synth.Remote(tt.addr, 64, 12), 443, pathMS(30))
				if tt.answered {
					k.Close(k.Handshake(tm.Add(pathMS(0.2))).Add(pathMS(5)))
				} else {
					k.SYNTimeout(tm.Add(pathMS(0.2)), tm.Add(10*time.Second))
				}
				return nil
			})
			got := findingsOf(rep, "dns-nat64-unreachable")
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s", got[0].Summary)
				}
				return
			}
			if len(got) != 1 || got[0].Host != modHost || !strings.Contains(got[0].Observed, tt.phrase) {
				t.Fatalf("want one finding naming %s, got %+v (all %v)", tt.phrase, got, findingIDs(rep))
			}
			if n := len(findingsOf(rep, "tcp-ipv6-broken")) + len(findingsOf(rep, "tcp-connect-timeout")); n > 0 {
				t.Errorf("the NAT64 attempts were reported twice: %v", findingIDs(rep))
			}
		})
	}
}

func TestSOCKSLocalDNS(t *testing.T) {
	tunnel := func(n int, target string) *decode.Tunnel {
		return &decode.Tunnel{Kind: "socks5", Client: addrPortOf("10.0.0.2:40000"), Proxy: addrPortOf("127.0.0.1:1080"),
			Target: target, Request: at(n), Method: 0, Response: at(n + 1), Established: true}
	}
	tests := []struct {
		name string
		ev   *decode.Events
		want []want
	}{
		{name: "a tunnel by address after a local lookup is context",
			ev: &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 142.250.1.1"))},
				Proxy: []*decode.Tunnel{tunnel(5, "142.250.1.1:443")}},
			want: []want{{modHost, "info", "asked 127.0.0.1:1080 for 142.250.1.1:443"}}},
		{name: "a tunnel to a fake-IP answer is a warning",
			ev: &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 198.18.0.21"))},
				Proxy: []*decode.Tunnel{tunnel(5, "198.18.0.21:443")}},
			want: []want{{modHost, "warning", "fake-IP"}}},
		{name: "a tunnel by name lets the proxy resolve: nothing to say",
			ev: &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 142.250.1.1"))},
				Proxy: []*decode.Tunnel{tunnel(5, modHost+":443")}}},
		{name: "an address no lookup in the capture answered is not attributed",
			ev: &decode.Events{Proxy: []*decode.Tunnel{tunnel(5, "142.250.1.1:443")}}},
		{name: "a lookup after the tunnel request did not choose its address",
			ev: &decode.Events{DNS: []*decode.DNSExchange{exchange(8, client, router, modHost, "A", response(9, "NOERROR", 64, modHost, "A 142.250.1.1"))},
				Proxy: []*decode.Tunnel{tunnel(5, "142.250.1.1:443")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectFindings(t, runCheck(t, "socks-local-dns", ctxFor(tt.ev, 100, Options{})), tt.want...)
		})
	}
}

// TestGoSendsNamesToSOCKS5 pins the premise of socks-local-dns on the real
// go client: net/http asks a socks5:// proxy for the host name (ATYP 3),
// so the go command's own tunnels never trigger the check.
func TestGoSendsNamesToSOCKS5(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		defer c.Close()
		greeting := make([]byte, 3)
		io.ReadFull(c, greeting) //nolint:errcheck
		c.Write([]byte{5, 0})    //nolint:errcheck
		head := make([]byte, 5)
		io.ReadFull(c, head) //nolint:errcheck
		rest := make([]byte, int(head[4])+2)
		io.ReadFull(c, rest)                          //nolint:errcheck
		c.Write([]byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}) //nolint:errcheck // not allowed by ruleset
		got <- append(append(greeting, head...), rest...)
	}()
	pu, _ := url.Parse("socks5://" + ln.Addr().String())
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	if _, err := hc.Get("https://" + modHost + "/"); err == nil {
		t.Fatal("the refused tunnel succeeded")
	}
	msg := <-got
	if len(msg) < 7 || msg[6] != 3 {
		t.Fatalf("go's SOCKS5 request % x: want ATYP 3 (a domain name)", msg)
	}
	rep := synthReport(t, func(c *synth.Capture) error {
		r := c.Resolver(pathMe, synth.Neighbor("10.0.0.1", synth.Gateway, 64), pathMS(3), 1232)
		tm := r.GoLookup(pathT0, modHost, []string{modHost + ". 300 IN A 142.250.1.1"}, nil)
		k := c.Dial(pathMe, synth.Loopback("127.0.0.1"), 1080, pathMS(0.03))
		end := k.Data(synth.FromClient, k.Handshake(tm).Add(pathMS(0.1)), 0, msg[:3])
		end = k.Data(synth.FromServer, end.Add(pathMS(0.1)), 0, []byte{5, 0})
		end = k.Data(synth.FromClient, end.Add(pathMS(0.1)), 0, msg[3:])
		k.Data(synth.FromServer, end.Add(pathMS(0.1)), 0, []byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0})
		return nil
	})
	if f := findingsOf(rep, "socks-local-dns"); len(f) != 0 {
		t.Fatalf("the go command's tunnel by name was reported: %s", f[0].Summary)
	}
	if f := findingsOf(rep, "proxy-connect-failed"); len(f) != 1 {
		t.Fatalf("the refused tunnel was not decoded: %v", findingIDs(rep))
	}
}

func TestCaptureOneSided(t *testing.T) {
	conn := func(n int, server string, client, srv int, syns int) *decode.TCPConn {
		c := &decode.TCPConn{Client: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(40000+n)),
			Server: addrPortOf(server), First: at(n), Last: at(n + 50)}
		for i := range syns {
			c.AddSYN(at(n + i*1000))
		}
		c.Packets = [2]int32{int32(client), int32(srv)}
		if client > syns {
			c.Payload[0] = 500
		}
		if srv > 1 {
			c.Payload[1] = 3000
			c.SYNACK = at(n + 1)
		}
		return c
	}
	tests := []struct {
		name       string
		tcp        []*decode.TCPConn
		oneSided   bool
		timeoutSev string // severity tcp-connect-timeout ends with
	}{
		{name: "outbound-only flows with ACKs and data prove a one-sided capture, and a timeout is downgraded",
			tcp: []*decode.TCPConn{conn(1, "142.250.1.1:443", 12, 0, 1), conn(100, "142.250.1.2:443", 9, 0, 1),
				conn(200, "142.250.1.3:443", 4, 0, 4)},
			oneSided: true, timeoutSev: "info"},
		{name: "unanswered SYNs alone are not a one-sided capture: the timeout stays an error",
			tcp:        []*decode.TCPConn{conn(1, "142.250.1.1:443", 4, 0, 4), conn(100, "142.250.1.2:443", 4, 0, 4)},
			timeoutSev: "error"},
		{name: "a two-way capture with one odd flow is not one-sided",
			tcp: []*decode.TCPConn{conn(1, "142.250.1.1:443", 12, 10, 1), conn(100, "142.250.1.2:443", 9, 8, 1),
				conn(200, "142.250.1.3:443", 9, 0, 1), conn(300, "142.250.1.4:443", 4, 0, 4)},
			timeoutSev: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := run(ctxFor(&decode.Events{TCP: tt.tcp}, 30000, Options{}))
			var gotOneSided bool
			sev := ""
			for _, f := range fs {
				switch f.ID {
				case "capture-one-sided":
					gotOneSided = true
				case "tcp-connect-timeout":
					sev = f.Severity.String()
				}
			}
			if gotOneSided != tt.oneSided || sev != tt.timeoutSev {
				t.Fatalf("one-sided %v (want %v), timeout %q (want %q): %v", gotOneSided, tt.oneSided, sev, tt.timeoutSev, fs)
			}
		})
	}
}

func TestProxyBypassed(t *testing.T) {
	squid := synth.Remote("10.20.0.8", 64, 2)
	lookup := func(c *synth.Capture) time.Time {
		r := c.Resolver(pathMe, synth.Neighbor("10.0.0.1", synth.Gateway, 64), pathMS(1), 1232)
		return r.GoLookup(pathT0, modHost, []string{modHost + ". 300 IN A 142.250.1.1"}, nil)
	}
	tunnel := func(c *synth.Capture, at time.Time) {
		k := c.Dial(pathMe, squid, 3128, pathMS(0.6))
		client := synth.ConnectClient("example.com:443", func(net.Conn) error { return nil })
		server := synth.ConnectServer("HTTP/1.1 200 Connection established\r\n\r\n", func(net.Conn) error { return nil })
		end, _ := k.Run(k.Handshake(at), client, server, synth.DefaultTiming)
		k.Close(end.Add(pathMS(1)))
	}
	tests := []struct {
		name  string
		build func(c *synth.Capture)
		want  bool
	}{
		{name: "another program's tunnel works while the go command's direct SYNs to the proxy go unanswered", want: true,
			build: func(c *synth.Capture) {
				t := lookup(c)
				tunnel(c, t)
				c.Dial(pathMe, pathServer(), 443, pathMS(20)).SYNTimeout(t.Add(pathMS(10)), t.Add(10*time.Second))
			}},
		{name: "a direct connection that works is not a bypass worth reporting",
			build: func(c *synth.Capture) {
				t := lookup(c)
				tunnel(c, t)
				k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
				k.Close(k.Handshake(t.Add(pathMS(10))).Add(pathMS(5)))
			}},
		{name: "failing direct connections without any known proxy are not a bypass",
			build: func(c *synth.Capture) {
				t := lookup(c)
				c.Dial(pathMe, pathServer(), 443, pathMS(20)).SYNTimeout(t.Add(pathMS(10)), t.Add(10*time.Second))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := synthReport(t, func(c *synth.Capture) error { tt.build(c); return nil })
			got := findingsOf(rep, "proxy-bypassed")
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s", got[0].Summary)
				}
				return
			}
			if len(got) != 1 || got[0].Host != modHost || got[0].Severity != Error || !strings.Contains(got[0].Observed, "tunnelled example.com:443 through 10.20.0.8:3128") {
				t.Fatalf("got %+v (all %v)", got, findingIDs(rep))
			}
		})
	}
	t.Run("a NO_PROXY entry that matches the module host is named", func(t *testing.T) {
		c := &decode.TCPConn{Client: addrPortOf(client), Server: addrPortOf("142.250.1.1:443"), First: at(3), Last: at(3003),
			Extra: &decode.TCPExtra{SYN: []capture.Ref{at(3), at(1003), at(3003)}}, Packets: [2]int32{3, 0}}
		ev := &decode.Events{DNS: []*decode.DNSExchange{exchange(1, client, router, modHost, "A", response(2, "NOERROR", 64, modHost, "A 142.250.1.1"))},
			TCP: []*decode.TCPConn{c}}
		ctx := ctxFor(ev, 5000, Options{})
		m := &capture.Metadata{Env: map[string]string{"HTTPS_PROXY": "http://user:secret@10.20.0.8:3128", "NO_PROXY": "localhost,.golang.org"}}
		comments, err := m.Comments()
		if err != nil {
			t.Fatal(err)
		}
		ctx.Inputs = []*Input{{Sections: []capture.Section{{Comments: comments}}}}
		got := runCheck(t, "proxy-bypassed", ctx)
		expectFindings(t, got, want{modHost, "warning", `NO_PROXY entry ".golang.org" matches`})
		if strings.Contains(got[0].Observed, "secret") {
			t.Errorf("the proxy password leaked: %s", got[0].Observed)
		}
	})
}

func TestProxyPACRequired(t *testing.T) {
	dnsHost := synth.Neighbor("10.0.0.1", synth.Gateway, 64)
	wpad := func(c *synth.Capture, rcode int) time.Time {
		r := c.Resolver(pathMe, dnsHost, pathMS(1), 1232)
		q := r.GoQuery(pathT0, "wpad.corp.example", dns.TypeA)
		m := q.Reply(rcode)
		if rcode == dns.RcodeSuccess {
			rr, _ := dns.NewRR("wpad.corp.example. 300 IN A 10.20.0.80")
			m.Answer = append(m.Answer, rr)
		}
		q.Respond(pathT0.Add(pathMS(1)), m)
		return r.GoLookup(pathT0.Add(pathMS(5)), modHost, []string{modHost + ". 300 IN A 142.250.1.1"}, nil)
	}
	pacFetch := func(c *synth.Capture, at time.Time) {
		k := c.Dial(pathMe, synth.Remote("10.20.0.80", 64, 2), 80, pathMS(0.5))
		xs := []synth.Exchange{{Method: "GET", Path: "/wpad.dat", Response: synth.Response{Status: 200,
			Header: [][2]string{{"Content-Type", "application/x-ns-proxy-autoconfig"}},
			Body:   []byte(`function FindProxyForURL(url, host) { return "PROXY proxy.corp.example:3128"; }`)}}}
		end, _ := k.Run(k.Handshake(at), synth.HTTPClient("10.20.0.80", xs), synth.HTTPServer(xs), synth.DefaultTiming)
		k.Close(end.Add(pathMS(1)))
	}
	tests := []struct {
		name  string
		build func(c *synth.Capture)
		want  bool
	}{
		{name: "a PAC fetched while direct SYNs to the module proxy go unanswered", want: true,
			build: func(c *synth.Capture) {
				t := wpad(c, dns.RcodeSuccess)
				pacFetch(c, t)
				c.Dial(pathMe, pathServer(), 443, pathMS(20)).SYNTimeout(t.Add(pathMS(50)), t.Add(10*time.Second))
			}},
		{name: "a WPAD lookup answered NXDOMAIN announces nothing",
			build: func(c *synth.Capture) {
				t := wpad(c, dns.RcodeNameError)
				c.Dial(pathMe, pathServer(), 443, pathMS(20)).SYNTimeout(t.Add(pathMS(50)), t.Add(10*time.Second))
			}},
		{name: "WPAD on a network where direct connections work is harmless",
			build: func(c *synth.Capture) {
				t := wpad(c, dns.RcodeSuccess)
				pacFetch(c, t)
				k := c.Dial(pathMe, pathServer(), 443, pathMS(20))
				k.Close(k.Handshake(t.Add(pathMS(50))).Add(pathMS(3)))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := synthReport(t, func(c *synth.Capture) error { tt.build(c); return nil })
			got := findingsOf(rep, "proxy-pac-required")
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("unexpected finding: %s", got[0].Summary)
				}
				return
			}
			if len(got) != 1 || got[0].Host != modHost || !strings.Contains(got[0].Hint, "http://10.20.0.80/wpad.dat") {
				t.Fatalf("got %+v (all %v)", got, findingIDs(rep))
			}
		})
	}
}
