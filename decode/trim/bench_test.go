package trim

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// bulkDownload is a TLS 1.3 connection whose server then sends n
// segments of application data (1400 bytes each, 16 KiB records).
func bulkDownload(t *testing.T, n int) (handshake, bulk [][]byte) {
	c := newConn(t, "10.0.0.2:40000", "142.250.1.1:443")
	handshake = c.Handshake()
	handshake = append(handshake,
		c.Seg(true, "PA", clientHello(500)),
		c.Seg(false, "PA", cat(serverHello(0x0304), record(20, 1, 1), record(23, 1200, hsByte))),
		c.Seg(true, "PA", record(23, 53, hsByte)),
		c.Seg(true, "PA", record(23, 300, appByte)))
	stream := bytes.Repeat(record(23, 16384, appByte), (n*1400)/16389+1)
	for i := range n {
		bulk = append(bulk, c.Seg(false, "A", stream[i*1400:(i+1)*1400]))
	}
	return handshake, bulk
}

// TestTrimAllocatesNothingPerPacket: once a connection is tracked, its
// packets are trimmed into the caller's buffer without allocating.
func TestTrimAllocatesNothingPerPacket(t *testing.T) {
	hs, bulk := bulkDownload(t, 200)
	tr := New()
	now := time.Unix(1_700_000_000, 0)
	for _, p := range hs {
		tr.Append(nil, layers.LinkTypeEthernet, p, now)
	}
	dst := make([]byte, 0, 2048)
	i := 0
	allocs := testing.AllocsPerRun(len(bulk)-1, func() {
		dst = tr.Append(dst[:0], layers.LinkTypeEthernet, bulk[i], now)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet", allocs)
	}
	if tr.Cut < len(bulk)-1 {
		t.Errorf("%d packets of application data cut, want %d", tr.Cut, len(bulk))
	}
}

// BenchmarkTrim trims every packet of the samples, then a bulk TLS
// download, the hot path of a live capture.
func BenchmarkTrim(b *testing.B) {
	type pkt struct {
		lt   layers.LinkType
		data []byte
		t    time.Time
	}
	var pkts []pkt
	files, _ := filepath.Glob("../../samples/*.pcapng")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		r, err := capture.NewReader(bytes.NewReader(data), f)
		if err != nil {
			continue
		}
		for {
			p, err := r.Next()
			if err != nil {
				break
			}
			pkts = append(pkts, pkt{p.LinkType, bytes.Clone(p.Data), p.Time})
		}
	}
	hs, bulk := bulkDownload(&testing.T{}, 2000)
	for _, p := range append(hs, bulk...) {
		pkts = append(pkts, pkt{layers.LinkTypeEthernet, p, time.Unix(1_700_000_000, 0)})
	}
	var bytes int64
	for _, p := range pkts {
		bytes += int64(len(p.data))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	dst := make([]byte, 0, 1<<16)
	for b.Loop() {
		tr := New()
		for _, p := range pkts {
			dst = tr.Append(dst[:0], p.lt, p.data, p.t)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pkts)), "ns/packet")
}
