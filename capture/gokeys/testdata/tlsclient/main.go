// Command tlsclient makes TLS connections for the gokeys tests: it dials
// ADDR with crypto/tls (no KeyLogWriter), trusting the CA in the PEM file,
// sends a line, reads the answer and exits.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
)

func main() {
	ca := flag.String("ca", "", "PEM `file` of the CA to trust")
	name := flag.String("name", "server.test", "server `name`")
	n := flag.Int("n", 1, "number of connections")
	tls12 := flag.Bool("tls12", false, "use TLS 1.2")
	flag.Parse()
	pem, err := os.ReadFile(*ca)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: *name}
	if *tls12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	for range *n {
		c, err := tls.Dial("tcp", flag.Arg(0), cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintln(c, "ping")
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "pong\n" {
			fmt.Fprintln(os.Stderr, "answer:", line, err)
			os.Exit(1)
		}
		c.Close()
	}
}
