package capture

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// chunkyReader returns at most n bytes per Read, then err.
type chunkyReader struct {
	data []byte
	n    int
	err  error
}

func (c *chunkyReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	k := min(len(p), c.n, len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

func TestReadAheadDeliversTheSourceInOrderThenItsError(t *testing.T) {
	data := make([]byte, 3*readAheadSize+12345)
	rand.NewChaCha8([32]byte{3, 4}).Read(data)
	broken := errors.New("disk on fire")
	for _, tc := range []struct {
		name string
		err  error
	}{{"end", io.EOF}, {"failure", broken}} {
		t.Run(tc.name, func(t *testing.T) {
			ra := newReadAhead(&chunkyReader{data: data, n: 7000, err: tc.err}, readAheadSize)
			defer ra.Close()
			var got bytes.Buffer
			buf := make([]byte, 3000)
			var err error
			for err == nil {
				var n int
				n, err = ra.Read(buf)
				got.Write(buf[:n])
			}
			if err != tc.err {
				t.Errorf("final error %v, want %v", err, tc.err)
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Errorf("read %d bytes, not the %d of the source in order", got.Len(), len(data))
			}
		})
	}
}

func TestReadAheadCloseBeforeTheEndStopsTheGoroutine(t *testing.T) {
	ra := newReadAhead(&chunkyReader{data: make([]byte, 20*readAheadSize), n: 1 << 20, err: io.EOF}, readAheadSize)
	buf := make([]byte, 10)
	if _, err := ra.Read(buf); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { ra.Close(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the read-ahead goroutine")
	}
}

// TestOpenReadsFilesAhead reads a gzip-compressed capture from a file (read
// and decompressed on goroutines of their own) and checks every packet.
func TestOpenReadsFilesAhead(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewPcapWriter(&buf, layers.LinkTypeEthernet, 65535, false)
	rng := rand.New(rand.NewPCG(5, 6))
	fill := rand.NewChaCha8([32]byte{5, 6})
	var want [][]byte
	for i := range 3000 {
		data := make([]byte, 60+rng.IntN(1400))
		fill.Read(data)
		want = append(want, data)
		w.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), data, len(data))
	}
	path := filepath.Join(t.TempDir(), "c.pcap.gz")
	if err := os.WriteFile(path, gz(buf.Bytes()), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.ahead) != 2 {
		t.Errorf("%d read-ahead goroutines for a gzip file, want 2 (reading, decompressing)", len(r.ahead))
	}
	n := 0
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n >= len(want) || !bytes.Equal(p.Data, want[n]) {
			t.Fatalf("packet %d differs", n+1)
		}
		n++
	}
	if n != len(want) || len(r.Errors()) > 0 {
		t.Errorf("read %d of %d packets, errors %v", n, len(want), r.Errors())
	}
}
