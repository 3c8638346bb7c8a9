package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/net/http/httpproxy"

	"github.com/modsniff/modsniff/analyze"
	"github.com/modsniff/modsniff/capture"
	"github.com/modsniff/modsniff/capture/probe"
	"github.com/modsniff/modsniff/decode/pipeline"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// probeOptions are the flags of 'modsniff probe'.
type probeOptions struct {
	analyzeOptions
	ifaces    []string
	writePath string
	noCapture bool
	full      bool
	timeout   time.Duration
}

const probeSynopsis = "[flags] [MODULE[@VERSION]...]  (default " + "golang.org/x/text" + ")"

func probeFlags() (*pflag.FlagSet, *probeOptions) {
	o := &probeOptions{}
	fs := pflag.NewFlagSet("probe", pflag.ContinueOnError)
	fs.StringArrayVarP(&o.ifaces, "interface", "i", nil, "capture on interface `NAME` (default any); repeatable")
	fs.StringVarP(&o.writePath, "write", "w", "", "write the capture, keys embedded, to `FILE` (default modsniff-probe-<UTC time>.pcapng); mode 0600")
	fs.BoolVar(&o.noCapture, "no-capture", false, "do not capture: report only what the TLS stack saw")
	fs.BoolVar(&o.full, "full", false, "keep the probe's application data in the capture (by default cut after the handshake)")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Second, "give up on a request after `D`")
	addReportFlags(fs, &o.analyzeOptions)
	return fs, o
}

func runProbe(args []string, e *env) int {
	fs, o := probeFlags()
	if done, st := parseFlags(fs, args, e, probeSynopsis); done {
		if st == exitOK {
			fmt.Fprint(e.stdout, probeHelp)
		}
		return st
	}
	opt, failOn, err := o.analysisOptions()
	if err != nil {
		e.errorf("probe: %v", err)
		return exitUsage
	}
	user, err := invokingUser()
	if err != nil {
		e.errorf("probe: %v", err)
		return exitUsage
	}
	environ := os.Environ()
	var prepare func(*exec.Cmd)
	uid, gid := -1, -1
	if user != nil {
		environ, prepare, uid, gid = user.environ(environ), user.prepare, user.uid, user.gid
	}
	ctx := context.Background()
	meta := capture.GatherMetadata(ctx, capture.GatherOptions{Version: version, Env: environ, Prepare: prepare})
	meta.Probe = true
	env := probeEnv(meta)
	roots, err := rootsFromEnv(environ)
	if err != nil {
		e.errorf("probe: %v", err)
		return exitUsage
	}
	var keys bytes.Buffer
	popt := probe.Options{Modules: fs.Args(), KeyLog: &keys, Timeout: o.timeout, Env: &env, RootCAs: roots, Proxy: proxyFunc(environ)}

	// Capture while probing, when allowed.
	ifaces := o.ifaces
	if len(ifaces) == 0 {
		ifaces = []string{"any"}
	}
	var lc *capture.Live
	var why string
	path := o.writePath
	if path == "" {
		path = "modsniff-probe-" + time.Now().UTC().Format("20060102T150405Z") + ".pcapng"
	}
	switch {
	case o.noCapture:
		why = "--no-capture"
	default:
		if err := capture.CheckLive(ifaces); err != nil {
			why = err.Error()
			break
		}
		filter := capture.DefaultFilter(func(k string) string { return lookupEnv(environ, k) }, meta.GoEnv)
		lc, err = capture.StartLive(capture.LiveConfig{Interfaces: ifaces, Filter: filter, SnapLen: capture.DefaultSnapLen,
			Full: o.full, NewTrimmer: newTrimmer, Path: path, Meta: meta, UID: uid, GID: gid})
		if err != nil {
			why = err.Error()
			lc = nil
		}
	}
	if lc != nil {
		fmt.Fprintf(e.stderr, "modsniff: probing while capturing on %s to %s\n", strings.Join(ifaces, ", "), path)
	}
	res := probe.Run(ctx, popt)
	printProbe(e, res, opt)

	if lc == nil {
		fmt.Fprintf(e.stdout, "\nNo capture (%s): the results above come from the TLS stack, not from packets.\n", why)
		if probeFailed(res) {
			return exitFindings
		}
		return exitOK
	}
	time.Sleep(500 * time.Millisecond) // late packets: a reset, an alert, an ICMP error
	stopErr := lc.Stop()
	final := lc.Metadata()
	final.AddHostsLines("/etc/hosts", lc.QueryNames())
	if err := lc.Finalize(final); err != nil && stopErr == nil {
		stopErr = err
	}
	if stopErr != nil {
		e.errorf("probe: writing %s: %v", path, stopErr)
		return exitUsage
	}
	if err := embedKeys(path, keys.Bytes(), uid, gid); err != nil {
		e.errorf("probe: %s holds the capture, but its keys could not be embedded: %v", path, err)
	}
	dopt, err := o.decodeOptions(e)
	if err != nil {
		e.errorf("probe: %v", err)
		return exitUsage
	}
	in, err := pipeline.Open(0, path, nil, dopt)
	if err != nil {
		e.errorf("probe: analyzing %s: %v", path, err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "\nThe capture %s (TLS keys embedded: Wireshark decrypts it as it is) shows:\n\n", path)
	rep := analyze.Build([]*analyze.Input{in}, opt)
	if st := o.write(rep, e, in); st != exitOK {
		return st
	}
	st := reportStatus(rep, failOn)
	if probeFailed(res) {
		st = max(st, exitFindings)
	}
	return st
}

const probeHelp = `
probe fetches each module the way the go command would — the GOPROXY list with its ',' and '|'
semantics, GONOPROXY/GOPRIVATE, GONOSUMDB, GOSUMDB, GOINSECURE, HTTPS_PROXY/NO_PROXY, the same
net/http and crypto/tls defaults, so the same ClientHello — with TLS key logging, while capturing.
The capture is written with its keys embedded, so TLS 1.3 interception shows the interceptor's
certificate, then analyzed. Without permission to capture it still reports what the TLS stack saw
(chain, version, ALPN, errors), labelled as not from packets. Under sudo it uses the invoking user's
go env, proxy variables and SSL_CERT_FILE.
`

// probeEnv is the go env the metadata recorded, with the go command's
// defaults.
func probeEnv(m *capture.Metadata) probe.Env {
	g := m.GoEnv
	e := probe.Env{GOPROXY: g["GOPROXY"], GONOPROXY: g["GONOPROXY"], GOPRIVATE: g["GOPRIVATE"], GONOSUMDB: g["GONOSUMDB"],
		GOSUMDB: g["GOSUMDB"], GOINSECURE: g["GOINSECURE"], GOFLAGS: g["GOFLAGS"], Source: "go env"}
	if len(g) == 0 {
		e.Source = "defaults (no go command found)"
	}
	return e.WithDefaults()
}

// proxyFunc is net/http's ProxyFromEnvironment for a given environment.
func proxyFunc(environ []string) func(*http.Request) (*url.URL, error) {
	get := func(upper string) string {
		if v := lookupEnv(environ, upper); v != "" {
			return v
		}
		return lookupEnv(environ, strings.ToLower(upper))
	}
	cfg := &httpproxy.Config{HTTPProxy: get("HTTP_PROXY"), HTTPSProxy: get("HTTPS_PROXY"), NoProxy: get("NO_PROXY")}
	f := cfg.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}

// rootsFromEnv loads the roots crypto/x509 would use under the given
// environment's SSL_CERT_FILE and SSL_CERT_DIR, or nil for the process's
// own system store when neither is set.
func rootsFromEnv(environ []string) (*x509.CertPool, error) {
	file, dirs := lookupEnv(environ, "SSL_CERT_FILE"), lookupEnv(environ, "SSL_CERT_DIR")
	if file == "" && dirs == "" {
		return nil, nil
	}
	var files []string
	if file != "" {
		files = append(files, file)
	} else {
		files = append(files, "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem")
	}
	dirList := []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
	if dirs != "" {
		dirList = strings.Split(dirs, ":")
	}
	pool := x509.NewCertPool()
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			pool.AppendCertsFromPEM(data)
		} else if f == file {
			return nil, fmt.Errorf("SSL_CERT_FILE=%s: %v", f, err)
		}
	}
	for _, d := range dirList {
		entries, _ := os.ReadDir(d)
		for _, de := range entries {
			if data, err := os.ReadFile(filepath.Join(d, de.Name())); err == nil {
				pool.AppendCertsFromPEM(data)
			}
		}
	}
	return pool, nil
}

// embedKeys rewrites the capture at path with the probe's key log in a
// Decryption Secrets Block before the first packet, keeping only the
// lines of sessions in the capture.
func embedKeys(path string, keys []byte, uid, gid int) error {
	kl := capture.NewKeyLog()
	kl.AddSecrets(capture.Secrets{Type: capture.SecretsTLSKeyLog, Data: keys})
	tmp := path + ".keys.tmp"
	if _, err := injectKeys(path, tmp, kl); err != nil {
		os.Remove(tmp)
		return err
	}
	if uid >= 0 {
		os.Chown(tmp, uid, gid)
	}
	return os.Rename(tmp, path)
}

// probeFailed reports whether a module could not be fetched.
func probeFailed(res *probe.Result) bool {
	for _, m := range res.Modules {
		if !m.OK {
			return true
		}
	}
	return false
}

// printProbe writes what the probe did, step by step, as the go command
// would have done it.
func printProbe(e *env, res *probe.Result, opt analyze.Options) {
	w := e.stdout
	fmt.Fprintf(w, "modsniff probe (%s): GOPROXY=%s GOSUMDB=%s", res.Env.Source, res.Env.GOPROXY, res.Env.GOSUMDB)
	if res.Env.GOPRIVATE != "" {
		fmt.Fprintf(w, " GOPRIVATE=%s", res.Env.GOPRIVATE)
	}
	fmt.Fprintln(w)
	for _, m := range res.Modules {
		v := m.Version
		if v == "" {
			v = "(version unknown)"
		}
		fmt.Fprintf(w, "\n%s %s\n", m.Path, v)
		for _, s := range m.Steps {
			status := s.Err
			if status == "" {
				status = fmt.Sprint(s.Status)
			}
			fmt.Fprintf(w, "  %-7s GET %s → %s", s.Kind, s.URL, status)
			if s.Proxy != "" {
				fmt.Fprintf(w, " (via proxy %s)", s.Proxy)
			}
			fmt.Fprintf(w, " [%s]\n", s.Elapsed.Round(time.Millisecond))
			if t := s.TLS; t != nil && t.Version != 0 {
				alpn := t.ALPN
				if alpn == "" {
					alpn = "no ALPN"
				}
				fmt.Fprintf(w, "          %s, %s, %s\n", tlswire.VersionName(t.Version), tls.CipherSuiteName(t.Cipher), alpn)
			}
			if t := s.TLS; t != nil && len(t.Chain) > 0 {
				var names []string
				chain := make([]*tlswire.CertData, len(t.Chain))
				for i, c := range t.Chain {
					names = append(names, certName(c))
					chain[i] = tlswire.NewCertData(c.Raw)
				}
				fmt.Fprintf(w, "          certificate: %s — %s\n", strings.Join(names, " ← "), analyze.DescribeChain(chain, opt))
			}
			if s.Decision != "" {
				fmt.Fprintf(w, "          %s\n", s.Decision)
			}
		}
		if m.OK {
			fmt.Fprintf(w, "  result: the go command would get it\n")
		} else {
			fmt.Fprintf(w, "  result: the go command would fail\n")
		}
	}
}

// certName names a certificate briefly: its CN, else its organisation.
func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.Subject.Organization) > 0 {
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}
