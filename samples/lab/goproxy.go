package lab

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Goproxy is a GOPROXY-protocol server over HTTPS (StartGoproxy).
type Goproxy struct {
	// Addr is the listening address, host:port.
	Addr string

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	err  error // from Serve, valid after done is closed

	mu       sync.Mutex
	requests []Request
}

// Request is one request the lab GOPROXY answered.
type Request struct {
	Method, Path string
	// Proto is the HTTP version, "HTTP/2.0" or "HTTP/1.1".
	Proto  string
	Status int
}

// modVersion is one served version with its prebuilt zip.
type modVersion struct {
	mod Module
	zip []byte
}

// StartGoproxy serves the GOPROXY protocol over HTTPS for mods on addr
// ("127.0.0.1:0" picks a port): /<escaped path>/@v/list, /@v/<v>.info,
// .mod and .zip, and /<escaped path>/@latest. HTTP/2 and HTTP/1.1 are
// offered through ALPN (h2 first). An unknown module path is answered
// 404 Not Found and an unknown version of a known module 410 Gone, both
// with a one-line text body as proxy.golang.org gives. keylog, when not
// nil, receives the server side's TLS secrets in the NSS key log format.
func StartGoproxy(addr string, cert tls.Certificate, mods []Module, keylog io.Writer) (*Goproxy, error) {
	byPath := make(map[string][]modVersion)
	for _, m := range mods {
		z, err := m.Zip()
		if err != nil {
			return nil, fmt.Errorf("start goproxy: %w", err)
		}
		byPath[m.Path] = append(byPath[m.Path], modVersion{m, z})
	}
	for _, vs := range byPath {
		slices.SortFunc(vs, func(a, b modVersion) int { return compareVersions(a.mod.Version, b.mod.Version) })
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start goproxy: %w", err)
	}
	g := &Goproxy{Addr: ln.Addr().String(), ln: ln, done: make(chan struct{})}
	g.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.serve(w, r, byPath) }),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{cert},
			NextProtos:   []string{"h2", "http/1.1"},
			KeyLogWriter: keylog,
			MinVersion:   tls.VersionTLS12,
		},
	}
	go func() {
		defer close(g.done)
		if err := g.srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			g.err = err
		}
	}()
	return g, nil
}

// URL returns the proxy's base URL for GOPROXY, with host as its host
// name (the name in the certificate) and the listening port.
func (g *Goproxy) URL(host string) string {
	_, port, _ := net.SplitHostPort(g.Addr)
	if port == "443" {
		return "https://" + host
	}
	return "https://" + net.JoinHostPort(host, port)
}

// Requests returns the requests answered so far, in order.
func (g *Goproxy) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests)
}

// Close stops the server and closes its connections.
func (g *Goproxy) Close() error {
	err := g.srv.Close()
	<-g.done
	if err == nil {
		err = g.err
	}
	if err != nil {
		return fmt.Errorf("goproxy %s: %w", g.Addr, err)
	}
	return nil
}

func (g *Goproxy) serve(w http.ResponseWriter, r *http.Request, byPath map[string][]modVersion) {
	status, ctype, body := answer(r, byPath)
	g.mu.Lock()
	g.requests = append(g.requests, Request{Method: r.Method, Path: r.URL.Path, Proto: r.Proto, Status: status})
	g.mu.Unlock()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// answer computes the GOPROXY protocol response for r.
func answer(r *http.Request, byPath map[string][]modVersion) (status int, ctype string, body []byte) {
	const text = "text/plain; charset=utf-8"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return http.StatusMethodNotAllowed, text, []byte("method not allowed\n")
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	var escPath, file string
	if i := strings.LastIndex(p, "/@v/"); i > 0 {
		escPath, file = p[:i], p[i+len("/@v/"):]
	} else if s, ok := strings.CutSuffix(p, "/@latest"); ok && s != "" {
		escPath, file = s, "@latest"
	} else {
		return http.StatusNotFound, text, []byte("not found\n")
	}
	modPath, ok := UnescapePath(escPath)
	if !ok {
		return http.StatusBadRequest, text, []byte("bad request: invalid escaped module path\n")
	}
	versions := byPath[modPath]
	if len(versions) == 0 {
		return http.StatusNotFound, text, fmt.Appendf(nil, "not found: module %s: no such module in the lab\n", modPath)
	}
	switch file {
	case "list":
		var b strings.Builder
		for _, v := range versions {
			b.WriteString(v.mod.Version + "\n")
		}
		return http.StatusOK, text, []byte(b.String())
	case "@latest":
		return http.StatusOK, "application/json", []byte(versions[len(versions)-1].mod.Info())
	}
	ext := ""
	for _, e := range []string{".info", ".mod", ".zip"} {
		if strings.HasSuffix(file, e) {
			ext = e
		}
	}
	if ext == "" {
		return http.StatusNotFound, text, []byte("not found\n")
	}
	version, ok := UnescapePath(strings.TrimSuffix(file, ext))
	if !ok {
		return http.StatusBadRequest, text, []byte("bad request: invalid escaped version\n")
	}
	i := slices.IndexFunc(versions, func(v modVersion) bool { return v.mod.Version == version })
	if i < 0 {
		return http.StatusGone, text, fmt.Appendf(nil, "not found: %s@%s: invalid version: unknown revision %s\n", modPath, version, version)
	}
	v := versions[i]
	switch ext {
	case ".info":
		return http.StatusOK, "application/json", []byte(v.mod.Info())
	case ".mod":
		return http.StatusOK, text, []byte(v.mod.GoMod())
	default:
		return http.StatusOK, "application/zip", v.zip
	}
}
