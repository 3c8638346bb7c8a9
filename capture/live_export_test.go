package capture

import (
	"bytes"
	"io"
)

// TrimCapture rewrites the capture src as a live capture would have
// written it (for the tests of package capture_test): every packet through
// a trimmer of its interface; full keeps everything. Secrets blocks and
// comments are dropped. It returns the new file and the number of packets
// cut.
func TrimCapture(src io.Reader, full bool) ([]byte, int, error) {
	r, err := NewReader(src, "src")
	if err != nil {
		return nil, 0, err
	}
	var out bytes.Buffer
	w, err := NewWriter(&out, Section{})
	if err != nil {
		return nil, 0, err
	}
	type key struct {
		sec, ifc int
	}
	ids := make(map[int]int) // reader interface index → writer interface
	trims := make(map[int]*trimmer)
	cut := 0
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		ifaces := r.Interfaces()
		idx := 0
		if len(ifaces) > 0 {
			// the last interface of the current section with this ID
			sec := ifaces[len(ifaces)-1].Section
			n := 0
			for i, ifc := range ifaces {
				if ifc.Section == sec {
					if n == p.Interface {
						idx = i
					}
					n++
				}
			}
		}
		id, ok := ids[idx]
		if !ok {
			id, err = w.AddInterface(Interface{LinkType: p.LinkType, SnapLen: 0})
			if err != nil {
				return nil, 0, err
			}
			ids[idx] = id
			trims[id] = newTrimmer(full)
		}
		tr := trims[id]
		keep, masks := tr.trim(p.LinkType, p.Data, p.Time)
		data := bytes.Clone(p.Data[:keep])
		for _, m := range masks {
			copy(data[m.off:m.off+m.n], bytes.Repeat([]byte{m.fill}, m.n))
		}
		if keep < len(p.Data) {
			cut++
		}
		if err := w.WritePacket(id, p.Time, data, max(p.Length, len(p.Data))); err != nil {
			return nil, 0, err
		}
	}
	return out.Bytes(), cut, nil
}
