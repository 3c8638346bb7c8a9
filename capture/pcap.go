package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Sizes of draft-ietf-opsawg-pcap structures.
const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
	secondsPerDay       = 24 * 60 * 60
)

// readPcapHeader reads the pcap File Header of draft-ietf-opsawg-pcap: magic
// (which gives byte order and resolution), version, two reserved fields,
// SnapLen and LinkType. Only the lower 16 bits of the LinkType field are the
// link type; the upper bits carry FCS information.
func (r *Reader) readPcapHeader(where string) error {
	if n := r.fill(pcapFileHeaderLen); n < pcapFileHeaderLen {
		return r.notCapture(where, fmt.Sprintf("truncated header: the file has %d bytes, a pcap file header needs %d", n, pcapFileHeaderLen))
	}
	h := r.buf[r.start : r.start+pcapFileHeaderLen]
	switch m := h[:4]; {
	case bytes.Equal(m, magicPcapLE):
		r.bo = binary.LittleEndian
	case bytes.Equal(m, magicPcapBE):
		r.bo = binary.BigEndian
	case bytes.Equal(m, magicPcapNsLE):
		r.bo, r.pcapNanos = binary.LittleEndian, true
	default:
		r.bo, r.pcapNanos = binary.BigEndian, true
	}
	r.format = "pcap"
	res := time.Microsecond
	if r.pcapNanos {
		r.format = "pcap (nanosecond)"
		res = time.Nanosecond
	}
	if major := r.bo.Uint16(h[4:]); major != 2 {
		r.note(noteVersion, 4, "pcap version %d.%d (expected 2.4)", major, r.bo.Uint16(h[6:]))
	}
	r.pcapSnap = r.bo.Uint32(h[16:])
	r.pcapLink = layers.LinkType(r.bo.Uint32(h[20:]) & 0xffff)
	r.interfaces = []Interface{{LinkType: r.pcapLink, SnapLen: int(r.pcapSnap), TSResolution: res}}
	r.consume(pcapFileHeaderLen)
	return nil
}

// pcapRecord is a decoded pcap Packet Record header.
type pcapRecord struct {
	sec, frac       uint32
	caplen, origlen uint32
}

func (r *Reader) pcapRecord(h []byte) pcapRecord {
	return pcapRecord{
		sec:     r.bo.Uint32(h[0:]),
		frac:    r.bo.Uint32(h[4:]),
		caplen:  r.bo.Uint32(h[8:]),
		origlen: r.bo.Uint32(h[12:]),
	}
}

// nextPcap reads the next Packet Record (draft-ietf-opsawg-pcap, Packet
// Record) into r.pkt. It reports false at the end of the input or when
// damage could not be skipped.
func (r *Reader) nextPcap() bool {
	for {
		avail := r.fill(pcapRecordHeaderLen)
		if avail == 0 {
			return false
		}
		at := r.off
		if avail < pcapRecordHeaderLen {
			r.damage(at, "truncated record header: %d bytes left in the file, a record header needs %d", avail, pcapRecordHeaderLen)
			return false
		}
		rec := r.pcapRecord(r.buf[r.start:])
		if rec.caplen > MaxPacketSize {
			r.damage(at, "corrupt record header: captured length %d exceeds the maximum of %d", rec.caplen, MaxPacketSize)
			if !r.resyncPcap(at, false) {
				return false
			}
			continue
		}
		n := pcapRecordHeaderLen + int(rec.caplen)
		if got := r.fill(n); got < n {
			r.damage(at, "truncated record: header says %d captured bytes, only %d left in the file", rec.caplen, got-pcapRecordHeaderLen)
			if !r.resyncPcap(at, true) {
				return false
			}
			continue
		}
		if rec.caplen > rec.origlen {
			r.note(noteCapOverOrig, at, "captured length %d exceeds original length %d", rec.caplen, rec.origlen)
		}
		if r.pcapSnap != 0 && rec.caplen > r.pcapSnap {
			r.note(noteCapOverSnap, at, "captured length %d exceeds the file's snap length %d", rec.caplen, r.pcapSnap)
		}
		nsec := int64(rec.frac)
		if !r.pcapNanos {
			nsec *= 1000
		}
		r.number++
		r.pkt = Packet{
			Number:    r.number,
			Time:      time.Unix(int64(rec.sec), nsec),
			LinkType:  r.pcapLink,
			Data:      r.buf[r.start+pcapRecordHeaderLen : r.start+n : r.start+n],
			Length:    int(rec.origlen),
			Offset:    at,
			ByteOrder: r.bo,
		}
		if !r.pcapSeen {
			r.pcapSeen = true
			r.sawLinkType(r.pcapLink)
		}
		r.lastSec, r.haveLast = int64(rec.sec), true
		r.consume(n)
		return true
	}
}

// plausible reports whether rec could be a real record header met while
// resynchronising: its lengths are within the caps, the captured length does
// not exceed the original one, the fraction of a second is in range, and
// its time is within a day of ref (when known).
func (r *Reader) plausible(rec pcapRecord, ref int64, haveRef bool) bool {
	if rec.origlen == 0 || rec.origlen > MaxPacketSize || rec.caplen > rec.origlen {
		return false
	}
	if (r.pcapNanos && rec.frac >= 1e9) || (!r.pcapNanos && rec.frac >= 1e6) {
		return false
	}
	if haveRef {
		d := int64(rec.sec) - ref
		if d > secondsPerDay || d < -secondsPerDay {
			return false
		}
	}
	return true
}

// resyncPcap looks, within ResyncWindow bytes after the damaged record
// header at offset bad (which is buf[start]), for the next record header
// that is plausible and is followed by another plausible header or by the
// end of the file. On success it skips to it, records what was skipped and
// reports true. quiet suppresses the record of failure (the damage itself,
// a truncated last record, is already recorded).
func (r *Reader) resyncPcap(bad int64, quiet bool) bool {
	for d := 1; d <= ResyncWindow; d++ {
		if r.fill(d+pcapRecordHeaderLen) < d+pcapRecordHeaderLen {
			break
		}
		rec := r.pcapRecord(r.buf[r.start+d:])
		if !r.plausible(rec, r.lastSec, r.haveLast) {
			continue
		}
		next := d + pcapRecordHeaderLen + int(rec.caplen)
		got := r.fill(next + pcapRecordHeaderLen)
		switch {
		case got == next && r.srcDone:
			// The candidate is the last record of the file.
		case got == next+pcapRecordHeaderLen:
			if !r.plausible(r.pcapRecord(r.buf[r.start+next:]), int64(rec.sec), true) {
				continue
			}
		default:
			continue
		}
		r.consume(d)
		r.damage(bad, "skipped %d bytes of garbage at offset %d", d, bad)
		return true
	}
	if !quiet {
		left := r.end - r.start
		r.damage(bad, "no valid record in the %d bytes after offset %d; stopped reading", min(left, ResyncWindow), bad)
	}
	return false
}
