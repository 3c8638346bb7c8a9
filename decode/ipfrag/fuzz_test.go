package ipfrag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/modsniff/modsniff/capture"
)

// fuzzKeys are the datagrams FuzzDefrag's fragments belong to: two IPv4 and
// two IPv6 ones.
var fuzzKeys = [4]Key{key4, {Src: key4.Src, Dst: key4.Dst, ID: 7, Proto: 6}, key6, {Src: key6.Src, Dst: key6.Dst, ID: 7, Proto: 6}}

// fuzzByte is the honest byte at offset i of datagram k.
func fuzzByte(k, i int) byte { return byte((uint32(i)*2654435761)>>24) + byte(k) }

// FuzzDefrag decodes its input as 5-byte fragments: a control byte (bits 0-1:
// which datagram, bit 2: more fragments, bit 3: corrupt the data, bits 4-7:
// seconds since the previous fragment), a 16-bit offset field (bits 0-12:
// offset in 8-byte units, bit 15: add bits 13-14 to misalign it), and a
// 16-bit length (bits 0-12).
func FuzzDefrag(f *testing.F) {
	frag := func(ctl byte, units, length uint16) []byte {
		return []byte{ctl, byte(units >> 8), byte(units), byte(length >> 8), byte(length)}
	}
	cat := func(fs ...[]byte) []byte {
		var b []byte
		for _, f := range fs {
			b = append(b, f...)
		}
		return b
	}
	f.Add(cat(frag(4, 0, 1480), frag(0, 185, 20)))
	f.Add(cat(frag(2, 308, 100), frag(6, 154, 1232), frag(6, 0, 1232)))
	f.Add(cat(frag(6, 0, 16), frag(6, 1, 16), frag(2, 3, 5)))
	f.Add(cat(frag(4, 0, 16), frag(12, 1, 16), frag(0, 3, 5)))
	f.Add(cat(frag(5, 0, 4000), frag(4, 500, 4000), frag(0xf5, 1000, 8)))
	f.Add(cat(frag(4, 0, 12), frag(4, 0x8001, 8), frag(0, 8190, 8000), frag(6, 0, 0)))
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := Limits{MaxDatagrams: 3, MaxBytes: 20000, Timeout: 20 * time.Second}
		d := New(lim)
		now := t0
		tainted := [4]bool{}  // a corrupt fragment was sent since the last completion
		zero := map[int]int{} // packet -> datagram, for fragments at offset 0
		for n := 1; len(in) >= 5; n++ {
			ctl := in[0]
			field, length := binary.BigEndian.Uint16(in[1:3]), int(binary.BigEndian.Uint16(in[3:5])&0x1fff)
			in = in[5:]
			ki, more, corrupt := int(ctl&3), ctl&4 != 0, ctl&8 != 0
			now = now.Add(time.Duration(ctl>>4) * time.Second)
			off := int(field&0x1fff) * 8
			if field&0x8000 != 0 {
				off += int(field >> 13 & 3)
			}
			p := make([]byte, length)
			for i := range p {
				p[i] = fuzzByte(ki, off+i)
				if corrupt {
					p[i] ^= 0xa5
				}
			}
			if corrupt {
				tainted[ki] = true
			}
			if off == 0 {
				zero[n] = ki
			}
			dg, first, ok, err := d.Add(fuzzKeys[ki], off, more, p, capture.NewRef(0, n, now))
			if err != nil {
				var fe *Error
				if !errors.As(err, &fe) || fe.Key != fuzzKeys[ki] || fe.Offset != off || fe.Length != length {
					t.Fatalf("fragment %d: error %v does not name it", n, err)
				}
			}
			if ok {
				if err != nil || len(dg) > maxLength {
					t.Fatalf("fragment %d: complete with %d bytes, err %v", n, len(dg), err)
				}
				if k, isZero := zero[int(first.Packet)]; !isZero || k != ki || int(first.Packet) > n {
					t.Fatalf("fragment %d: first fragment cited as packet %d", n, first.Packet)
				}
				if !tainted[ki] {
					for i, b := range dg {
						if b != fuzzByte(ki, i) {
							t.Fatalf("fragment %d: byte %d of %d is %#x, want %#x", n, i, len(dg), b, fuzzByte(ki, i))
						}
					}
				}
				tainted[ki] = false
			}
			if err := d.check(); err != nil {
				t.Fatalf("after fragment %d: %v", n, err)
			}
		}
		// Everything expires when capture time moves on.
		d.Add(fuzzKeys[0], 0, false, nil, capture.NewRef(0, 1<<20, now.Add(time.Hour)))
		if d.held != 0 || len(d.m) != 0 || d.oldest != nil || d.newest != nil {
			t.Fatalf("an hour later: %d bytes in %d datagrams", d.held, len(d.m))
		}
	})
}

// check verifies the Defragmenter's bookkeeping and bounds.
func (d *Defragmenter) check() error {
	if d.held > d.lim.MaxBytes || len(d.m) > d.lim.MaxDatagrams {
		return fmt.Errorf("holding %d bytes in %d datagrams, beyond %+v", d.held, len(d.m), d.lim)
	}
	var held int64
	n := 0
	var prev *datagram
	for g := d.oldest; g != nil; prev, g = g, g.newer {
		if g.older != prev || d.m[g.key] != g {
			return fmt.Errorf("list out of step at %v", g.key)
		}
		held += int64(len(g.buf))
		n++
		if g.dead {
			if g.buf != nil {
				return fmt.Errorf("discarded datagram %v holds data", g.key)
			}
			continue
		}
		if len(g.buf) > maxLength || len(g.have)*64*8 < len(g.buf) || g.end > len(g.buf) {
			return fmt.Errorf("datagram %v: buffer %d, bitmap %d words, end %d", g.key, len(g.buf), len(g.have), g.end)
		}
		if g.total >= 0 && (g.got >= g.total || g.end > g.total) {
			return fmt.Errorf("datagram %v: %d of %d bytes, end %d, yet incomplete", g.key, g.got, g.total, g.end)
		}
	}
	if prev != d.newest || n != len(d.m) || held != d.held {
		return fmt.Errorf("list has %d datagrams holding %d, map %d, held %d", n, held, len(d.m), d.held)
	}
	return nil
}
