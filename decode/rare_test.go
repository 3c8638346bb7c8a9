package decode

import (
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// TestRareZeroValuesStayZero decodes every sample and reads every rare
// part of every event: the zero values that events without rare parts
// read (noDNSExtra …) are shared by all of them, so nothing may write
// through them. The tlswire tests check noSessionExtra the same way
// (TestMain there).
func TestRareZeroValuesStayZero(t *testing.T) {
	paths, err := filepath.Glob("../samples/*.pcapng")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	withExtra, without := 0, 0
	for _, path := range paths {
		r, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		d := New(0, Options{})
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			d.Packet(p)
		}
		r.Close()
		ev := d.Finish()
		for _, c := range ev.TCP {
			_, _, _, _ = c.SYN(), c.Resets(), c.ICMP(), c.Tunnel()
			_, _ = c.Stall(0), c.Stall(1)
			count(c.Extra == nil, &without, &withExtra)
		}
		for _, x := range ev.DNS {
			_, _, _, _, _ = x.Retries(), x.ICMP(), x.Rejected(), x.Reset(), x.Malformed()
			for _, resp := range x.Responses {
				_, _, _, _, _ = resp.Malformed(), resp.MalformedSection(), resp.Question(), resp.QType(), resp.AnswersOmitted()
				count(resp.Extra == nil, &without, &withExtra)
			}
			count(x.Extra == nil, &without, &withExtra)
		}
		for _, s := range ev.TLS {
			if s.Session == nil {
				continue
			}
			_, _, _, _ = s.HelloRetry(), s.HelloRetryAt(), s.SecondClientHello(), s.SecondClientHelloAt()
			_, _, _, _ = s.ClientCertificates(), s.ClientCertificatesAt(), s.EncryptedExtensions(), s.EncryptedExtensionsAt()
			_, _, _, _ = s.DecryptedRecords(tlswire.ClientToServer), s.DecryptedRecords(tlswire.ServerToClient), s.Notes(), s.Errors()
			count(s.Extra == nil, &without, &withExtra)
		}
	}
	if withExtra == 0 || without == 0 {
		t.Fatalf("%d events with rare parts, %d without: the samples do not exercise both", withExtra, without)
	}
	for name, v := range map[string]any{"DNSExtra": noDNSExtra, "DNSResponseExtra": noDNSResponseExtra, "TCPExtra": noTCPExtra} {
		if !reflect.ValueOf(v).IsZero() {
			t.Errorf("the shared zero %s was written: %+v", name, v)
		}
	}
}

func count(none bool, without, with *int) {
	if none {
		*without++
	} else {
		*with++
	}
}
