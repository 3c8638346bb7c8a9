// Package capture reads and writes packet captures: classic pcap (micro- and
// nanosecond, either byte order), pcapng (several sections, interfaces with
// different link types, comments, Decryption Secrets Blocks, interface
// statistics), either of them gzip-compressed, and live traffic through
// libpcap when built with cgo.
//
// Readers stream: memory is bounded by the largest record, never by the size
// of the file. Damage is recorded with its byte offset and packet number and
// the packets before it are still delivered.
package capture

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/decode/wire"
)

// Packet is one frame read from a capture.
type Packet struct {
	// Number is the 1-based frame number within its input, the number
	// Wireshark shows as frame.number.
	Number int
	// Time is the capture timestamp.
	Time time.Time
	// LinkType is the link-layer header type of the interface the frame was
	// captured on (pcapng files may mix several).
	LinkType layers.LinkType
	// Data holds the captured bytes. It aliases the reader's buffer and is
	// valid only until the next call to Next.
	Data []byte
	// Length is the frame's length on the wire; it exceeds len(Data) when the
	// capture's snap length cut the frame.
	Length int
	// Interface is the pcapng interface ID within its section (0 for pcap).
	Interface int
	// Offset is the byte offset of the record in the (decompressed) input.
	Offset int64
	// Comments holds the opt_comment options of a pcapng packet block; nil
	// when it has none (always for pcap).
	Comments []string
	// ByteOrder is the byte order of the host that wrote the capture (the
	// file's), which some link types' headers are in (NFLOG's TLVs).
	ByteOrder binary.ByteOrder
}

// Ref points at one packet of one input. It is an alias of [wire.Ref],
// kept for callers that name it here; new code names wire.Ref.
type Ref = wire.Ref

// NewRef is [wire.NewRef].
func NewRef(input, packet int, t time.Time) Ref { return wire.NewRef(input, packet, t) }

// linkTypeNames holds the LINKTYPE_ names of the tcpdump.org link-layer
// header types registry for the link types modsniff decodes or meets often.
var linkTypeNames = map[layers.LinkType]string{
	0:   "NULL",
	1:   "ETHERNET",
	12:  "RAW", // DLT_RAW on some BSDs
	14:  "RAW", // DLT_RAW on OpenBSD
	101: "RAW",
	105: "IEEE802_11",
	108: "LOOP",
	113: "LINUX_SLL",
	127: "IEEE802_11_RADIOTAP",
	228: "IPV4",
	229: "IPV6",
	239: "NFLOG",
	276: "LINUX_SLL2",
}

// LinkTypeName returns the short name of a link type as used in reports
// ("ETHERNET", "LINUX_SLL2", "RAW", "NULL" …), following the LINKTYPE_ names
// of the tcpdump.org link-layer header types registry.
func LinkTypeName(lt layers.LinkType) string {
	if name, ok := linkTypeNames[lt]; ok {
		return name
	}
	return fmt.Sprintf("LINKTYPE_%d", uint16(lt))
}
