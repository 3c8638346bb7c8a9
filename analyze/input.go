package analyze

import (
	"io"
	"slices"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
)

// Input is one capture after decoding: what it held and what was wrong
// with it.
type Input struct {
	Info     InputInfo
	Events   *decode.Events
	Sections []capture.Section
	// Secrets holds the Decryption Secrets Blocks found in the file.
	Secrets []capture.Secrets
}

// ReadInput reads and decodes the capture at path ("-" is stdin) as input
// number index. It fails only when the input cannot be read at all (not a
// capture, missing); damage inside the file is listed in Info.Errors and the
// packets before it are decoded.
func ReadInput(index int, path string, stdin io.Reader, opt decode.Options) (*Input, error) {
	var r *capture.Reader
	var err error
	if path == "-" {
		r, err = capture.NewReader(stdin, "-")
	} else {
		r, err = capture.Open(path)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	in := &Input{Info: InputInfo{Path: path, LinkTypes: []string{}, Errors: []InputError{}}}
	r.OnSecrets = func(s capture.Secrets) { in.Secrets = append(in.Secrets, s) }
	d := decode.New(index, opt)
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		d.Packet(p)
	}
	in.Events = d.Finish()
	st := in.Events.Stats[len(in.Events.Stats)-1]
	in.Info.Format = r.Format()
	in.Info.Packets = st.Packets
	in.Info.First = Timestamp(st.First)
	in.Info.Last = Timestamp(st.Last)
	for _, lt := range r.LinkTypes() {
		in.Info.LinkTypes = append(in.Info.LinkTypes, capture.LinkTypeName(lt))
	}
	for _, e := range r.Errors() {
		in.Info.Errors = append(in.Info.Errors, InputError{Offset: e.Offset, Packet: e.Packet, Message: e.Msg})
	}
	for _, n := range in.Events.Notes {
		in.Info.Notes = append(in.Info.Notes, n.Msg)
	}
	for _, ifc := range r.Interfaces() {
		if ifc.Stats != nil {
			in.Info.Dropped += ifc.Stats.Dropped + ifc.Stats.OSDropped
		}
	}
	in.Sections = slices.Clone(r.Sections())
	return in, nil
}

// Merge combines the events of several inputs, in input order.
func Merge(inputs []*Input) *decode.Events {
	ev := &decode.Events{}
	for _, in := range inputs {
		e := in.Events
		ev.DNS = append(ev.DNS, e.DNS...)
		ev.TCP = append(ev.TCP, e.TCP...)
		ev.TLS = append(ev.TLS, e.TLS...)
		ev.Proxy = append(ev.Proxy, e.Proxy...)
		ev.HTTP = append(ev.HTTP, e.HTTP...)
		ev.ICMP = append(ev.ICMP, e.ICMP...)
		ev.Notes = append(ev.Notes, e.Notes...)
		ev.Stats = append(ev.Stats, e.Stats...)
	}
	return ev
}
