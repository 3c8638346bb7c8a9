package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/modsniff/modsniff/capture/capturetest"
)

// maxBufSize bounds the reader's buffer: a whole block of the largest size
// found at the far end of a resync scan.
const maxBufSize = ResyncWindow + MaxBlockSize

// fuzzSeeds returns small captures of every kind, damaged variants of
// them, and the corpus captures when the corpus is present (the first 16
// KiB of the larger ones).
func fuzzSeeds(tb testing.TB) [][]byte {
	rt := newRoundTrip(tb)
	ng := pcapngFile(tb, le, 3, 60)
	pc := pcapFile(tb, be, true, 3, 60)
	seeds := [][]byte{
		pcapLEMicro, pcapBEMicro, pcapLENano, pcapBENano, pcapngBE,
		rt.file, ng, pc, gz(pc), gz(rt.file),
		cat(shb(le), idb(le, layers.LinkTypeNull, 8), block(le, blockSPB, u32(le, 20), frame(1, 20)),
			block(le, blockPB, make([]byte, 20)), shb(be), idb(be, 1, 0, opt(be, optIfTSResol, []byte{0x94}), endOpt),
			epb(be, 0, 1<<40, frame(2, 9), 9, opt(be, optComment, []byte("c")), endOpt)),
		// Damaged variants.
		rt.file[:len(rt.file)-7],
		patch(rt.file, 4, u32(le, 0x7ffffffc)),
		splice(ng, int64(len(ng)-76), fillBytes(0xee, 13)),
		splice(pc, 24, cat(u32(be, 0), u32(be, 0), u32(be, 4), u32(be, 4))),
		patch(pc, 24+8, u32(be, MaxPacketSize+1)),
		gz(pc)[:40],
	}
	if dir, ok := capturetest.FindCorpus(); ok {
		paths, _ := capturetest.CapturesIn(dir)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, b[:min(len(b), 16<<10)])
		}
	}
	return seeds
}

func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !errors.Is(err, ErrNotCapture) {
				t.Fatalf("NewReader error %v does not wrap ErrNotCapture", err)
			}
			return
		}
		r.OnSecrets = func(s Secrets) {
			if len(s.Data) > MaxBlockSize {
				t.Fatalf("secrets of %d bytes", len(s.Data))
			}
		}
		last := 0
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next returned %v; only io.EOF is allowed", err)
			}
			if p.Number != last+1 {
				t.Fatalf("packet number %d after %d", p.Number, last)
			}
			last = p.Number
			if len(p.Data) > MaxPacketSize {
				t.Fatalf("packet %d: %d bytes", p.Number, len(p.Data))
			}
			if cap(r.buf) > maxBufSize {
				t.Fatalf("buffer of %d bytes", cap(r.buf))
			}
		}
		errs := r.Errors()
		if len(errs) > maxErrors+1 {
			t.Fatalf("%d errors", len(errs))
		}
		for i, e := range errs {
			if e.Packet < 1 || e.Packet > last+1 || (i > 0 && e.Packet < errs[i-1].Packet) || e.Offset < 0 {
				t.Fatalf("error %d out of order or range: %v (after %d packets)", i, e, last)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after the end = %v", err)
		}
	})
}

// FuzzOptions fuzzes the pcapng option list reader directly and through
// every block that has options.
func FuzzOptions(f *testing.F) {
	f.Add(cat(opt(le, optComment, []byte("hello")), opt(le, optIfTSResol, []byte{9}), endOpt), false)
	f.Add(cat(opt(be, optIfTSOffset, make([]byte, 8)), opt(be, optCustomBin, []byte("\x00\x00\x7e\xd9data"))), true)
	f.Add([]byte{1, 0, 0xff, 0xff, 'x'}, false)
	f.Add([]byte{0, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2}, true)
	f.Fuzz(func(t *testing.T, opts []byte, big bool) {
		var bo byteOrder = le
		if big {
			bo = be
		}
		o := optionReader{b: opts, bo: bo}
		n := 0
		for _, v, ok := o.next(); ok; _, v, ok = o.next() {
			n++
			if len(v) > len(opts) || n > len(opts)/4+1 {
				t.Fatalf("option %d: %d-byte value from %d bytes of options", n, len(v), len(opts))
			}
		}
		padded := append(bytes.Clone(opts), make([]byte, pad4(len(opts))-len(opts))...)
		file := cat(
			shbWith(bo, padded),
			idb(bo, layers.LinkTypeEthernet, 0, padded),
			epb(bo, 0, 1, frame(1, 5), 5, padded),
			block(bo, blockISB, u32(bo, 0), make([]byte, 8), padded),
			block(bo, blockPB, make([]byte, 12), u32(bo, 0), u32(bo, 0), padded),
		)
		pkts, r := readAll(t, file)
		if len(pkts) != 2 {
			t.Fatalf("%d packets from one EPB and one PB; errors %v", len(pkts), r.Errors())
		}
	})
}

// shbWith builds a Section Header Block whose option bytes are opts.
func shbWith(bo byteOrder, opts []byte) []byte {
	body := bo.AppendUint32(nil, 0x1A2B3C4D)
	body = bo.AppendUint16(body, 1)
	body = bo.AppendUint16(body, 0)
	body = bo.AppendUint64(body, ^uint64(0))
	return block(bo, blockSHB, body, opts)
}
