// Package lab stages the network a `go mod download` talks to, so that
// tests and the lab recordings can run the real go command without
// anything leaving the machine.
//
// It provides a GOPROXY-protocol HTTPS server (HTTP/2 and HTTP/1.1 via
// ALPN, with server-side NSS key logging) serving a few small modules, a
// throwaway certificate authority for it, an authoritative DNS server for
// a fixed zone, helpers for Linux network namespaces (`ip netns`), and the
// environment for an isolated go command. The labd command (./labd) runs
// the servers as one process, for use inside a namespace; record.sh builds
// namespaces with it, dnsmasq and mitmproxy to record the lab samples.
//
// Servers listen only where their callers say: tests use 127.0.0.0/8 or
// addresses inside namespaces they create, and namespaces get no default
// route.
package lab
