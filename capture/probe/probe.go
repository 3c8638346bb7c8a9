package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"
)

// DefaultModules are probed when none are named: a module every proxy
// serves and that the checksum database knows.
var DefaultModules = []string{"golang.org/x/text"}

// Options configure a probe.
type Options struct {
	// Modules to fetch; DefaultModules when empty.
	Modules []string
	// KeyLog receives the NSS key log of every TLS session.
	KeyLog io.Writer
	// Timeout bounds each request (the go command's default client has
	// none; probe must end).
	Timeout time.Duration
	// Env is the configuration to follow; ReadEnv's when zero.
	Env *Env
	// RootCAs replaces the system roots (tests); nil means the system
	// store, which honours SSL_CERT_FILE and SSL_CERT_DIR like the go
	// command.
	RootCAs *x509.CertPool
	// Proxy replaces http.ProxyFromEnvironment (tests).
	Proxy func(*http.Request) (*url.URL, error)
}

// TLSInfo is what the TLS stack saw on one connection.
type TLSInfo struct {
	ServerName string
	Version    uint16
	Cipher     uint16
	ALPN       string
	// Chain is the certificate chain the server presented, verified or
	// not.
	Chain []*x509.Certificate
	// VerifyErr is the verification error, as the go command would print
	// it, "" when the chain verified.
	VerifyErr string
}

// Step is one request the go command would make, and what happened.
type Step struct {
	// Kind is "goproxy", "sumdb" or "direct".
	Kind string
	// URL is the request URL (credentials redacted).
	URL string
	// Proxy is the HTTP(S) proxy used, from HTTPS_PROXY/NO_PROXY ("" for
	// none).
	Proxy  string
	Status int
	// Err is the error as the go command would report it.
	Err     string
	TLS     *TLSInfo
	Elapsed time.Duration
	// Decision says what the go command does next.
	Decision string

	latest, version string // what a /@v/list or .info answer named
}

// ModuleResult is the outcome for one module.
type ModuleResult struct {
	Path    string
	Version string
	Steps   []*Step
	// OK is set when a proxy (or direct) and the checksum database both
	// answered as the go command needs.
	OK bool
}

// Result is everything a probe learnt.
type Result struct {
	Env     Env
	Modules []*ModuleResult
}

// Run fetches each module as the go command would.
func Run(ctx context.Context, opt Options) *Result {
	env := ReadEnv(ctx)
	if opt.Env != nil {
		env = *opt.Env
	}
	if opt.Timeout == 0 {
		opt.Timeout = 20 * time.Second
	}
	mods := opt.Modules
	if len(mods) == 0 {
		mods = DefaultModules
	}
	res := &Result{Env: env}
	for _, m := range mods {
		path, version, _ := strings.Cut(m, "@")
		res.Modules = append(res.Modules, probeModule(ctx, opt, env, path, version))
	}
	return res
}

// probeModule walks GOPROXY for one module, then the checksum database.
func probeModule(ctx context.Context, opt Options, env Env, path, version string) *ModuleResult {
	mr := &ModuleResult{Path: path, Version: version}
	esc, err := EscapePath(path)
	if err != nil {
		mr.Steps = append(mr.Steps, &Step{Kind: "goproxy", Err: err.Error(), Decision: "the go command rejects the path"})
		return mr
	}
	found := false
	if MatchPrefixPatterns(env.GONOPROXY, path) {
		s := fetchDirect(ctx, opt, env, path)
		s.Decision = "GONOPROXY/GOPRIVATE matches: the go command fetches it directly from its VCS"
		mr.Steps = append(mr.Steps, s)
		found = s.Err == "" && s.Status == 200
	} else {
		proxies, err := env.Proxies()
		if err != nil {
			mr.Steps = append(mr.Steps, &Step{Kind: "goproxy", Err: err.Error()})
			return mr
		}
		for _, p := range proxies {
			if p.URL == "off" {
				mr.Steps = append(mr.Steps, &Step{Kind: "goproxy", Err: "module lookup disabled by GOPROXY=off", Decision: "stop"})
				break
			}
			if p.URL == "direct" {
				s := fetchDirect(ctx, opt, env, path)
				mr.Steps = append(mr.Steps, s)
				found = s.Err == "" && s.Status == 200
				break
			}
			base := strings.TrimSuffix(p.URL, "/")
			if version == "" {
				s := fetch(ctx, opt, env, "goproxy", base+"/"+esc+"/@v/list")
				mr.Steps = append(mr.Steps, s)
				if s.Status == 200 {
					version = latest(s)
				}
				if next := decide(s, p); next {
					continue
				}
				if s.Status != 200 {
					break
				}
			}
			if version == "" {
				s := fetch(ctx, opt, env, "goproxy", base+"/"+esc+"/@latest")
				mr.Steps = append(mr.Steps, s)
				version = versionOf(s)
				if decide(s, p) {
					continue
				}
				if s.Status != 200 {
					break
				}
			}
			ev, _ := EscapePath(version)
			s := fetch(ctx, opt, env, "goproxy", base+"/"+esc+"/@v/"+ev+".info")
			mr.Steps = append(mr.Steps, s)
			if decide(s, p) {
				continue
			}
			found = s.Status == 200 && s.Err == ""
			break
		}
	}
	mr.Version = version
	sumOK := true
	db := env.SumDB()
	switch {
	case db.Name == "off":
	case MatchPrefixPatterns(env.GONOSUMDB, path):
	default:
		target := "/latest"
		if version != "" {
			ev, _ := EscapePath(version)
			target = "/lookup/" + esc + "@" + ev
		}
		s := fetch(ctx, opt, env, "sumdb", strings.TrimSuffix(db.URL, "/")+target)
		mr.Steps = append(mr.Steps, s)
		sumOK = s.Status == 200 && s.Err == ""
	}
	mr.OK = found && sumOK
	return mr
}

// decide records what the go command does after a proxy's answer and
// reports whether it moves on to the next GOPROXY entry.
func decide(s *Step, p ProxySpec) bool {
	switch {
	case s.Err == "" && s.Status == 200:
		return false
	case s.Status == 404 || s.Status == 410:
		s.Decision = "not found here: the go command tries the next GOPROXY entry"
		return true
	case p.FallBackOnError:
		s.Decision = "error, and this entry is followed by `|`: the go command tries the next GOPROXY entry"
		return true
	}
	s.Decision = "error, and this entry is not followed by `|`: the go command stops here"
	return false
}

// latest picks the highest semantic version of a /@v/list answer.
func latest(s *Step) string {
	return s.latest
}

// versionOf reads the Version of an .info or @latest answer.
func versionOf(s *Step) string { return s.version }

// fetchDirect probes a module's VCS host the way the go command discovers
// it: https://<path>?go-get=1.
func fetchDirect(ctx context.Context, opt Options, env Env, path string) *Step {
	return fetch(ctx, opt, env, "direct", "https://"+path+"?go-get=1")
}

// fetch makes one GET with a fresh transport configured like the go
// command's (http.DefaultTransport's settings, HTTPS_PROXY from the
// environment, HTTP/2 over TLS), recording the TLS connection.
func fetch(ctx context.Context, opt Options, env Env, kind, rawURL string) *Step {
	s := &Step{Kind: kind, URL: redact(rawURL)}
	u, err := url.Parse(rawURL)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	info := &TLSInfo{ServerName: u.Hostname()}
	insecure := MatchPrefixPatterns(env.GOINSECURE, u.Hostname()+u.Path)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	proxy := opt.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		pu, err := proxy(r)
		if pu != nil {
			s.Proxy = pu.Redacted()
		}
		return pu, err
	}
	roots := opt.RootCAs
	tr.TLSClientConfig = &tls.Config{
		KeyLogWriter: opt.KeyLog,
		// Verification is done below exactly as crypto/tls does it (system
		// roots, SSL_CERT_FILE, host name), so that the presented chain is
		// recorded even when it fails. The ClientHello is unaffected.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			info.Chain = cs.PeerCertificates
			if insecure || len(cs.PeerCertificates) == 0 {
				return nil
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: cs.ServerName, Roots: roots, Intermediates: inter})
			if err != nil {
				info.VerifyErr = "tls: failed to verify certificate: " + err.Error()
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		},
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	trace := &httptrace.ClientTrace{TLSHandshakeDone: func(cs tls.ConnectionState, _ error) {
		info.Version, info.Cipher, info.ALPN = cs.Version, cs.CipherSuite, cs.NegotiatedProtocol
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, rawURL, nil)
	if err != nil {
		s.Err = err.Error()
		return s
	}
	start := time.Now()
	client := &http.Client{Transport: tr, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) > 0 && via[0].URL.Scheme == "https" && r.URL.Scheme != "https" {
			return fmt.Errorf("redirected from secure URL %s to insecure URL %s", via[len(via)-1].URL, r.URL)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}}
	resp, err := client.Do(req)
	s.Elapsed = time.Since(start)
	if u.Scheme == "https" {
		s.TLS = info
	}
	if err != nil {
		s.Err = redactErr(err)
		return s
	}
	defer resp.Body.Close()
	tr.CloseIdleConnections()
	s.Status = resp.StatusCode
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != 200 {
		s.Err = fmt.Sprintf("reading %s: %s", s.URL, resp.Status)
		return s
	}
	switch {
	case strings.HasSuffix(u.Path, "/@v/list"):
		s.latest = latestVersion(strings.Fields(string(body)))
	case strings.HasSuffix(u.Path, ".info") || strings.HasSuffix(u.Path, "/@latest"):
		var v struct{ Version string }
		if json.Unmarshal(body, &v) == nil {
			s.version = v.Version
		}
	}
	return s
}

// redact drops credentials from a URL for reports.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

// redactErr writes an error without URL credentials.
func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Sprintf("%s %q: %v", ue.Op, redact(ue.URL), ue.Err)
	}
	return err.Error()
}

// latestVersion picks what the go command would: the highest release
// version, else the highest pre-release (semantic versioning, vX.Y.Z).
func latestVersion(list []string) string {
	best, bestPre := "", ""
	for _, v := range list {
		major, minor, patch, pre, ok := parseSemver(v)
		if !ok {
			continue
		}
		cur := &best
		if pre != "" {
			cur = &bestPre
		}
		if *cur == "" {
			*cur = v
			continue
		}
		bm, bn, bp, bpre, _ := parseSemver(*cur)
		if cmpInts(major, bm, minor, bn, patch, bp) > 0 || (cmpInts(major, bm, minor, bn, patch, bp) == 0 && pre > bpre) {
			*cur = v
		}
	}
	if best != "" {
		return best
	}
	return bestPre
}

// parseSemver splits "v1.2.3-pre+meta".
func parseSemver(v string) (major, minor, patch int, pre string, ok bool) {
	rest, found := strings.CutPrefix(v, "v")
	if !found {
		return
	}
	rest, _, _ = strings.Cut(rest, "+")
	rest, pre, _ = strings.Cut(rest, "-")
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return
	}
	nums := make([]int, 3)
	for i, p := range parts {
		if p == "" || len(p) > 9 {
			return
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return
			}
			nums[i] = nums[i]*10 + int(c-'0')
		}
	}
	return nums[0], nums[1], nums[2], pre, true
}

func cmpInts(a1, b1, a2, b2, a3, b3 int) int {
	switch {
	case a1 != b1:
		return a1 - b1
	case a2 != b2:
		return a2 - b2
	}
	return a3 - b3
}
