// Command labd runs the lab's servers in one process, for use inside a
// network namespace: a GOPROXY-protocol HTTPS server (HTTP/2, server-side
// key log) serving the lab modules, and an authoritative DNS server.
//
//	labd serve [-goproxy ADDR] [-resolver ADDR] [-zone NAME=ADDR[,ADDR]]...
//	           [-ca FILE | -ca-out FILE] [-keylog FILE] [-cert-host NAME]...
//
// Without -ca it creates a CA and writes its certificate to -ca-out (the
// file to give the go command as SSL_CERT_FILE); -ca-key-out also writes
// its key, so that a later run can reuse it with -ca. It prints "ready"
// on standard output once every server is listening, and runs until
// SIGTERM or SIGINT.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/modsniff/modsniff/samples/lab"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(stderr, "usage: labd serve [flags]   (labd serve -h lists them)")
		return 2
	}
	fs := flag.NewFlagSet("labd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	goproxyAddr := fs.String("goproxy", "", "serve the GOPROXY protocol over HTTPS on `ADDR` (host:port)")
	resolverAddr := fs.String("resolver", "", "serve DNS (UDP and TCP) on `ADDR` (host:port)")
	caFile := fs.String("ca", "", "PEM `FILE` with the CA certificate and key to issue from (default: a new CA)")
	caOut := fs.String("ca-out", "", "write the CA certificate (PEM) to `FILE`")
	caKeyOut := fs.String("ca-key-out", "", "write the CA certificate and private key (PEM, mode 0600) to `FILE`, for -ca")
	keylog := fs.String("keylog", "", "append the server's TLS secrets (NSS key log) to `FILE`")
	var zones, certHosts listFlag
	fs.Var(&zones, "zone", "answer `NAME=ADDR[,ADDR]` (A and AAAA); repeatable")
	fs.Var(&certHosts, "cert-host", "`NAME` (or address) the GOPROXY certificate covers; repeatable (default: the zone's names, or proxy.lab)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := serve(*goproxyAddr, *resolverAddr, *caFile, *caOut, *caKeyOut, *keylog, zones, certHosts, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "labd:", err)
		return 1
	}
	return 0
}

func serve(goproxyAddr, resolverAddr, caFile, caOut, caKeyOut, keylogFile string, zones, certHosts []string, stdout, stderr io.Writer) error {
	if goproxyAddr == "" && resolverAddr == "" {
		return errors.New("nothing to serve: give -goproxy and/or -resolver")
	}
	zone, names, err := parseZones(zones)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	var closers []func() error
	defer func() {
		for _, c := range slices.Backward(closers) {
			if err := c(); err != nil {
				fmt.Fprintln(stderr, "labd:", err)
			}
		}
	}()
	if resolverAddr != "" {
		r, err := lab.StartResolver(resolverAddr, zone)
		if err != nil {
			return err
		}
		closers = append(closers, r.Close)
		fmt.Fprintf(stderr, "labd: resolver on %s (udp, tcp): %s\n", r.Addr, strings.Join(zones, " "))
	}
	if goproxyAddr != "" {
		ca, err := loadOrCreateCA(caFile, caOut, caKeyOut)
		if err != nil {
			return err
		}
		if len(certHosts) == 0 {
			certHosts = names
		}
		if len(certHosts) == 0 {
			certHosts = []string{"proxy.lab"}
		}
		cert, err := ca.Issue(certHosts...)
		if err != nil {
			return err
		}
		var keylog io.Writer
		if keylogFile != "" {
			f, err := os.OpenFile(keylogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return fmt.Errorf("key log: %w", err)
			}
			closers = append(closers, f.Close)
			keylog = f
		}
		g, err := lab.StartGoproxy(goproxyAddr, cert, lab.DefaultModules(), keylog)
		if err != nil {
			return err
		}
		closers = append(closers, g.Close)
		fmt.Fprintf(stderr, "labd: goproxy on https://%s for %s (CA %q)\n", g.Addr, strings.Join(certHosts, ", "), ca.Cert.Subject.CommonName)
	}
	fmt.Fprintln(stdout, "ready")
	sig := <-sigs
	fmt.Fprintf(stderr, "labd: %v, stopping\n", sig)
	return nil
}

// parseZones reads -zone values into the resolver's zone and the list of
// names in order of first appearance.
func parseZones(zones []string) (map[string][]netip.Addr, []string, error) {
	zone := make(map[string][]netip.Addr)
	var names []string
	for _, z := range zones {
		name, list, ok := strings.Cut(z, "=")
		name = strings.TrimSuffix(strings.TrimSpace(name), ".")
		if !ok || name == "" || list == "" {
			return nil, nil, fmt.Errorf("-zone %q: want NAME=ADDR[,ADDR]", z)
		}
		for _, s := range strings.Split(list, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(s))
			if err != nil {
				return nil, nil, fmt.Errorf("-zone %q: %w", z, err)
			}
			zone[name] = append(zone[name], a)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return zone, names, nil
}

// loadOrCreateCA reads the CA from caFile, or creates one; it writes the
// certificate to caOut and, for a created CA, certificate and key to
// caKeyOut, when those are set.
func loadOrCreateCA(caFile, caOut, caKeyOut string) (*lab.CA, error) {
	var ca *lab.CA
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("-ca: %w", err)
		}
		if ca, err = lab.LoadCA(data); err != nil {
			return nil, fmt.Errorf("-ca %s: %w", caFile, err)
		}
	} else {
		var err error
		if ca, err = lab.NewCA("modsniff lab CA"); err != nil {
			return nil, err
		}
	}
	if caOut != "" {
		if err := os.WriteFile(caOut, ca.PEM, 0o644); err != nil {
			return nil, fmt.Errorf("-ca-out: %w", err)
		}
	}
	if caKeyOut != "" {
		key, err := ca.KeyPEM()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(caKeyOut, append(append([]byte{}, ca.PEM...), key...), 0o600); err != nil {
			return nil, fmt.Errorf("-ca-key-out: %w", err)
		}
	}
	return ca, nil
}
