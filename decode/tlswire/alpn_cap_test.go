package tlswire

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// helloBodyWithALPN builds a ClientHello body (RFC 8446 §4.1.2) whose only
// extension is ALPN (RFC 7301) listing n protocol names.
func helloBodyWithALPN(n int) []byte {
	var list []byte
	for i := range n {
		p := fmt.Sprintf("p%04x", i)
		list = append(list, byte(len(p)))
		list = append(list, p...)
	}
	ext := binary.BigEndian.AppendUint16(nil, ExtALPN)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(list)+2))
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(list)))
	ext = append(ext, list...)
	b := []byte{3, 3}
	b = append(b, make([]byte, 32)...)
	b = append(b, 0, 0, 2, 0x13, 0x01, 1, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
	return append(b, ext...)
}

func TestClientHelloKeepsTheFirstALPNNames(t *testing.T) {
	for _, tc := range []struct {
		name     string
		offered  int
		kept     int
		omitted  int
		noteWant string
	}{
		{"a browser's list is kept whole", 3, 3, 0, ""},
		{"exactly the cap is kept whole", maxALPN, maxALPN, 0, ""},
		{"a hostile list keeps the first 32 and counts the rest", 10000, maxALPN, 10000 - maxALPN, "lists 10000 protocol names: the first 32 are kept"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := ParseClientHello(helloBodyWithALPN(tc.offered))
			if err != nil {
				t.Fatal(err)
			}
			if len(ch.ALPN) != tc.kept || ch.ALPNOmitted != tc.omitted {
				t.Errorf("kept %d, omitted %d; want %d and %d", len(ch.ALPN), ch.ALPNOmitted, tc.kept, tc.omitted)
			}
			if ch.ALPN[0] != "p0000" {
				t.Errorf("first name %q, want p0000 (JA4 reads it)", ch.ALPN[0])
			}
			notes := strings.Join(ch.Notes, "; ")
			if tc.noteWant == "" && strings.Contains(notes, "protocol names") || !strings.Contains(notes, tc.noteWant) {
				t.Errorf("notes %q, want %q", notes, tc.noteWant)
			}
		})
	}
}
