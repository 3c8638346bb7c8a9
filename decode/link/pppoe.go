package link

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// PPPoESession decodes a PPPoE session header (RFC 2516 §4) and the PPP
// protocol field after it (RFC 1661 §2), as found on DSL lines, so that the
// IP packet inside is decoded. gopacket's PPPoE and PPP layers are not
// DecodingLayers; this one is, for DecodingLayerParser.
type PPPoESession struct {
	layers.BaseLayer
	next gopacket.LayerType
}

var errPPPoE = errors.New("PPPoE session header truncated")

func (p *PPPoESession) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (p *PPPoESession) LayerType() gopacket.LayerType     { return layers.LayerTypePPPoE }
func (p *PPPoESession) NextLayerType() gopacket.LayerType { return p.next }

// DecodeFromBytes reads VER/TYPE, CODE, SESSION_ID, LENGTH and the two-byte
// PPP protocol.
func (p *PPPoESession) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errPPPoE
	}
	length := int(binary.BigEndian.Uint16(data[4:6]))
	payload := data[8:]
	if length >= 2 && length-2 < len(payload) {
		payload = payload[:length-2]
	}
	switch binary.BigEndian.Uint16(data[6:8]) {
	case 0x0021:
		p.next = layers.LayerTypeIPv4
	case 0x0057:
		p.next = layers.LayerTypeIPv6
	default:
		p.next = gopacket.LayerTypeZero
	}
	p.BaseLayer = layers.BaseLayer{Contents: data[:8], Payload: payload}
	return nil
}
