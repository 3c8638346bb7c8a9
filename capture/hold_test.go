package capture

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// randomCaptureFile writes a pcap file of n random frames, several
// read-ahead chunks long, and returns its path and the frames.
func randomCaptureFile(t *testing.T, n int) (string, [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	w, _ := NewPcapWriter(&buf, layers.LinkTypeEthernet, 65535, false)
	rng := rand.New(rand.NewPCG(7, 8))
	fill := rand.NewChaCha8([32]byte{7, 8})
	var frames [][]byte
	for i := range n {
		data := make([]byte, 60+rng.IntN(1400))
		fill.Read(data)
		frames = append(frames, data)
		w.WritePacket(t0.Add(time.Duration(i)*time.Millisecond), data, len(data))
	}
	path := filepath.Join(t.TempDir(), "c.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, frames
}

// TestHoldKeepsAPacketsBytesWhileTheFileIsReadOn holds the first frame of
// every tenth chunk while the whole file, dozens of chunks, is read: the
// held frames keep their bytes, and the frames read without a Hold were
// overwritten, because their chunks were filled again.
func TestHoldKeepsAPacketsBytesWhileTheFileIsReadOn(t *testing.T) {
	path, want := randomCaptureFile(t, 12000) // about 9 MB: 35 chunks
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type kept struct {
		i    int
		data []byte
		hold Hold
	}
	var held, loose []kept
	var last *chunk
	chunks := 0
	for i := 0; ; i++ {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !p.Holdable() {
			continue // a record that spans two chunks is in the reader's own buffer
		}
		if p.chunk != last {
			last = p.chunk
			if chunks++; chunks%10 == 1 {
				h := p.Hold()
				if !h.Keeps(p) {
					t.Fatalf("packet %d: its Hold does not keep it", i+1)
				}
				held = append(held, kept{i, p.Data, h})
			} else if len(loose) < 3 {
				loose = append(loose, kept{i, p.Data, Hold{}})
			}
		}
	}
	if chunks < 30 || len(held) < 3 {
		t.Fatalf("the file spans %d chunks, %d held: too few to show anything", chunks, len(held))
	}
	for _, k := range held {
		if !bytes.Equal(k.data, want[k.i]) {
			t.Errorf("held packet %d lost its bytes", k.i+1)
		}
		k.hold.Release()
	}
	overwritten := 0
	for _, k := range loose {
		if !bytes.Equal(k.data, want[k.i]) {
			overwritten++
		}
	}
	if overwritten == 0 {
		t.Errorf("no packet read without a Hold was overwritten: the test shows nothing")
	}
	if got := r.ahead[0].holds.Load(); got != 0 {
		t.Errorf("%d holds outstanding after every one was released", got)
	}
}

// TestHeldChunksAreBoundedAndComeBack holds every chunk the reader meets:
// the read-ahead makes at most readAheadMaxChunks and then waits; releasing
// the holds lets it read on to the end, with every frame intact.
func TestHeldChunksAreBoundedAndComeBack(t *testing.T) {
	path, want := randomCaptureFile(t, 20000) // about 15 MB: 58 chunks
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ra := r.ahead[0]
	var holds []Hold
	var last *chunk
	n := 0
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Data, want[n]) {
			t.Fatalf("packet %d differs", n+1)
		}
		n++
		if p.Holdable() && p.chunk != last {
			last = p.chunk
			holds = append(holds, p.Hold())
		}
		// Past the bound, the oldest hold goes: the reader must never
		// wait on a chunk that nobody will release.
		if len(holds) > readAheadMaxChunks-readAheadChunks {
			holds[0].Release()
			holds = holds[1:]
		}
	}
	for _, h := range holds {
		h.Release()
	}
	if n != len(want) {
		t.Errorf("read %d of %d packets", n, len(want))
	}
	if ra.made > readAheadMaxChunks {
		t.Errorf("the read-ahead made %d chunks, more than %d", ra.made, readAheadMaxChunks)
	}
	if ra.made <= readAheadChunks {
		t.Errorf("the read-ahead made %d chunks while %d were held: it should have made more", ra.made, len(holds))
	}
}

// TestPacketsOutsideChunksAreNotHoldable: a packet that is not in a
// read-ahead chunk gives the zero Hold, which keeps nothing and may be
// released.
func TestPacketsOutsideChunksAreNotHoldable(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewPcapWriter(&buf, layers.LinkTypeEthernet, 65535, false)
	w.WritePacket(t0, make([]byte, 64), 64)
	r, err := NewReader(bytes.NewReader(buf.Bytes()), "mem")
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if p.Holdable() {
		t.Fatal("a packet read in line (no read-ahead) is holdable")
	}
	h := p.Hold()
	if h.Valid() || h.Keeps(p) {
		t.Errorf("the Hold of an unholdable packet keeps something: %+v", h)
	}
	h.Release()
}
