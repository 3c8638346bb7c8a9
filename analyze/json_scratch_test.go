package analyze

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/modsniff/modsniff/decode/tlswire"
)

// TestScratchFormatsAsTheAllocatingForms formats timestamps, addresses,
// fingerprints and concatenations through one scratch, across begins and
// past its first array, and wants the strings the allocating forms
// return; the strings handed out before the scratch grew keep their text.
func TestScratchFormatsAsTheAllocatingForms(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	type pair struct{ got, want string }
	cases := []func(sc *jsonScratch) pair{
		func(sc *jsonScratch) pair { return pair{sc.timestamp(time.Time{}), Timestamp(time.Time{})} },
		func(sc *jsonScratch) pair {
			at := time.Date(2026, 12, 5, 22, 15, 25, 123456789, zone)
			return pair{sc.timestamp(at), Timestamp(at)}
		},
		func(sc *jsonScratch) pair {
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			return pair{sc.timestamp(at), Timestamp(at)}
		},
		func(sc *jsonScratch) pair {
			a := netip.MustParseAddrPort("192.0.2.1:443")
			return pair{sc.addrPort(a), addrPort(a)}
		},
		func(sc *jsonScratch) pair {
			a := netip.MustParseAddrPort("[fe80::1%eth0]:53")
			return pair{sc.addrPort(a), addrPort(a)}
		},
		func(sc *jsonScratch) pair {
			a := netip.MustParseAddrPort("[::ffff:192.0.2.1]:80")
			return pair{sc.addrPort(a), addrPort(a)}
		},
		func(sc *jsonScratch) pair { return pair{sc.addrPort(netip.AddrPort{}), addrPort(netip.AddrPort{})} },
		func(sc *jsonScratch) pair { return pair{sc.hex([]byte{0, 0xab, 0xff}), "00abff"} },
		func(sc *jsonScratch) pair { return pair{sc.hex(nil), ""} },
		func(sc *jsonScratch) pair { return pair{sc.cat(), ""} },
		func(sc *jsonScratch) pair { return pair{sc.cat("one"), "one"} },
		func(sc *jsonScratch) pair {
			long := strings.Repeat("é", 300)
			return pair{sc.cat("a ", long, " ← ", "b"), "a " + long + " ← b"}
		},
		func(sc *jsonScratch) pair {
			return pair{sc.format(func(b []byte) []byte { return append(b, "x=1"...) }), "x=1"}
		},
		func(*jsonScratch) pair {
			return pair{string(appendAddrString(nil, netip.Addr{})), netip.Addr{}.String()}
		},
		func(*jsonScratch) pair {
			return pair{string(appendAddrString([]byte("x "), netip.MustParseAddr("2001:db8::1"))), "x 2001:db8::1"}
		},
		func(*jsonScratch) pair {
			return pair{string(appendAddrPortString(nil, netip.AddrPort{})), netip.AddrPort{}.String()}
		},
	}
	var sc jsonScratch
	var kept []pair
	for round := range 3 {
		if round == 1 {
			sc.begin() // the second round writes over the first
			kept = nil
		}
		for i, c := range cases {
			for _, s := range []*jsonScratch{&sc, nil} {
				p := c(s)
				if p.got != p.want {
					t.Errorf("round %d, case %d (scratch %v): %q, want %q", round, i, s != nil, p.got, p.want)
				}
				if s != nil {
					kept = append(kept, p)
				}
			}
		}
		// Rounds 2 and 3 add to the text without a begin: the strings
		// of round 2 must survive the growth of round 3.
		for i, p := range kept {
			if p.got != p.want {
				t.Errorf("round %d: string %d changed to %q, want %q", round, i, p.got, p.want)
			}
		}
	}
}

// TestConvertingIntoAWarmScratchAllocatesNothing converts TLS sessions with
// certificate chains, TCP connections and DNS transactions, and writes
// findings with unbuilt texts and host verdicts, through a scratch that
// has held such values before: the streamed report allocates nothing per
// value.
func TestConvertingIntoAWarmScratchAllocatesNothing(t *testing.T) {
	ev := foreignEvents(t, 8)
	more := hostsEvents(8)
	ev.DNS, ev.TCP, ev.TLS = append(ev.DNS, more.DNS...), append(ev.TCP, more.TCP...), append(ev.TLS, more.TLS...)
	ctx := &Context{Events: ev, Opt: Options{StreamEvents: true}}
	findings := run(ctx)
	hs := hosts(ctx, findings)
	var lazy []Finding
	for _, f := range findings {
		if f.text != nil {
			lazy = append(lazy, f)
		}
	}
	if len(lazy) == 0 || len(hs) == 0 || len(ev.TCP) == 0 || len(ev.DNS) == 0 {
		t.Fatalf("%d unbuilt findings, %d hosts, %d connections, %d transactions", len(lazy), len(hs), len(ev.TCP), len(ev.DNS))
	}
	var sc jsonScratch
	buf := make([]byte, 0, 1<<16)
	all := func() {
		for _, s := range ev.TLS {
			sc.begin()
			j := tlsJSONIn(s, &sc)
			buf = appendTLSJSON(buf[:0], &j, 4)
		}
		for _, c := range ev.TCP {
			sc.begin()
			j := tcpJSONIn(c, &sc)
			buf = appendTCPJSON(buf[:0], &j, 4)
		}
		for _, x := range ev.DNS {
			sc.begin()
			j := dnsJSONIn(x, &sc)
			buf = appendDNSJSON(buf[:0], &j, 4)
		}
		for i := range lazy {
			sc.begin()
			buf = appendFindingIn(buf[:0], &lazy[i], 4, &sc)
		}
		for i := range hs {
			sc.begin()
			buf = appendHostIn(buf[:0], &hs[i], 4, &sc)
		}
	}
	all() // warm the scratch
	if n := testing.AllocsPerRun(5, all); n != 0 {
		t.Errorf("%.1f allocations per pass over the values, want 0", n)
	}
}

// TestTCPJSONFromScratchIsTCPJSON converts connections through one scratch
// and wants each value as tcpJSON allocates it.
func TestTCPJSONFromScratchIsTCPJSON(t *testing.T) {
	ev := hostsEvents(20)
	var sc jsonScratch
	for i, c := range ev.TCP {
		sc.begin()
		if got, want := tcpJSONIn(c, &sc), tcpJSON(c); !reflect.DeepEqual(got, want) {
			t.Errorf("connection %d: from the scratch %+v, want %+v", i, got, want)
		}
	}
}

// TestAppendDisplayNameIsDisplayName words names with and without a common
// name and organization both ways.
func TestAppendDisplayNameIsDisplayName(t *testing.T) {
	for _, n := range []tlswire.Name{
		{CommonName: "mitmproxy", Organization: []string{"mitmproxy"}, Full: "CN=mitmproxy,O=mitmproxy"},
		{CommonName: "Example CA", Organization: []string{"Example Corp", "Other"}, Full: "CN=Example CA,O=Example Corp"},
		{CommonName: "only a CN", Full: "CN=only a CN"},
		{Organization: []string{"only an O"}, Full: "O=only an O"},
		{Full: "OU=only an OU"},
		{},
	} {
		if got, want := string(appendDisplayName([]byte("> "), &n)), "> "+displayName(&n); got != want {
			t.Errorf("%+v: %q, want %q", n, got, want)
		}
	}
}
