// Package pipeline turns capture inputs — a file, standard input, the file a
// live capture or the probe wrote — into decoded events and what is known
// about each input: its format, packets, link types, damage, decoding notes
// and the pcapng interface statistics (the Interface Statistics Block of
// draft-ietf-opsawg-pcapng). It is the one way every command and test reads a
// capture; the analysis receives its output and opens no file.
package pipeline

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
	"github.com/modsniff/modsniff/decode/wire"
)

// Input is one capture after decoding: what it held and what was wrong
// with it.
type Input struct {
	// Index is the input's number in the order given (Ref.Input).
	Index  int
	Info   Info
	Events *decode.Events
	// Sections and Interfaces are the pcapng sections (with modsniff's
	// metadata, when it made the capture) and interfaces; one of each for
	// pcap.
	Sections   []capture.Section
	Interfaces []capture.Interface
	// Keys holds the TLS secrets of the file's own Decryption Secrets
	// Blocks, parsed and bounded (capture.MaxKeyLogEntries); the blocks'
	// raw bytes are not kept: a capture can carry a gigabyte of them.
	Keys *capture.KeyLog
	// SecretsBlocks counts the Decryption Secrets Blocks found in the file.
	SecretsBlocks int
}

// Info describes one input as facts; the report formats them.
type Info struct {
	// Path is the file name as given ("-" for standard input).
	Path string
	// Format is the reader's name of the file format ("pcapng", "pcap", …).
	Format string
	// Packets is the number of packets decoded.
	Packets int
	// LinkTypes lists the link types of the packets, in order of first use.
	LinkTypes []layers.LinkType
	// Errors locates damage: the packets before it were decoded.
	Errors []capture.InputError
	// Notes are remarks on decoding that are not damage: packets cut by
	// the snap length, a link type that is not decoded, a limit reached,
	// unusable key log lines, how many TLS sessions were decrypted.
	Notes []string
	// First and Last are the times of the first and last packet.
	First, Last time.Time
	// Dropped is the number of packets the capturing kernel dropped, from
	// pcapng interface statistics (isb_ifdrop + isb_osdrop).
	Dropped uint64
	// Stopped is set when reading stopped early because the run's
	// decode.Budget was spent; Notes says where and why.
	Stopped bool
}

// maxKeyNotes caps the notes about unusable lines of an input's
// Decryption Secrets Blocks.
const maxKeyNotes = 20

// Open reads and decodes the capture at path ("-" is stdin) as input number
// index. It fails only when the input cannot be read at all (not a capture,
// missing); damage inside the file is listed in Info.Errors and the packets
// before it are decoded.
func Open(index int, path string, stdin io.Reader, opt decode.Options) (*Input, error) {
	var r *capture.Reader
	var err error
	if path == "-" {
		if stdin == nil {
			return nil, fmt.Errorf("-: no standard input to read")
		}
		r, err = capture.NewReader(stdin, "-")
	} else {
		r, err = capture.Open(path)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if path != "-" && opt.Shards == 0 {
		if st, err := os.Stat(path); err == nil && st.Size() < shardMinBytes {
			opt.Shards = decode.Sequential
		}
	}
	in, exact := decodeInput(index, path, r, opt, path != "-")
	if exact || path == "-" || in != nil && in.Info.Stopped {
		return in, nil
	}
	// The input came near a limit of the decoder as a whole (a shard
	// reached its share): decode it again with one flow decoder, which
	// meets the limits as the sequential decoder does (they are defined on
	// it), so that the result does not depend on the number of CPUs; the
	// front end still runs beside it.
	in = nil
	runtime.GC() // the shards' flows go before the second pass makes its own
	again, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer again.Close()
	opt.Shards = 1
	in, _ = decodeInput(index, path, again, opt, false)
	return in, nil
}

// shardMinBytes is the size under which a capture file is decoded on one
// goroutine: starting the shards would cost more than they save.
const shardMinBytes = 4 << 20

// OpenAll opens the captures at paths in turn; inputs are numbered in the
// order they could be read. Each path that could not be read at all yields
// an error naming it, and the others are still read.
func OpenAll(paths []string, stdin io.Reader, opt decode.Options) ([]*Input, []error) {
	var inputs []*Input
	var errs []error
	for _, path := range paths {
		in, err := Open(len(inputs), path, stdin, opt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		inputs = append(inputs, in)
	}
	return inputs, errs
}

// Decode reads every packet of r and decodes it as input number index named
// path. r is not closed.
//
// TLS keys come from opt.Keys (the --keylog files) and from the input's own
// Decryption Secrets Blocks of type TLSK, which apply from where they are in
// the file on; a note says how many sessions were decrypted. A capture
// modsniff trimmed for privacy (its metadata says so) is decoded as such.
//
// With more than one CPU the input is decoded on several goroutines
// (decode.Sharded); the events are the same except when the input comes
// near the decoder's limits as a whole, where a stream that cannot be read
// again may differ from the sequential result in what the limits cut (see
// decode.Sharded.Finish). Open, given a file, then decodes it again on one
// goroutine.
func Decode(index int, path string, r *capture.Reader, opt decode.Options) *Input {
	in, _ := decodeInput(index, path, r, opt, false)
	return in
}

// decodeInput is Decode; exact reports that the events are those of the
// sequential decoder. With again, the caller can read the input again:
// decoding stops, returning nil, as soon as a shard reaches its share of a
// limit.
func decodeInput(index int, path string, r *capture.Reader, opt decode.Options, again bool) (*Input, bool) {
	in := &Input{Index: index, Info: Info{Path: path, LinkTypes: []layers.LinkType{}, Errors: []capture.InputError{}}}
	embedded := capture.NewKeyLog()
	in.Keys = embedded
	var keyNotes []string
	var sh *decode.Sharded
	r.OnSecrets = func(s capture.Secrets) {
		if sh != nil {
			sh.Sync() // the secrets apply from here on, as they would on one goroutine
		}
		in.SecretsBlocks++
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
	var d *decode.Decoder
	if opt.Shards != decode.Sequential {
		sh = decode.NewSharded(index, opt)
	}
	if sh == nil {
		d = decode.New(index, opt)
	}
	var stopped string
	for {
		if why, ok := opt.Budget.Exceeded(); ok {
			stopped = why
			break
		}
		p, err := r.Next()
		if err != nil {
			break
		}
		if p.Number > wire.MaxPacket {
			// Evidence names packets by 32-bit numbers.
			stopped = fmt.Sprintf("packet numbers beyond %d are not supported", wire.MaxPacket)
			break
		}
		if sh != nil {
			if again && sh.Near() {
				sh.Abort()
				r.OnSecrets = nil
				return nil, false
			}
			sh.Packet(p)
		} else {
			d.Packet(p)
		}
	}
	exact := true
	if sh != nil {
		in.Events, exact = sh.Finish()
	} else {
		in.Events = d.Finish()
	}
	st := &in.Events.Stats[len(in.Events.Stats)-1]
	in.Info.Format = r.Format()
	in.Info.Packets = st.Packets
	in.Info.First, in.Info.Last = st.First, st.Last
	in.Info.LinkTypes = append(in.Info.LinkTypes, r.LinkTypes()...)
	in.Info.Errors = append(in.Info.Errors, r.Errors()...)
	for _, n := range in.Events.Notes {
		in.Info.Notes = append(in.Info.Notes, n.Msg)
	}
	in.Info.Notes = append(in.Info.Notes, keyNotes...)
	if stopped != "" {
		in.Info.Notes = append(in.Info.Notes, fmt.Sprintf("reading stopped after packet %d: %s; the findings cover the packets before it", in.Info.Packets, stopped))
		in.Info.Stopped = true
	}
	if n := decode.KeySources([]tlswire.KeySource{given, embedded}).Len(); n > 0 {
		in.Info.Notes = append(in.Info.Notes, decryptionSummary(in.Events, embedded.Len() > 0))
	}
	in.Interfaces = r.Interfaces()
	in.Info.Dropped = endFromInterfaceStats(st, in.Interfaces)
	in.Sections = slices.Clone(r.Sections())
	return in, exact
}

// endFromInterfaceStats sets st.End, the end of the capture, to the last
// packet or the latest interface statistics time after it (a capture that
// ran on after its last packet), and returns the packets the kernel dropped.
func endFromInterfaceStats(st *decode.Stats, ifaces []capture.Interface) (dropped uint64) {
	st.End = st.Last
	for _, ifc := range ifaces {
		if ifc.Stats == nil {
			continue
		}
		dropped += ifc.Stats.Dropped + ifc.Stats.OSDropped
		for _, t := range []time.Time{ifc.Stats.EndTime, ifc.Stats.Time} {
			// A statistics block from long after the packets is not the
			// end of this capture but a clock error; an hour bounds it.
			if t.After(st.End) && (st.Last.IsZero() || t.Sub(st.Last) < time.Hour) {
				st.End = t
			}
		}
	}
	return dropped
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

// Merge combines the events of several inputs, in input order. The events
// of a single input are not copied: the result shares its slices, clipped
// so that an append to them cannot write into the input's, and an empty
// one is nil as a copy would be. The inputs stay referenced until the
// analysis ends, so a copy would keep every event pointer twice (0.7 MB
// on a 4 GiB capture of 20,000 connections).
func Merge(inputs []*Input) *decode.Events {
	if len(inputs) == 1 {
		e := inputs[0].Events
		return &decode.Events{DNS: shared(e.DNS), TCP: shared(e.TCP), TLS: shared(e.TLS), Proxy: shared(e.Proxy),
			HTTP: shared(e.HTTP), ICMP: shared(e.ICMP), NTP: shared(e.NTP), Notes: shared(e.Notes), Stats: shared(e.Stats)}
	}
	ev := &decode.Events{}
	for _, in := range inputs {
		e := in.Events
		ev.DNS = append(ev.DNS, e.DNS...)
		ev.TCP = append(ev.TCP, e.TCP...)
		ev.TLS = append(ev.TLS, e.TLS...)
		ev.Proxy = append(ev.Proxy, e.Proxy...)
		ev.HTTP = append(ev.HTTP, e.HTTP...)
		ev.ICMP = append(ev.ICMP, e.ICMP...)
		ev.NTP = append(ev.NTP, e.NTP...)
		ev.Notes = append(ev.Notes, e.Notes...)
		ev.Stats = append(ev.Stats, e.Stats...)
	}
	return ev
}

// shared returns s clipped to its length, nil when empty: what appending s
// to nil gives, without the copy.
func shared[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s[:len(s):len(s)]
}
