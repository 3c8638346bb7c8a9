package decode

import (
	"bytes"
	"crypto/x509/pkix"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode/decodetest"
)

// TestClosedTLSFlowSettlesWithTheSameSession decodes a decrypted HTTP/2
// exchange that both sides close, then, 5 s later, a retransmission of the
// server's last data segment: the TLS decoder is finished once both
// streams are delivered up to their FINs, yet the session, the HTTP
// exchanges and the connection (the late packet counted) are those of a
// decoder that finishes the flow only when it is forgotten. In the second
// case that last data segment arrives after both FINs, so the server's
// stream closes only then.
func TestClosedTLSFlowSettlesWithTheSameSession(t *testing.T) {
	p, err := decodetest.NewPKI(pkix.Name{CommonName: "Test Root"}, "proxy.golang.org")
	if err != nil {
		t.Fatal(err)
	}
	rec := &decodetest.Recorder{}
	client, stop := rec.HTTP(p.ServerConfig("h2"), rec.ClientConfig("proxy.golang.org", p.Roots), true, nil)
	resp, err := client.Get("https://proxy.golang.org/golang.org/x/net/@v/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	recorded, err := rec.Packets(decodetest.DefaultNetwork())
	if err != nil {
		t.Fatal(err)
	}
	// The server's last segment with data.
	last := -1
	for i, pk := range recorded {
		if len(pk.Data) > 66 && pk.Data[6] == 2 && pk.Data[11] == 2 { // from the server's MAC
			last = i
		}
	}
	if last < 0 {
		t.Fatal("no data segment from the server")
	}
	kl := capture.NewKeyLog()
	if bad, err := kl.Read(bytes.NewReader(rec.KeyLogBytes()), "test"); err != nil || len(bad) != 0 {
		t.Fatalf("key log: %v %v", err, bad)
	}
	for _, tc := range []struct {
		name string
		// reorder delays the server's last data segment past both FINs:
		// the server's stream closes only when it arrives.
		reorder bool
	}{{"in order", false}, {"last data after both FINs", true}} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := slices.Clone(recorded)
			if tc.reorder {
				pkts = append(slices.Delete(pkts, last, last+1), recorded[last])
			}
			// 5 s after the close, a retransmission of that segment.
			late := recorded[last]
			late.Data = bytes.Clone(late.Data)
			late.Time = pkts[len(pkts)-1].Time.Add(5 * time.Second)
			pkts = append(pkts, late)
			for i := range pkts {
				pkts[i].Number = i + 1
			}
			late = pkts[len(pkts)-1]
			run := func(settle bool) (*Events, bool) {
				settleClosedTLS = settle
				defer func() { settleClosedTLS = true }()
				d := New(0, Options{Keys: kl})
				settled := false
				for i := range pkts {
					d.Packet(&pkts[i])
					for _, f := range d.flows {
						if f.settled {
							if _, ok := f.app.(ignoreApp); !ok {
								t.Errorf("packet %d: a settled flow keeps its decoder %T", i+1, f.app)
							}
							settled = true
						}
					}
				}
				return d.Finish(), settled
			}
			got, settled := run(true)
			want, settledOff := run(false)
			if !settled || settledOff {
				t.Fatalf("settled with settle on: %v, off: %v", settled, settledOff)
			}
			if len(got.TLS) != 1 || !got.TLS[0].Decrypted || len(got.HTTP) != 1 {
				t.Fatalf("%d TLS sessions, %d HTTP exchanges", len(got.TLS), len(got.HTTP))
			}
			if !reflect.DeepEqual(got.TLS[0].Session, want.TLS[0].Session) {
				t.Errorf("settled session differs:\n got %+v\nwant %+v", got.TLS[0].Session, want.TLS[0].Session)
			}
			if !reflect.DeepEqual(got.HTTP, want.HTTP) || !reflect.DeepEqual(got.TCP, want.TCP) {
				t.Errorf("settled events differ:\n got %+v %+v\nwant %+v %+v", got.HTTP[0], got.TCP[0], want.HTTP[0], want.TCP[0])
			}
			if c := got.TCP[0]; c.Stream[1].Retransmitted == 0 || c.Last.Packet != int32(late.Number) {
				t.Errorf("the late retransmission was not counted: last packet #%d, server stream %+v", c.Last.Packet, c.Stream[1])
			}
		})
	}
}
