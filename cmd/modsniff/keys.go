package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

// runKeys dispatches 'modsniff keys SUBCOMMAND'.
func runKeys(args []string, e *env) int {
	if len(args) == 0 {
		e.errorf("keys: no subcommand; usage: modsniff keys inject -o OUT.pcapng --keylog FILE IN")
		return exitUsage
	}
	switch args[0] {
	case "inject":
		return runKeysInject(args[1:], e)
	case "strip":
		return runKeysStrip(args[1:], e)
	case "-h", "--help", "help":
		fmt.Fprintf(e.stdout, "Usage: modsniff keys inject -o OUT.pcapng --keylog FILE IN\n"+
			"       modsniff keys strip -o OUT.pcapng IN\n\n"+
			"  inject  write a copy of IN with the TLS keys of its sessions embedded (pcapng Decryption Secrets Block)\n"+
			"  strip   write a copy of IN without its TLS keys (Decryption Secrets Blocks), to share\n")
		return exitOK
	}
	e.errorf("keys: unknown subcommand %q (want inject or strip)", args[0])
	return exitUsage
}

// keysInjectOptions are the flags of 'modsniff keys inject'.
type keysInjectOptions struct {
	output string
	keylog []string
}

func keysInjectFlags() (*pflag.FlagSet, *keysInjectOptions) {
	o := &keysInjectOptions{}
	fs := pflag.NewFlagSet("keys inject", pflag.ContinueOnError)
	fs.StringVarP(&o.output, "output", "o", "", "write the copy to `FILE` (pcapng; required)")
	fs.StringArrayVar(&o.keylog, "keylog", nil, "NSS key log `FILE` (SSLKEYLOGFILE) holding the keys; repeatable (required)")
	return fs, o
}

func runKeysInject(args []string, e *env) int {
	fs, o := keysInjectFlags()
	if done, st := parseFlags(fs, args, e, "-o OUT.pcapng --keylog FILE IN  (IN: pcap or pcapng, '-' is standard input)"); done {
		return st
	}
	switch {
	case fs.NArg() != 1:
		e.errorf("keys inject: want exactly one input capture, got %d; usage: modsniff keys inject -o OUT.pcapng --keylog FILE IN", fs.NArg())
		return exitUsage
	case o.output == "":
		e.errorf("keys inject: -o OUT.pcapng is required")
		return exitUsage
	case len(o.keylog) == 0:
		e.errorf("keys inject: --keylog FILE is required")
		return exitUsage
	}
	in := fs.Arg(0)
	if in == "-" {
		tmp, err := spool(e.stdin)
		if err != nil {
			e.errorf("keys inject: reading standard input: %v", err)
			return exitUsage
		}
		defer os.Remove(tmp)
		in = tmp
	} else if same(in, o.output) {
		e.errorf("keys inject: the output %s is the input", o.output)
		return exitUsage
	}
	kl, err := readKeyLogs(o.keylog, e)
	if err != nil {
		e.errorf("keys inject: --keylog: %v", err)
		return exitUsage
	}
	res, err := injectKeys(in, o.output, kl)
	if err != nil {
		e.errorf("keys inject: %v", err)
		return exitUsage
	}
	for _, d := range res.damage {
		e.errorf("warning: %s: %s (copied as far as it could be read)", fs.Arg(0), d)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d packets, keys for %d of %d TLS sessions (%d key log lines)\n",
		o.output, res.packets, res.sessions, res.randoms, res.lines)
	return exitOK
}

// injectResult says what injectKeys wrote.
type injectResult struct {
	packets, sessions, randoms, lines int
	damage                            []string
}

// errNoKeys is returned when no key matches a session of the input.
var errNoKeys = errors.New("no keys match")

// injectKeys copies the capture at in to a pcapng file at out with a
// Decryption Secrets Block holding the key log lines (from kl and from the
// input's own blocks) of the TLS sessions whose ClientHello is in the
// input, before the first packet. The input is read twice: once to decode
// the sessions, once to copy it.
func injectKeys(in, out string, kl *capture.KeyLog) (*injectResult, error) {
	// Pass 1: the ClientHello randoms, sections, interfaces and the
	// input's own secrets.
	dec, err := pipeline.Open(0, in, nil, decode.Options{})
	if err != nil {
		return nil, err
	}
	kl.AddKeyLog(dec.Keys)
	sections, ifaces := dec.Sections, dec.Interfaces
	res := &injectResult{}
	for _, e := range dec.Info.Errors {
		res.damage = append(res.damage, e.Error())
	}
	randoms := decode.ClientRandoms(dec.Events)
	lines, sessions := kl.Lines(randoms)
	res.sessions, res.randoms, res.lines = sessions, len(randoms), strings.Count(string(lines), "\n")
	if sessions == 0 {
		return nil, fmt.Errorf("%w any of the %d TLS sessions (ClientHellos) in %s: nothing written", errNoKeys, len(randoms), in)
	}

	// Pass 2: the copy.
	if res.packets, err = writeCopy(in, out, sections, ifaces, lines); err != nil {
		return nil, err
	}
	return res, nil
}

// writeCopy copies the capture at in to a pcapng file at out (mode 0600)
// with copyWithKeys, and removes out when anything fails.
func writeCopy(in, out string, sections []capture.Section, ifaces []capture.Interface, keylog []byte) (int, error) {
	r, err := capture.Open(in)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	f, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := copyWithKeys(r, bw, sections, ifaces, keylog)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return 0, err
	}
	return n, nil
}

// copyWithKeys writes the packets of r to w as one pcapng section: the
// first section's options with the comments of every section, every
// interface, the secrets, the packets (with their comments) and the last
// interface statistics.
func copyWithKeys(r *capture.Reader, w io.Writer, sections []capture.Section, ifaces []capture.Interface, keylog []byte) (int, error) {
	var sec capture.Section
	for i, s := range sections {
		if i == 0 {
			sec = s
			sec.Comments = nil
		}
		sec.Comments = append(sec.Comments, s.Comments...)
	}
	pw, err := capture.NewWriter(w, sec)
	if err != nil {
		return 0, err
	}
	// Interfaces are numbered per section in the input and across the
	// one section of the output.
	type ifaceKey struct{ section, id int }
	ids := make(map[ifaceKey]int)
	perSection := make(map[int]int)
	for _, ifc := range ifaces {
		id, err := pw.AddInterface(ifc)
		if err != nil {
			return 0, err
		}
		ids[ifaceKey{ifc.Section, perSection[ifc.Section]}] = id
		perSection[ifc.Section]++
	}
	if len(keylog) > 0 {
		if err := pw.WriteSecrets(capture.SecretsTLSKeyLog, keylog); err != nil {
			return 0, err
		}
	}
	offsets := make([]int64, len(sections))
	for i, s := range sections {
		offsets[i] = s.Offset
	}
	n := 0
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		section := 0
		if len(offsets) > 0 {
			section = max(0, sort.Search(len(offsets), func(i int) bool { return offsets[i] > p.Offset })-1)
		}
		k := ifaceKey{section, p.Interface}
		id, ok := ids[k]
		if !ok {
			// An interface the reader did not keep (beyond its metadata
			// budget): describe it by the packet's link type.
			if id, err = pw.AddInterface(capture.Interface{LinkType: p.LinkType}); err != nil {
				return n, err
			}
			ids[k] = id
		}
		if err := pw.WritePacketComment(id, p.Time, p.Data, p.Length, strings.Join(p.Comments, "\n")); err != nil {
			return n, err
		}
		n++
	}
	for i, ifc := range ifaces {
		if ifc.Stats != nil {
			if err := pw.WriteStats(i, *ifc.Stats); err != nil {
				return n, err
			}
		}
	}
	return n, pw.Flush()
}

// spool copies standard input to a temporary file (mode 0600) so that it
// can be read twice.
func spool(r io.Reader) (string, error) {
	f, err := os.CreateTemp("", "modsniff-keys-*.pcap")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}

// same reports whether two paths name the same existing file.
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func runKeysStrip(args []string, e *env) int {
	fs := pflag.NewFlagSet("keys strip", pflag.ContinueOnError)
	output := fs.StringP("output", "o", "", "write the copy to `FILE` (pcapng; required)")
	if done, st := parseFlags(fs, args, e, "-o OUT.pcapng IN  (IN: pcap or pcapng, '-' is standard input)"); done {
		return st
	}
	switch {
	case fs.NArg() != 1:
		e.errorf("keys strip: want exactly one input capture, got %d; usage: modsniff keys strip -o OUT.pcapng IN", fs.NArg())
		return exitUsage
	case *output == "":
		e.errorf("keys strip: -o OUT.pcapng is required")
		return exitUsage
	}
	in := fs.Arg(0)
	if in == "-" {
		tmp, err := spool(e.stdin)
		if err != nil {
			e.errorf("keys strip: reading standard input: %v", err)
			return exitUsage
		}
		defer os.Remove(tmp)
		in = tmp
	} else if same(in, *output) {
		e.errorf("keys strip: the output %s is the input", *output)
		return exitUsage
	}
	res, err := stripKeys(in, *output)
	if err != nil {
		e.errorf("keys strip: %v", err)
		return exitUsage
	}
	for _, d := range res.damage {
		e.errorf("warning: %s: %s (copied as far as it could be read)", fs.Arg(0), d)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d packets, %d decryption secrets blocks left out\n", *output, res.packets, res.blocks)
	return exitOK
}

// stripResult says what stripKeys wrote.
type stripResult struct {
	packets, blocks int
	damage          []string
}

// stripKeys copies the capture at in to a pcapng file at out (mode 0600)
// without its Decryption Secrets Blocks: the copy shows the handshakes but
// cannot decrypt them. The input is read twice: once for its sections and
// interfaces, once to copy it.
func stripKeys(in, out string) (*stripResult, error) {
	res := &stripResult{}
	r, err := capture.Open(in)
	if err != nil {
		return nil, err
	}
	r.OnSecrets = func(capture.Secrets) { res.blocks++ }
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	sections, ifaces := r.Sections(), r.Interfaces()
	for _, e := range r.Errors() {
		res.damage = append(res.damage, e.Error())
	}
	r.Close()
	if res.packets, err = writeCopy(in, out, sections, ifaces, nil); err != nil {
		return nil, err
	}
	return res, nil
}
