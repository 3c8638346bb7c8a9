package synth

import (
	"fmt"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// ipHeader holds the IP fields a packet is built with.
type ipHeader struct {
	src, dst *Host
	id       uint16
	df       bool
	ttl      uint8 // 0: the sender's TTL
}

// fail records the first error met while building the capture; Bytes
// returns it.
func (c *Capture) fail(err error) {
	if c.err == nil && err != nil {
		c.err = err
	}
}

// serialize builds an IP packet carrying the given transport layers, with
// lengths and checksums filled in.
func serialize(h ipHeader, proto layers.IPProtocol, ls ...gopacket.SerializableLayer) ([]byte, error) {
	ttl := h.ttl
	if ttl == 0 {
		ttl = h.src.TTL
	}
	var network gopacket.NetworkLayer
	var all []gopacket.SerializableLayer
	if h.src.Addr.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: ttl, Id: h.id, Protocol: proto,
			SrcIP: net.IP(h.src.Addr.AsSlice()), DstIP: net.IP(h.dst.Addr.AsSlice())}
		if h.df {
			ip.Flags = layers.IPv4DontFragment
		}
		network, all = ip, append(all, ip)
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: ttl, NextHeader: proto,
			SrcIP: net.IP(h.src.Addr.AsSlice()), DstIP: net.IP(h.dst.Addr.AsSlice())}
		network, all = ip, append(all, ip)
	}
	for _, l := range ls {
		switch t := l.(type) {
		case *layers.UDP:
			if err := t.SetNetworkLayerForChecksum(network); err != nil {
				return nil, err
			}
		case *layers.TCP:
			if err := t.SetNetworkLayerForChecksum(network); err != nil {
				return nil, err
			}
		}
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, append(all, ls...)...); err != nil {
		return nil, fmt.Errorf("synth: serializing %s → %s: %w", h.src.Addr, h.dst.Addr, err)
	}
	return buf.Bytes(), nil
}

// UDP sends one UDP datagram from src:sport to dst:dport at t and returns
// the IP packet as sent (for an ICMP error to quote).
func (c *Capture) UDP(t time.Time, src *Host, sport uint16, dst *Host, dport uint16, id *IPIDs, payload []byte) []byte {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	ip, err := serialize(ipHeader{src: src, dst: dst, id: id.id(), df: true}, layers.IPProtocolUDP, u, gopacket.Payload(payload))
	if err != nil {
		c.fail(err)
		return nil
	}
	c.emit(t, src, dst, ip)
	return ip
}

// ICMPUnreachable sends an ICMP destination unreachable (RFC 792) with the
// given code from `from` to the sender of the quoted packet, quoting as
// much of it as Linux does (up to 576 bytes of ICMP message, RFC 1812
// §4.3.2.3).
func (c *Capture) ICMPUnreachable(t time.Time, from, to *Host, code uint8, quoted []byte) {
	if len(quoted) > 576-20-8 {
		quoted = quoted[:576-20-8]
	}
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, code)}
	ip, err := serialize(ipHeader{src: from, dst: to, id: c.socketID(from).id()}, layers.IPProtocolICMPv4, ic, gopacket.Payload(quoted))
	if err != nil {
		c.fail(err)
		return
	}
	c.emit(t, from, to, ip)
}

// ICMP codes used by the scenarios (RFC 792).
const (
	ICMPHostUnreachable = 1
	ICMPPortUnreachable = 3
)

// Fragmented sends one UDP datagram as IPv4 fragments of at most mtu bytes
// each, in the given order of fragment indexes (Linux sends the last
// fragment first when it fragments locally; routers send them in order).
// Fragments carry a shared, non-zero IP ID and no DF bit.
func (c *Capture) Fragmented(t time.Time, gap time.Duration, src *Host, sport uint16, dst *Host, dport uint16, mtu int, order []int, payload []byte) {
	if !src.Addr.Is4() {
		c.fail(fmt.Errorf("synth: IPv6 fragments are not built"))
		return
	}
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	whole, err := serialize(ipHeader{src: src, dst: dst}, layers.IPProtocolUDP, u, gopacket.Payload(payload))
	if err != nil {
		c.fail(err)
		return
	}
	datagram := whole[20:] // UDP header and payload, checksum computed over all of it
	per := (mtu - 20) &^ 7
	var parts [][]byte
	for off := 0; off < len(datagram); off += per {
		parts = append(parts, datagram[off:min(off+per, len(datagram))])
	}
	id := uint16(1 + c.Rand.IntN(65535))
	for i, idx := range order {
		if idx < 0 || idx >= len(parts) {
			c.fail(fmt.Errorf("synth: fragment %d of %d", idx, len(parts)))
			return
		}
		ip := &layers.IPv4{Version: 4, TTL: src.TTL, Id: id, Protocol: layers.IPProtocolUDP,
			FragOffset: uint16(idx * per / 8), SrcIP: net.IP(src.Addr.AsSlice()), DstIP: net.IP(dst.Addr.AsSlice())}
		if idx < len(parts)-1 {
			ip.Flags = layers.IPv4MoreFragments
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			ip, gopacket.Payload(parts[idx])); err != nil {
			c.fail(err)
			return
		}
		c.emit(t.Add(time.Duration(i)*gap), src, dst, buf.Bytes())
	}
}

// ICMPFragNeeded sends an ICMP "fragmentation needed and DF set" (type 3
// code 4) from a router to the sender of quoted, with the next-hop MTU in
// the header's second word (RFC 1191 §4).
func (c *Capture) ICMPFragNeeded(t time.Time, from, to *Host, mtu uint16, quoted []byte) {
	if len(quoted) > 576-20-8 {
		quoted = quoted[:576-20-8]
	}
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, 4), Seq: mtu}
	ip, err := serialize(ipHeader{src: from, dst: to, id: c.socketID(from).id()}, layers.IPProtocolICMPv4, ic, gopacket.Payload(quoted))
	if err != nil {
		c.fail(err)
		return
	}
	c.emit(t, from, to, ip)
}
