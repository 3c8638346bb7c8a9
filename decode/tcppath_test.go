package decode

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
)

// FuzzTCPPath feeds hostile segments — any flags, sequence and
// acknowledgement numbers, sizes and windows, in either direction — to the
// path tracking: it must never panic, allocate per packet, or report a
// stall that contradicts its own counters.
func FuzzTCPPath(f *testing.F) {
	// seed: a flight whose first segment is lost, a duplicate ACK, a
	// retransmission, then the receiver's FIN.
	f.Add([]byte{
		0, 0x12, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0,
		1, 0x10, 0, 0, 0, 101, 0, 0, 5, 0xa8, 0x05, 0xa8,
		1, 0x10, 0, 0, 0x0b, 0x51, 0, 0, 0, 0, 0x04, 0x50,
		0, 0x10, 0, 0, 0, 0, 0, 0, 0, 101, 0, 0,
		1, 0x10, 0, 0, 0, 101, 0, 0, 5, 0xa8, 0x05, 0xa8,
		0, 0x11, 0, 0, 0, 0, 0, 0, 0, 101, 0, 0,
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		var p pathState
		c := &TCPConn{}
		at := capture.NewRef(0, 0, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		var tcp layers.TCP
		for i := 0; len(data) >= 12 && i < 512; i++ {
			dir := int(data[0] & 1)
			fl := data[1]
			tcp = layers.TCP{FIN: fl&1 != 0, SYN: fl&2 != 0, RST: fl&4 != 0, ACK: fl&0x10 != 0,
				Seq: binary.BigEndian.Uint32(data[2:]), Ack: binary.BigEndian.Uint32(data[6:]),
				Window: binary.BigEndian.Uint16(data[10:])}
			n := int(binary.BigEndian.Uint16(data[8:])) % 9000
			at.Packet++
			at = at.WithTime(at.Time().Add(time.Duration(data[11]) * time.Millisecond))
			p.track(c, dir, &tcp, n, IPInfo{TTL: data[2]}, at)
			data = data[12:]
		}
		p.finish(c)
		for dir := range 2 {
			if st := c.Stall(dir); st != nil && (st.DupAcks < 1 || st.Since.IsZero() || st.Retrans < 0) {
				t.Fatalf("direction %d: an open stall without its duplicate ACK: %+v", dir, st)
			}
		}
	})
}

// TestTCPPathAllocatesNothing keeps the per-packet path tracking off the
// allocator: it runs on every TCP segment.
func TestTCPPathAllocatesNothing(t *testing.T) {
	var p pathState
	c := &TCPConn{}
	seg := layers.TCP{ACK: true, Seq: 1000, Ack: 5000, Window: 500}
	at := capture.Ref{Packet: 1}
	allocs := testing.AllocsPerRun(1000, func() {
		seg.Seq += 1448
		p.track(c, 0, &seg, 1448, IPInfo{TTL: 64}, at)
		p.track(c, 1, &layers.TCP{ACK: true, Seq: 5000, Ack: seg.Seq, Window: 500}, 0, IPInfo{TTL: 60}, at)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet pair", allocs)
	}
}
