// Package tcpconv builds the packets of TCP conversations for tests:
// Ethernet or LINUX_SLL2 frames of one connection with numbered bytes, TLS
// records filled with marker bytes, hello-shaped handshake records. The
// live capture's tests and the privacy trimmer's tests share it.
package tcpconv

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// AppByte and HSByte are bytes that tests look for in what is kept: application data is filled
// with AppByte and must never be kept; handshake bodies are filled with
// HSByte and must be kept whole.
const (
	AppByte = 0xEE
	HSByte  = 0x55
)

// Conn builds the packets of one TCP connection, numbering its bytes.
type Conn struct {
	t          testing.TB
	Client     netip.AddrPort
	Server     netip.AddrPort
	CSeq, SSeq uint32 // next sequence number of each side
	SLL2       bool   // LINUX_SLL2 frames instead of Ethernet
}

// New starts a connection from client to server ("10.0.0.2:40000"); its
// first sequence numbers are 1000 (client) and 5000 (server).
func New(t testing.TB, client, server string) *Conn {
	return &Conn{t: t, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		CSeq: 1000, SSeq: 5000}
}

// LinkType is the link type of the frames Seg builds.
func (c *Conn) LinkType() layers.LinkType {
	if c.SLL2 {
		return layers.LinkTypeLinuxSLL2
	}
	return layers.LinkTypeEthernet
}

// SegAt builds a segment from the client (or the server) with the given
// flags ("S", "SA", "A", "PA", "F", "R") at sequence number seq.
func (c *Conn) SegAt(fromClient bool, flags string, seq uint32, payload []byte) []byte {
	c.t.Helper()
	src, dst := c.Client, c.Server
	ack := c.SSeq
	if !fromClient {
		src, dst = c.Server, c.Client
		ack = c.CSeq
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
			tcp.Ack = ack
		case 'P':
			tcp.PSH = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	var ip gopacket.NetworkLayer
	var ipl gopacket.SerializableLayer
	etype := layers.EthernetTypeIPv4
	if src.Addr().Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		ip, ipl = v4, v4
	} else {
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		ip, ipl = v6, v6
		etype = layers.EthernetTypeIPv6
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		c.t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	ls := []gopacket.SerializableLayer{ipl, tcp, gopacket.Payload(payload)}
	if !c.SLL2 {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: etype}
		ls = append([]gopacket.SerializableLayer{eth}, ls...)
	}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		c.t.Fatal(err)
	}
	out := buf.Bytes()
	if c.SLL2 {
		hdr := make([]byte, 20)
		binary.BigEndian.PutUint16(hdr, uint16(etype))
		binary.BigEndian.PutUint16(hdr[8:], 1) // ARPHRD_ETHER
		hdr[11] = 6
		out = append(hdr, out...)
	}
	return out
}

// Seg builds the next segment of a side and advances its sequence number.
func (c *Conn) Seg(fromClient bool, flags string, payload []byte) []byte {
	seq := &c.SSeq
	if fromClient {
		seq = &c.CSeq
	}
	p := c.SegAt(fromClient, flags, *seq, payload)
	*seq += uint32(len(payload))
	if strings.ContainsAny(flags, "SF") {
		*seq++
	}
	return p
}

// Handshake returns the three packets of the TCP handshake.
func (c *Conn) Handshake() [][]byte {
	syn := c.Seg(true, "S", nil)
	synack := c.Seg(false, "SA", nil)
	ack := c.Seg(true, "A", nil)
	return [][]byte{syn, synack, ack}
}

// Record is a TLS record of type typ whose body is n bytes of fill.
func Record(typ byte, n int, fill byte) []byte {
	r := []byte{typ, 3, 3, byte(n >> 8), byte(n)}
	return append(r, bytes.Repeat([]byte{fill}, n)...)
}

// ClientHello is a handshake record holding a ClientHello-shaped message.
func ClientHello(n int) []byte {
	body := append([]byte{1, byte(n >> 16), byte(n >> 8), byte(n)}, bytes.Repeat([]byte{HSByte}, n)...)
	return append([]byte{22, 3, 1, byte(len(body) >> 8), byte(len(body))}, body...)
}

// ServerHello is a handshake record holding a ServerHello for version v
// (0x0304 is written as supported_versions, RFC 8446 §4.2.1).
func ServerHello(v uint16) []byte {
	msg := []byte{3, 3}
	msg = append(msg, bytes.Repeat([]byte{HSByte}, 32)...) // random
	msg = append(msg, 0, 0x13, 0x01, 0)                    // session ID, cipher, compression
	if v == 0x0304 {
		msg = append(msg, 0, 6, 0, 43, 0, 2, 3, 4)
	} else {
		msg = append(msg, 0, 0)
	}
	body := append([]byte{2, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	return append([]byte{22, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}
