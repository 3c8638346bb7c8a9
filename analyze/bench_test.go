package analyze

import (
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"testing"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// hostsEvents builds the events of n hosts, each resolved once and reached
// over TLS 1.3; half the sessions carry no SNI, so that they are named
// from the DNS answers as a connection to an address is.
func hostsEvents(n int) *decode.Events {
	ev := &decode.Events{}
	for i := range n {
		name := fmt.Sprintf("h%d.example.com", i)
		addr := netip.AddrFrom4([4]byte{93, byte(i >> 16), byte(i >> 8), byte(i)})
		q := 10*i + 1
		ev.DNS = append(ev.DNS, exchange(q, "10.0.0.2:40000", "10.0.0.1:53", name, "A",
			response(q+1, "NOERROR", 64, name, "A "+addr.String())))
		sni := name
		if i%2 == 1 {
			sni = ""
		}
		s := tlsSession(sessionSpec{sni: sni, version: tlswire.VersionTLS13, serverRecs: 4, clientRecs: appData(2, 200)})
		s.Conn.Server = netip.AddrPortFrom(addr, 443)
		ev.TCP = append(ev.TCP, s.Conn)
		ev.TLS = append(ev.TLS, s)
	}
	return ev
}

// BenchmarkHosts runs every check and the host verdicts over 2,000 and
// 8,000 hosts: with indexed events the time per run grows about 4× (linear),
// where a per-host scan of every transaction and session grew 16×.
//
//	go test ./analyze -run '^$' -bench Hosts
func BenchmarkHosts(b *testing.B) {
	for _, n := range []int{2000, 8000} {
		ev := hostsEvents(n)
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			for b.Loop() {
				ctx := &Context{Events: ev}
				hosts(ctx, run(ctx))
			}
		})
	}
}

// foreignEvents builds n TLS 1.2 sessions to n/4 hosts whose chains (one
// leaf per host, under a corporate CA or an interception product's CA)
// are in clear, as on a network that inspects TLS.
func foreignEvents(b testing.TB, n int) *decode.Events {
	corp := makeCA(b, pkix.Name{CommonName: "Example Corp Issuing CA", Organization: []string{"Example Corp"}})
	zs := makeCA(b, pkix.Name{CommonName: "Zscaler Intermediate Root CA", Organization: []string{"Zscaler Inc."}})
	ev := &decode.Events{}
	var chains []*tlswire.CertificateMsg
	for h := range n / 4 {
		name := fmt.Sprintf("h%d.example.com", h)
		ca := corp
		if h%3 == 0 {
			ca = zs
		}
		chains = append(chains, chainMsg(ca.leaf(b, name, []string{name}, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0)), ca.cert))
	}
	for i := range n {
		h := i % len(chains)
		s := tlsSession(sessionSpec{sni: fmt.Sprintf("h%d.example.com", h), version: tlswire.VersionTLS12, certs: chains[h],
			serverRecs: 4, clientRecs: appData(2, 200)})
		ev.TCP = append(ev.TCP, s.Conn)
		ev.TLS = append(ev.TLS, s)
	}
	return ev
}

// BenchmarkForeignIssuer runs tls-foreign-issuer over 2,000 and 8,000
// sessions with a distinct chain per host: each chain is judged once and
// each product pattern answered by substring search, so the time grows
// about 4×.
//
//	go test ./analyze -run '^$' -bench ForeignIssuer
func BenchmarkForeignIssuer(b *testing.B) {
	for _, n := range []int{2000, 8000} {
		ev := foreignEvents(b, n)
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			for b.Loop() {
				ctx := &Context{Events: ev}
				if len(runTLSForeignIssuer(ctx)) == 0 {
					b.Fatal("no finding")
				}
			}
		})
	}
}

// BenchmarkRenderJSON writes the JSON report of 8,000 sessions (their
// findings, hosts and events, streamed from the decoded events or built up
// front; and the built events alone), with the appenders and with encoding/json alone (as before the
// appenders, and as for a type whose fields changed); -cpu 1,2 compares
// the sequential writer with the parallel batches.
//
//	go test ./analyze -run '^$' -bench RenderJSON -cpu 1,2
func BenchmarkRenderJSON(b *testing.B) {
	ev := foreignEvents(b, 4000)
	more := hostsEvents(4000)
	ev.DNS, ev.TCP, ev.TLS = append(ev.DNS, more.DNS...), append(ev.TCP, more.TCP...), append(ev.TLS, more.TLS...)
	ctx := &Context{Events: ev}
	findings := run(ctx)
	streamed := &Report{Schema: Schema, Inputs: []InputInfo{}, Findings: findings, Hosts: hosts(ctx, findings), lazy: ev}
	built := *streamed
	built.lazy, built.Events = nil, eventsJSON(ev)
	// The events alone, converted: the encoding and nothing else.
	events := &Report{Schema: Schema, Inputs: []InputInfo{}, Events: built.Events}
	for _, events := range []struct {
		name string
		rep  *Report
	}{{"streamed", streamed}, {"built", &built}, {"events-only", events}} {
		for _, enc := range []string{"appenders", "encoding-json"} {
			b.Run(events.name+"/"+enc, func(b *testing.B) {
				render := func() {
					var out countWriter
					for b.Loop() {
						out = 0
						if err := renderJSON(&out, events.rep); err != nil {
							b.Fatal(err)
						}
					}
					b.SetBytes(int64(out))
				}
				if enc == "encoding-json" {
					withoutAppenders(render)
				} else {
					render()
				}
			})
		}
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
