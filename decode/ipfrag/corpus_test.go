package ipfrag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/capturetest"
)

// TestCorpus reassembles the fragmented DNS responses of real captures and
// checks each against the length its UDP header claims.
func TestCorpus(t *testing.T) {
	dir := capturetest.CorpusDir(t)
	tests := []struct {
		file       string
		datagrams4 int
		datagrams6 int
		incomplete int
	}{
		{"zeek/dns-edns-ecs.pcap", 4, 0, 0},
		// Packet 4 is the last fragment of a response whose first two
		// fragments were not captured; packets 6-8 are its retry, whole.
		{"zeek/ipv6-fragmented-dns.pcap", 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tt.file))
			if errors.Is(err, os.ErrNotExist) {
				t.Skipf("%s is not in the corpus at %s", tt.file, dir)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := newPcapReader(f)
			if err != nil {
				t.Fatal(err)
			}
			d := New(Limits{})
			got := map[bool]int{}
			for n := 1; ; n++ {
				data, ts, err := r.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("packet %d: %v", n, err)
				}
				at := capture.NewRef(0, n, ts)
				k, off, more, payload, ok := fragment(gopacket.NewPacket(data, r.link, gopacket.Default))
				if !ok {
					continue
				}
				dg, first, done, err := d.Add(k, off, more, payload, at)
				if err != nil {
					t.Fatalf("packet %d: %v", n, err)
				}
				if !done {
					continue
				}
				if first.IsZero() || int(first.Packet) > n {
					t.Errorf("packet %d: first fragment cited as %v", n, first)
				}
				if k.Proto != uint8(layers.IPProtocolUDP) || len(dg) < 8 {
					t.Fatalf("packet %d: reassembled %d bytes of protocol %d, want UDP", n, len(dg), k.Proto)
				}
				if udpLen := int(binary.BigEndian.Uint16(dg[4:6])); udpLen != len(dg) {
					t.Errorf("packet %d (first %v): reassembled %d bytes, UDP header says %d", n, first, len(dg), udpLen)
				}
				got[k.v6()]++
			}
			st := d.Stats()
			if got[false] != tt.datagrams4 || got[true] != tt.datagrams6 {
				t.Errorf("reassembled %d IPv4 and %d IPv6 datagrams, want %d and %d (stats %+v)",
					got[false], got[true], tt.datagrams4, tt.datagrams6, st)
			}
			if st.Overlaps+st.Errors+st.Dropped+st.Expired != 0 || len(d.m) != tt.incomplete {
				t.Errorf("stats %+v, %d datagrams left incomplete, want %d", st, len(d.m), tt.incomplete)
			}
		})
	}
}

// fragment returns what Add needs from an IPv4 fragment or an IPv6 packet
// with a Fragment header.
func fragment(p gopacket.Packet) (k Key, off int, more bool, payload []byte, ok bool) {
	if ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ip != nil {
		if ip.Flags&layers.IPv4MoreFragments == 0 && ip.FragOffset == 0 {
			return k, 0, false, nil, false
		}
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		k = Key{Src: src, Dst: dst, ID: uint32(ip.Id), Proto: uint8(ip.Protocol)}
		return k, int(ip.FragOffset) * 8, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload, true
	}
	ip, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	fh, _ := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
	if ip == nil || fh == nil {
		return k, 0, false, nil, false
	}
	src, _ := netip.AddrFromSlice(ip.SrcIP)
	dst, _ := netip.AddrFromSlice(ip.DstIP)
	k = Key{Src: src, Dst: dst, ID: fh.Identification, Proto: uint8(fh.NextHeader)}
	return k, int(fh.FragmentOffset) * 8, fh.MoreFragments, fh.Payload, true
}

// pcapReader reads a classic pcap file (either byte order, micro- or
// nanosecond timestamps). gopacket's pcapgo would do, but on Linux it needs a
// module (netlink) this repository does not require.
type pcapReader struct {
	r     io.Reader
	order binary.ByteOrder
	nano  bool
	link  layers.LinkType
	buf   []byte
}

func newPcapReader(r io.Reader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap header: %w", err)
	}
	p := &pcapReader{r: r}
	switch binary.LittleEndian.Uint32(h[:4]) {
	case 0xa1b2c3d4:
		p.order = binary.LittleEndian
	case 0xa1b23c4d:
		p.order, p.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		p.order = binary.BigEndian
	case 0x4d3cb2a1:
		p.order, p.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("not a pcap file (magic % x)", h[:4])
	}
	p.link = layers.LinkType(p.order.Uint32(h[20:24]) & 0xffff)
	return p, nil
}

// next returns the next record's data, valid until the following call.
func (p *pcapReader) next() ([]byte, time.Time, error) {
	var h [16]byte
	if _, err := io.ReadFull(p.r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, time.Time{}, fmt.Errorf("record header: %w", err)
		}
		return nil, time.Time{}, err
	}
	n := p.order.Uint32(h[8:12])
	if n > 1<<18 {
		return nil, time.Time{}, fmt.Errorf("record of %d bytes", n)
	}
	if cap(p.buf) < int(n) {
		p.buf = make([]byte, n)
	}
	data := p.buf[:n]
	if _, err := io.ReadFull(p.r, data); err != nil {
		return nil, time.Time{}, fmt.Errorf("record: %w", io.ErrUnexpectedEOF)
	}
	frac := int64(p.order.Uint32(h[4:8]))
	if !p.nano {
		frac *= 1000
	}
	return data, time.Unix(int64(p.order.Uint32(h[0:4])), frac).UTC(), nil
}
