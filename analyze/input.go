package analyze

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
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

// maxKeyNotes caps the notes about unusable lines of an input's
// Decryption Secrets Blocks.
const maxKeyNotes = 20

// ReadInput reads and decodes the capture at path ("-" is stdin) as input
// number index. It fails only when the input cannot be read at all (not a
// capture, missing); damage inside the file is listed in Info.Errors and the
// packets before it are decoded.
//
// TLS keys come from opt.Keys (the --keylog files) and from the input's own
// Decryption Secrets Blocks of type TLSK, which apply from where they are in
// the file on; a note says how many sessions were decrypted.
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
	embedded := capture.NewKeyLog()
	var keyNotes []string
	r.OnSecrets = func(s capture.Secrets) {
		in.Secrets = append(in.Secrets, s)
		for _, e := range embedded.AddSecrets(s) {
			if len(keyNotes) < maxKeyNotes {
				keyNotes = append(keyNotes, "TLS key log: "+e.Error())
			}
		}
	}
	given := opt.Keys
	opt.Keys = decode.KeySources{given, embedded}
	if m, ok := capture.ParseMetadata(r.Sections()); ok && !m.Full {
		opt.Trimmed = true
	}
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
	in.Info.Notes = append(in.Info.Notes, keyNotes...)
	if n := decode.KeySources([]tlswire.KeySource{given, embedded}).Len(); n > 0 {
		in.Info.Notes = append(in.Info.Notes, decryptionSummary(in.Events, embedded.Len() > 0))
	}
	stats := &in.Events.Stats[len(in.Events.Stats)-1]
	stats.End = stats.Last
	for _, ifc := range r.Interfaces() {
		if ifc.Stats == nil {
			continue
		}
		in.Info.Dropped += ifc.Stats.Dropped + ifc.Stats.OSDropped
		for _, t := range []time.Time{ifc.Stats.EndTime, ifc.Stats.Time} {
			// A statistics block from long after the packets is not the
			// end of this capture but a clock error; an hour bounds it.
			if t.After(stats.End) && (stats.Last.IsZero() || t.Sub(stats.Last) < time.Hour) {
				stats.End = t
			}
		}
	}
	in.Sections = slices.Clone(r.Sections())
	return in, nil
}

// decryptionSummary says how many of an input's TLS sessions were
// decrypted with the keys available, and why the others were not.
func decryptionSummary(ev *decode.Events, embedded bool) string {
	var total, done, missing, wrong, unusable int
	for _, s := range ev.TLS {
		if s.EncryptedCount[0]+s.EncryptedCount[1] == 0 {
			continue
		}
		total++
		switch {
		case s.Decrypted:
			done++
		case s.Keys == tlswire.KeysWrong:
			wrong++
		case s.Keys == tlswire.KeysUnusable:
			unusable++
		default:
			missing++
		}
	}
	from := "the key log"
	if embedded {
		from = "the keys (including the capture's own decryption secrets)"
	}
	msg := fmt.Sprintf("TLS decryption: %d of %d encrypted sessions decrypted with %s", done, total, from)
	var why []string
	if missing > 0 {
		why = append(why, fmt.Sprintf("%d without keys", missing))
	}
	if wrong > 0 {
		why = append(why, fmt.Sprintf("%d with keys that do not decrypt them", wrong))
	}
	if unusable > 0 {
		why = append(why, fmt.Sprintf("%d with an unsupported cipher suite or version", unusable))
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, ", ") + ")"
	}
	return msg
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
