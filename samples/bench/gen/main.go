// Command gen writes a large, realistic, deterministic pcapng capture for
// measuring modsniff (see package benchgen):
//
//	go run ./samples/bench/gen -size 1024 -o /tmp/bulk.pcapng
//
// It prints what the capture holds and how fast it was written on standard
// error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/modsniff/modsniff/samples/bench/benchgen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.Int64("size", 1024, "size of the capture in `MB` (MiB)")
	out := fs.String("o", "", "write the capture to `FILE` ('-' is standard output)")
	mix := fs.String("mix", "default", "traffic `MIX`: default (5,000 TLS connections per GiB, 85 % bulk), handshake-heavy (4× the connections, 30 % bulk) or light (3,000 long downloads whatever the size)")
	conns := fs.Int("conns", 0, "TLS connections (default: 5,000 per GiB in the default mix, 20,000 in handshake-heavy, 3,000 in light)")
	handshakes := fs.Int("handshakes", 0, "distinct TLS handshakes (default 240)")
	seed := fs.Uint64("seed", 1, "seed: the same flags give the same bytes")
	quiet := fs.Bool("q", false, "print nothing on success")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *out == "" || fs.NArg() > 0 || *size <= 0 {
		fmt.Fprintln(stderr, "usage: gen -size MB -o FILE [-conns N] [-handshakes N] [-seed N]")
		return 2
	}
	w := stdout
	var f *os.File
	if *out != "-" {
		var err error
		if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			fmt.Fprintf(stderr, "gen: %v\n", err)
			return 1
		}
		w = f
	}
	start := time.Now()
	st, err := benchgen.Generate(w, benchgen.Options{Size: *size << 20, Conns: *conns, Handshakes: *handshakes, Seed: *seed, Mix: benchgen.Mix(*mix)})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gen: %v\n", err)
		return 1
	}
	if !*quiet {
		el := time.Since(start)
		fmt.Fprintf(stderr, "gen: mix %s: %d bytes (%.0f %% bulk), %d packets, %d TCP connections (%d TLS of which %d TLS 1.2, %d through a proxy), %d distinct handshakes, %d sites with chains in clear, %d DNS queries (%d over TCP, %d NXDOMAIN, %d forged answers), %d out of order, %d retransmitted, %d noise packets; %.2fs, %.0f MB/s\n",
			*mix, st.Bytes, 100*float64(st.BulkBytes)/float64(max(st.Bytes, 1)), st.Packets, st.Conns, st.TLS, st.TLS12, st.Proxied, st.Handshakes, st.Sites,
			st.DNSQueries, st.DNSTCP, st.NXDomain, st.Forged, st.OutOfOrder, st.Retransmits, st.Noise,
			el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
	}
	return 0
}
