package analyze

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// TestDNSJSONFromScratchIsDNSJSON converts transactions with no response,
// one, and several with up to 40 answers (past the scratch's first size)
// through one scratch, and wants each value as dnsJSON allocates it,
// empty lists included.
func TestDNSJSONFromScratchIsDNSJSON(t *testing.T) {
	var xs []*decode.DNSExchange
	q := 1
	for _, shape := range [][]int{{}, {1}, {0}, {3, 0, 2}, {40}, {}, {5, 40, 1}, {2}} {
		var rs []*decode.DNSResponse
		for _, n := range shape {
			var answers []string
			for i := range n {
				answers = append(answers, fmt.Sprintf("A 198.51.100.%d", i+1))
			}
			rs = append(rs, response(q+1, "NOERROR", 64, "s.example", answers...))
		}
		xs = append(xs, exchange(q, "10.0.0.2:40000", "10.0.0.1:53", "s.example", "A", rs...))
		q += 2
	}
	var sc jsonScratch
	for i, x := range xs {
		got, want := dnsJSONIn(x, &sc), dnsJSON(x)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("transaction %d: from the scratch %+v, want %+v", i, got, want)
		}
	}
}

// TestTLSJSONFromScratchIsTLSJSON converts sessions with and without
// certificates, the longer chains after the shorter, through one scratch,
// and wants each value as tlsJSON allocates it.
func TestTLSJSONFromScratchIsTLSJSON(t *testing.T) {
	ev := foreignEvents(t, 8)
	ev.TLS = append(ev.TLS, hostsEvents(2).TLS...)
	long := *ev.TLS[0]
	long.Certificates = &tlswire.CertificateMsg{Certificates: slices.Repeat(ev.TLS[0].Certificates.Certificates, 6)}
	ss := append([]*decode.TLSSession{&long}, ev.TLS...)
	ss = append(ss, &long)
	var sc jsonScratch
	for i, s := range ss {
		got, want := tlsJSONIn(s, &sc), tlsJSON(s)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("session %d: from the scratch %+v, want %+v", i, got, want)
		}
	}
}
