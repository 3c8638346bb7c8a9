package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// certsOptions are the flags of 'modsniff certs'.
type certsOptions struct {
	chain, issuers bool
	output         string
	keylog, trust  []string
	systemRoots    bool
}

func certsFlags() (*pflag.FlagSet, *certsOptions) {
	o := &certsOptions{}
	fs := pflag.NewFlagSet("certs", pflag.ContinueOnError)
	fs.BoolVar(&o.chain, "chain", false, "write every distinct chain the servers sent, leaf to root (the default)")
	fs.BoolVar(&o.issuers, "issuers", false, "write only the distinct untrusted roots and intermediates, ready for --trust or SSL_CERT_FILE")
	fs.StringVarP(&o.output, "output", "o", "", "write the PEM to `FILE` (mode 0600) instead of standard output")
	fs.StringArrayVar(&o.keylog, "keylog", nil, "NSS key log `FILE` to see TLS 1.3 certificates; keys inside pcapng files (DSB) are read automatically; repeatable")
	fs.StringArrayVar(&o.trust, "trust", nil, "PEM `FILE` of CA certificates you accept: their chains count as trusted in the verdicts; repeatable")
	fs.BoolVar(&o.systemRoots, "system-roots", false, "judge with the operating system's certificate store instead of the embedded Mozilla bundle")
	return fs, o
}

// runCerts writes the certificates a capture shows as PEM, each preceded
// by a comment naming its host, packet and verdict (RFC 7468 allows text
// between the encapsulation boundaries' blocks). Only certificates are
// written: never a key or a secret.
func runCerts(args []string, e *env) int {
	fs, o := certsFlags()
	if done, st := parseFlags(fs, args, e, "[--chain|--issuers] [-o FILE] CAPTURE...  ('-' reads standard input)"); done {
		return st
	}
	if fs.NArg() == 0 {
		e.errorf("certs: no capture given; usage: modsniff certs [--chain|--issuers] [-o FILE] CAPTURE...")
		return exitUsage
	}
	if o.chain && o.issuers {
		e.errorf("certs: --chain and --issuers exclude each other")
		return exitUsage
	}
	ao := &analyzeOptions{trust: o.trust, keylog: o.keylog, systemRoots: o.systemRoots, format: "text", failOn: "never"}
	opt, _, err := ao.analysisOptions()
	if err != nil {
		e.errorf("certs: %v", err)
		return exitUsage
	}
	dopt, err := ao.decodeOptions(e)
	if err != nil {
		e.errorf("certs: %v", err)
		return exitUsage
	}
	w := &pemWriter{opt: opt, issuers: o.issuers, seen: make(map[[32]byte]bool)}
	status := exitOK
	read := 0
	for _, path := range fs.Args() {
		in, err := pipeline.Open(read, path, e.stdin, dopt)
		if err != nil {
			e.errorf("%v", err)
			status = exitUsage
			continue
		}
		read++
		for _, s := range in.Events.TLS {
			w.session(path, s)
		}
	}
	if read == 0 {
		return exitUsage
	}
	if w.written == 0 {
		what := "no server certificate was seen (TLS 1.3 without keys hides them: pass --keylog)"
		if o.issuers {
			what = "no untrusted root or intermediate was seen"
		}
		fmt.Fprintf(&w.buf, "# %s\n", what)
	}
	if o.output == "" {
		if _, err := e.stdout.Write(w.buf.Bytes()); err != nil {
			e.errorf("certs: %v", err)
			return exitUsage
		}
		return status
	}
	if err := os.WriteFile(o.output, w.buf.Bytes(), 0o600); err != nil {
		e.errorf("certs: %v", err)
		return exitUsage
	}
	if err := os.Chmod(o.output, 0o600); err != nil { // an existing file keeps its mode otherwise
		e.errorf("certs: %v", err)
		return exitUsage
	}
	return status
}

// pemWriter collects the PEM output, each chain (or issuer) once.
type pemWriter struct {
	opt     analyze.Options
	issuers bool
	seen    map[[32]byte]bool
	buf     bytes.Buffer
	written int
}

// session writes the server certificates of one TLS session.
func (w *pemWriter) session(path string, s *decode.TLSSession) {
	m := s.Certificates
	if m == nil || len(m.Certificates) == 0 {
		return
	}
	var chain []*tlswire.CertData
	for _, c := range m.Certificates {
		if c.Info == nil {
			break // a verdict needs the parsed chain up to here
		}
		chain = append(chain, c.CertData)
	}
	verdict := "not judged: crypto/x509 cannot parse the leaf"
	trusted := false
	if len(chain) > 0 {
		verdict = analyze.DescribeChain(chain, w.opt)
		trusted = strings.HasPrefix(verdict, "leads to")
	}
	host := sessionName(s)
	where := fmt.Sprintf("%s packet %d", path, s.CertificatesAt.Packet)
	if w.issuers {
		if trusted {
			return
		}
		for i, c := range m.Certificates {
			if i == 0 || c.Info == nil || !c.Info.IsCA || w.seen[c.SHA256] {
				continue
			}
			w.seen[c.SHA256] = true
			w.write(c, []string{
				fmt.Sprintf("issuer of %s's chain, certificate %d of %d, seen at %s", host, i+1, len(m.Certificates), where),
				"chain verdict: " + verdict,
			})
		}
		return
	}
	h := sha256.New()
	for _, c := range m.Certificates {
		h.Write(c.SHA256[:])
	}
	var key [32]byte
	h.Sum(key[:0])
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	for i, c := range m.Certificates {
		role := "intermediate"
		switch {
		case i == 0:
			role = "leaf"
		case c.Info != nil && c.Info.SelfIssued:
			role = "root"
		}
		lines := []string{fmt.Sprintf("%s, certificate %d of %d (%s), seen at %s", host, i+1, len(m.Certificates), role, where)}
		if i == 0 {
			lines = append(lines, "chain verdict: "+verdict)
		}
		if c.Info == nil && c.Err != nil {
			lines = append(lines, "crypto/x509 cannot parse it: "+oneLine(c.Err.Error(), 200))
		}
		w.write(c, lines)
	}
}

// write appends one certificate: comment lines, then its PEM block.
func (w *pemWriter) write(c tlswire.Certificate, lines []string) {
	if w.written > 0 {
		w.buf.WriteString("\n")
	}
	for _, l := range lines {
		fmt.Fprintf(&w.buf, "# %s\n", oneLine(l, 400))
	}
	if c.Subject != "" {
		fmt.Fprintf(&w.buf, "# subject: %s\n", oneLine(c.Subject, 300))
	}
	if c.Issuer != "" {
		fmt.Fprintf(&w.buf, "# issuer:  %s\n", oneLine(c.Issuer, 300))
	}
	fmt.Fprintf(&w.buf, "# sha256:  %s\n", hex.EncodeToString(c.SHA256[:]))
	pem.Encode(&w.buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) //nolint:errcheck // a bytes.Buffer does not fail
	w.written++
}

// sessionName names a session's server: the name the client asked for,
// the tunnel's target, or the address.
func sessionName(s *decode.TLSSession) string {
	if s.ClientHello != nil && s.ClientHello.ServerName != "" {
		return oneLine(s.ClientHello.ServerName, 255)
	}
	if s.Tunnel != nil && s.Tunnel.Target != "" {
		return oneLine(s.Tunnel.Target, 255)
	}
	return s.Server().String()
}

// oneLine makes attacker-controlled text (a subject, a server name) safe
// for a comment line: control characters become '?', and it is cut at n
// bytes.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
