package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// benchFile builds an in-memory capture of mostly full-size frames: nine of
// every ten are 1514 bytes, the rest 66-byte ACKs.
func benchFile(tb testing.TB, ng bool) []byte {
	var buf bytes.Buffer
	var write func(i int, data []byte) error
	if ng {
		w, err := NewWriter(&buf, Section{})
		if err != nil {
			tb.Fatal(err)
		}
		w.AddInterface(Interface{LinkType: layers.LinkTypeEthernet, SnapLen: 262144})
		write = func(i int, data []byte) error {
			return w.WritePacket(0, t0.Add(time.Duration(i)*time.Microsecond), data, len(data))
		}
	} else {
		w, err := NewPcapWriter(&buf, layers.LinkTypeEthernet, 262144, false)
		if err != nil {
			tb.Fatal(err)
		}
		write = func(i int, data []byte) error {
			return w.WritePacket(t0.Add(time.Duration(i)*time.Microsecond), data, len(data))
		}
	}
	full, ack := frame(1, 1514), frame(2, 66)
	for i := range 40000 {
		data := full
		if i%10 == 9 {
			data = ack
		}
		if err := write(i, data); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

func benchmarkReader(b *testing.B, ng bool) {
	file := benchFile(b, ng)
	b.ReportAllocs()
	benchRead(b, len(file), func() (*Reader, error) { return NewReader(bytes.NewReader(file), "bench") })
}

// benchRead reads every packet of the size bytes of capture that open
// opens, once per iteration, and reports the bytes and packets per second.
func benchRead(b *testing.B, size int, open func() (*Reader, error)) {
	b.SetBytes(int64(size))
	packets := 0
	for b.Loop() {
		r, err := open()
		if err != nil {
			b.Fatal(err)
		}
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			packets++
			if len(p.Data) == 0 {
				b.Fatal("empty packet")
			}
		}
		r.Close()
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

func BenchmarkReaderPcap(b *testing.B)   { benchmarkReader(b, false) }
func BenchmarkReaderPcapng(b *testing.B) { benchmarkReader(b, true) }

func TestReaderDoesNotAllocatePerPacket(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for _, ng := range []bool{false, true} {
		file := benchFile(t, ng)
		r, err := NewReader(bytes.NewReader(file), "allocs")
		if err != nil {
			t.Fatal(err)
		}
		// Warm up until the buffer has reached its full size.
		for range 2000 {
			r.Next()
		}
		allocs := testing.AllocsPerRun(10000, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("pcapng %v: %.2f allocations per packet, want 0", ng, allocs)
		}
	}
}

// BenchmarkOpenPcapng reads a capture file through Open: read ahead on a
// goroutine of its own, the chunks read in place.
func BenchmarkOpenPcapng(b *testing.B) {
	file := benchFile(b, true)
	path := filepath.Join(b.TempDir(), "bench.pcapng")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		b.Fatal(err)
	}
	benchRead(b, len(file), func() (*Reader, error) { return Open(path) })
}
