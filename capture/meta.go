package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// MetaPrefix starts the section-header comment that carries Metadata as
// JSON. A second, human-readable comment says the same for Wireshark's
// capture-file properties.
const MetaPrefix = "modsniff-metadata/1 "

// Metadata is the context modsniff records with a live capture: what was
// run, what it said, and the settings that decide where the go command
// connects. Secrets are redacted before it is written.
type Metadata struct {
	ModsniffVersion string    `json:"modsniff_version"`
	Started         time.Time `json:"started"`
	Ended           time.Time `json:"ended,omitzero"`
	Interfaces      []string  `json:"interfaces,omitempty"`
	Filter          string    `json:"filter,omitempty"`
	// Command is the wrapped command line, ExitStatus its status (nil when
	// no command was wrapped or it did not finish) and StderrTail the end
	// of what it wrote to standard error.
	Command    []string `json:"command,omitempty"`
	ExitStatus *int     `json:"exit_status,omitempty"`
	StderrTail string   `json:"stderr_tail,omitempty"`
	// GoVersion is `go version`; GoEnv the go env variables that decide
	// where modules come from (GOPROXY, GONOPROXY, GOPRIVATE, GONOSUMDB,
	// GOSUMDB, GOINSECURE, GOFLAGS, GODEBUG, GOTOOLCHAIN).
	GoVersion string            `json:"go_version,omitempty"`
	GoEnv     map[string]string `json:"go_env,omitempty"`
	// Env holds HTTP_PROXY, HTTPS_PROXY, NO_PROXY, ALL_PROXY (credentials
	// redacted), SSL_CERT_FILE and SSL_CERT_DIR.
	Env map[string]string `json:"env,omitempty"`
	// ResolvConf is /etc/resolv.conf; Hosts the /etc/hosts lines naming
	// the hosts involved; NSSwitchHosts the `hosts:` line of nsswitch.conf.
	ResolvConf    string   `json:"resolv_conf,omitempty"`
	Hosts         []string `json:"hosts,omitempty"`
	NSSwitchHosts string   `json:"nsswitch_hosts,omitempty"`
	// Full is set when application data was kept (--full).
	Full bool `json:"full,omitempty"`
	// Probe is set for captures made by `modsniff probe`.
	Probe bool `json:"probe,omitempty"`
	// Signal names the signal that ended the command ("TERM"), if one did;
	// ExitStatus is then 128 plus its number.
	Signal string `json:"signal,omitempty"`
	// RunAs is the user the command ran as when modsniff ran under sudo.
	RunAs string `json:"run_as,omitempty"`
	// Notes says what could not be gathered, and why.
	Notes []string `json:"notes,omitempty"`
	// Keys says where the capture's TLS keys came from (an eBPF uprobe on
	// the command's crypto/tls), or in one line why it has none;
	// KeysNotCovered names the programs the command ran whose TLS keys
	// were not read (not Go: git, curl). No secret is ever written here.
	Keys           string   `json:"keys,omitempty"`
	KeysNotCovered []string `json:"keys_not_covered,omitempty"`
}

// Comments renders m as the two section-header comments modsniff writes:
// a summary for people and the JSON for modsniff. A pcapng option holds at
// most 65535 bytes: when m is larger, its longest free-text fields are
// shortened (their ends kept) until both comments fit.
func (m *Metadata) Comments() ([]string, error) {
	c := *m
	for range 64 {
		js, err := json.Marshal(&c)
		if err != nil {
			return nil, fmt.Errorf("capture metadata: %w", err)
		}
		sum := c.Summary()
		if len(js)+len(MetaPrefix) <= maxCommentLen && len(sum) <= maxCommentLen {
			return []string{sum, MetaPrefix + string(js)}, nil
		}
		if !c.shrink() {
			break
		}
	}
	return nil, fmt.Errorf("capture metadata: too large for a pcapng comment")
}

// maxCommentLen is the longest section-header comment written (the pcapng
// limit of one option, with room to spare).
const maxCommentLen = 60000

// shrink halves the longest of the free-text fields; false when nothing
// is left to shorten.
func (m *Metadata) shrink() bool {
	fields := []*string{&m.StderrTail, &m.ResolvConf, &m.Filter}
	longest := fields[0]
	for _, f := range fields[1:] {
		if len(*f) > len(*longest) {
			longest = f
		}
	}
	switch {
	case len(*longest) > 64:
		*longest = strings.ToValidUTF8((*longest)[len(*longest)/2:], "")
	case len(m.Hosts) > 0:
		m.Hosts = m.Hosts[:len(m.Hosts)/2]
	case len(m.Command) > 1:
		m.Command = m.Command[:len(m.Command)/2]
	default:
		return false
	}
	return true
}

// Summary is the human-readable form of m.
func (m *Metadata) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Captured by modsniff %s", m.ModsniffVersion)
	if !m.Started.IsZero() {
		fmt.Fprintf(&b, " at %s", m.Started.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	if len(m.Command) > 0 {
		fmt.Fprintf(&b, "Command: %s\n", strings.Join(m.Command, " "))
		if m.ExitStatus != nil {
			fmt.Fprintf(&b, "Exit status: %d\n", *m.ExitStatus)
		}
	}
	if len(m.Interfaces) > 0 {
		fmt.Fprintf(&b, "Interfaces: %s", strings.Join(m.Interfaces, ", "))
		if m.Filter != "" {
			fmt.Fprintf(&b, "; filter: %s", m.Filter)
		}
		b.WriteString("\n")
	}
	if m.Full {
		b.WriteString("Application data kept (--full)\n")
	} else if !m.Probe && !m.Started.IsZero() {
		b.WriteString("Application data cut after the handshakes (DNS, ICMP and TLS handshakes kept)\n")
	}
	if m.GoVersion != "" {
		fmt.Fprintf(&b, "%s\n", m.GoVersion)
	}
	for _, k := range sortedKeys(m.GoEnv) {
		fmt.Fprintf(&b, "%s=%s\n", k, m.GoEnv[k])
	}
	for _, k := range sortedKeys(m.Env) {
		fmt.Fprintf(&b, "%s=%s\n", k, m.Env[k])
	}
	if m.NSSwitchHosts != "" {
		fmt.Fprintf(&b, "nsswitch.conf: %s\n", m.NSSwitchHosts)
	}
	if rc := resolvSummary(m.ResolvConf); rc != "" {
		fmt.Fprintf(&b, "resolv.conf: %s\n", rc)
	}
	for _, h := range m.Hosts {
		fmt.Fprintf(&b, "/etc/hosts: %s\n", h)
	}
	if m.RunAs != "" {
		fmt.Fprintf(&b, "Command run as: %s\n", m.RunAs)
	}
	if m.Signal != "" {
		fmt.Fprintf(&b, "Ended by signal: SIG%s\n", m.Signal)
	}
	for _, n := range m.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	if m.Keys != "" {
		fmt.Fprintf(&b, "TLS keys: %s\n", m.Keys)
	}
	if len(m.KeysNotCovered) > 0 {
		fmt.Fprintf(&b, "TLS keys not covered (not Go): %s\n", strings.Join(m.KeysNotCovered, ", "))
	}
	if m.StderrTail != "" {
		fmt.Fprintf(&b, "Standard error (end):\n%s\n", m.StderrTail)
	}
	return strings.TrimRight(b.String(), "\n")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// ParseMetadata finds the metadata comment in a capture's sections. It
// returns false when the capture was not made by modsniff.
func ParseMetadata(sections []Section) (*Metadata, bool) {
	for _, s := range sections {
		for _, c := range s.Comments {
			js, ok := strings.CutPrefix(c, MetaPrefix)
			if !ok {
				continue
			}
			var m Metadata
			if json.Unmarshal([]byte(js), &m) == nil {
				return &m, true
			}
		}
	}
	return nil, false
}

// RedactURL removes credentials from a proxy URL: "http://user:pw@h:3128"
// becomes "http://user:REDACTED@h:3128". Values that do not parse are
// redacted after any '@'.
func RedactURL(v string) string {
	if v == "" {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		// "user:pw@host:port" without a scheme, or junk.
		if i := strings.LastIndex(v, "@"); i >= 0 {
			return "REDACTED@" + v[i+1:]
		}
		return v
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		} else {
			u.User = url.User("REDACTED")
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretParam().MatchString(k) {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// secretParam matches query parameter names that usually carry secrets.
var secretParam = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)token|secret|password|passwd|pwd|key|auth|sig`) })

// RedactText removes credentials from free text such as the go command's
// error output: user:password@ in URLs, Authorization and
// Proxy-Authorization values (the scheme stays) and query parameters whose
// names suggest a secret (token, key, sig …).
func RedactText(s string) string {
	s = urlCreds().ReplaceAllString(s, "${1}REDACTED@")
	s = authHeader().ReplaceAllString(s, "${1}REDACTED")
	s = queryToken().ReplaceAllString(s, "${1}REDACTED")
	return s
}

var (
	urlCreds   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`) })
	authHeader = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)((?:proxy-)?authorization:[ \t]*(?:(?:basic|bearer|digest|negotiate|ntlm|token|aws4-hmac-sha256)[ \t]+)?)\S[^\r\n]*`)
	})
	queryToken = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)([?&][^=&\s"'#]*(?:token|secret|password|passwd|pwd|key|auth|sig)[^=&\s"'#]*=)[^&\s"'#]+`)
	})
)

// resolvSummary condenses resolv.conf to its directives, "; "-separated.
func resolvSummary(rc string) string {
	var out []string
	for _, line := range strings.Split(rc, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "; ")
}

// Limits of what GatherMetadata keeps.
const (
	// MaxStderrTail is how much of the end of the command's standard error
	// is kept.
	MaxStderrTail  = 8 << 10
	maxResolvConf  = 8 << 10
	maxHostsLines  = 64
	maxHostsFile   = 4 << 20 // bytes of /etc/hosts read
	maxGoOutput    = 64 << 10
	defaultTimeout = 10 * time.Second
)

// GoEnvVars are the go env variables recorded: those that decide where
// modules and checksums come from and how the go command connects.
var GoEnvVars = []string{"GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOFLAGS", "GODEBUG", "GOTOOLCHAIN"}

// EnvVars are the environment variables recorded (proxies redacted).
var EnvVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// GatherOptions says where GatherMetadata looks.
type GatherOptions struct {
	// Version is modsniff's version.
	Version string
	// Command is the command line that will be run, if any; it is recorded
	// redacted and its module paths name hosts for /etc/hosts.
	Command []string
	// Env is the environment the command runs with (os.Environ() when nil).
	Env []string
	// Go is the go command to ask (default: "go" looked up in Env's PATH).
	Go string
	// Prepare, when set, is applied to each go command before it runs (to
	// run it as the user who invoked sudo).
	Prepare func(*exec.Cmd)
	// Root is prepended to /etc/resolv.conf, /etc/hosts and
	// /etc/nsswitch.conf (tests); empty means "/".
	Root string
	// Timeout bounds each go command (default 10 s).
	Timeout time.Duration
}

// GatherMetadata records the context of a capture that starts now: go
// version and go env (asked with GOTOOLCHAIN=local from the root directory,
// so that no toolchain is downloaded; GOTOOLCHAIN itself is asked as the
// user has it, which the go command answers locally), the proxy variables
// (credentials redacted), SSL_CERT_FILE and SSL_CERT_DIR, resolv.conf, the
// /etc/hosts lines naming the hosts involved and the nsswitch.conf hosts
// line. What cannot be gathered is said in Notes; it never fails.
func GatherMetadata(ctx context.Context, o GatherOptions) *Metadata {
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	getenv := envLookup(env)
	m := &Metadata{ModsniffVersion: o.Version, Started: time.Now().UTC()}
	for _, a := range o.Command {
		m.Command = append(m.Command, RedactText(a))
	}
	for _, k := range EnvVars {
		v, ok := getenvOK(env, k)
		if !ok {
			continue
		}
		if m.Env == nil {
			m.Env = make(map[string]string)
		}
		if strings.HasSuffix(strings.ToUpper(k), "_PROXY") && !strings.EqualFold(k, "NO_PROXY") {
			v = RedactURL(v)
		}
		m.Env[k] = v
	}
	m.gatherGo(ctx, o, env, getenv)
	root := o.Root
	if root == "" {
		root = "/"
	}
	etc := func(name string) string { return filepath.Join(root, "etc", name) }
	if b, err := readHead(etc("resolv.conf"), maxResolvConf); err == nil {
		m.ResolvConf = strings.ToValidUTF8(string(b), "?")
	} else {
		m.Notes = append(m.Notes, fmt.Sprintf("resolv.conf: %v", err))
	}
	if b, err := readHead(etc("nsswitch.conf"), 64<<10); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == "hosts:" {
				m.NSSwitchHosts = strings.ToValidUTF8(strings.TrimSpace(line), "?")
			}
		}
	}
	m.AddHostsLines(etc("hosts"), m.InvolvedHosts(o.Command))
	return m
}

// gatherGo asks the go command for its version and environment.
func (m *Metadata) gatherGo(ctx context.Context, o GatherOptions, env []string, getenv func(string) string) {
	goCmd := o.Go
	if goCmd == "" {
		p, err := lookPath("go", getenv("PATH"))
		if err != nil {
			m.Notes = append(m.Notes, "go command: not found in PATH")
			return
		}
		goCmd = p
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	run := func(extraEnv []string, args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Env = append(slices.Clone(env), extraEnv...)
		cmd.Dir = "/"
		var out, errb limitedBuffer
		out.max, errb.max = maxGoOutput, 4<<10
		cmd.Stdout, cmd.Stderr = &out, &errb
		if o.Prepare != nil {
			o.Prepare(cmd)
		}
		err := cmd.Run()
		if err != nil {
			if msg := strings.TrimSpace(errb.String()); msg != "" {
				err = fmt.Errorf("%v: %s", err, RedactText(msg))
			}
			return nil, fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
		}
		return out.Bytes(), nil
	}
	local := []string{"GOTOOLCHAIN=local"}
	if out, err := run(local, "version"); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	} else {
		m.Notes = append(m.Notes, err.Error())
	}
	vars := slices.DeleteFunc(slices.Clone(GoEnvVars), func(v string) bool { return v == "GOTOOLCHAIN" })
	if out, err := run(local, append([]string{"env", "-json"}, vars...)...); err == nil {
		var ge map[string]string
		if err := json.Unmarshal(out, &ge); err != nil {
			m.Notes = append(m.Notes, fmt.Sprintf("go env -json: %v", err))
		}
		for k, v := range ge {
			if m.GoEnv == nil {
				m.GoEnv = make(map[string]string)
			}
			m.GoEnv[k] = redactGoEnv(k, v)
		}
	} else {
		m.Notes = append(m.Notes, err.Error())
	}
	// "go env GOTOOLCHAIN", exactly so, is answered by the local toolchain
	// (cmd/go/internal/toolchain).
	if out, err := run(nil, "env", "GOTOOLCHAIN"); err == nil {
		if m.GoEnv == nil {
			m.GoEnv = make(map[string]string)
		}
		m.GoEnv["GOTOOLCHAIN"] = strings.TrimSpace(string(out))
	} else {
		m.Notes = append(m.Notes, err.Error())
	}
}

// redactGoEnv removes credentials from a go env value: the URLs in GOPROXY
// and GOSUMDB, anything URL-like elsewhere.
func redactGoEnv(k, v string) string {
	switch k {
	case "GOPROXY":
		var b strings.Builder
		start := 0
		for i := 0; i <= len(v); i++ {
			if i == len(v) || v[i] == ',' || v[i] == '|' {
				b.WriteString(RedactURL(v[start:i]))
				if i < len(v) {
					b.WriteByte(v[i])
				}
				start = i + 1
			}
		}
		return b.String()
	case "GOSUMDB":
		f := strings.Fields(v)
		if len(f) > 1 {
			f[len(f)-1] = RedactURL(f[len(f)-1])
			return strings.Join(f, " ")
		}
	}
	return RedactText(v)
}

// InvolvedHosts returns the host names whose /etc/hosts lines matter: the
// hosts of GOPROXY (proxy.golang.org when unset), GOSUMDB (sum.golang.org
// when unset), the proxy variables and the module paths in the command
// line, lower case and sorted.
func (m *Metadata) InvolvedHosts(command []string) []string {
	set := make(map[string]bool)
	addURL := func(raw string) {
		raw = strings.TrimSpace(raw)
		if raw == "" || raw == "direct" || raw == "off" {
			return
		}
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
			set[strings.ToLower(u.Hostname())] = true
		}
	}
	goproxy, ok := m.GoEnv["GOPROXY"]
	if !ok {
		goproxy = "https://proxy.golang.org,direct"
	}
	for _, e := range strings.FieldsFunc(goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		addURL(e)
	}
	sumdb, ok := m.GoEnv["GOSUMDB"]
	if !ok {
		sumdb = "sum.golang.org"
	}
	if f := strings.Fields(sumdb); len(f) > 0 && f[0] != "off" {
		if len(f) > 1 {
			addURL(f[len(f)-1])
		} else {
			name, _, _ := strings.Cut(f[0], "+")
			set[strings.ToLower(name)] = true
		}
	}
	for k, v := range m.Env {
		if strings.HasSuffix(strings.ToUpper(k), "_PROXY") && !strings.EqualFold(k, "NO_PROXY") {
			addURL(v)
		}
	}
	for i, a := range command {
		if i == 0 || strings.HasPrefix(a, "-") {
			continue
		}
		a, _, _ = strings.Cut(a, "@")
		first, _, _ := strings.Cut(a, "/")
		if strings.Contains(first, ".") && isHostName(first) {
			set[strings.ToLower(first)] = true
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

// isHostName reports whether s is made of host name characters.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".go") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// AddHostsLines adds to m.Hosts the lines of the hosts file at path that
// name one of names (case-insensitively, trailing dots ignored), without
// their comments, at most 64, each once.
func (m *Metadata) AddHostsLines(path string, names []string) {
	if len(names) == 0 {
		return
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[strings.TrimSuffix(strings.ToLower(n), ".")] = true
	}
	have := make(map[string]bool, len(m.Hosts))
	for _, h := range m.Hosts {
		have[h] = true
	}
	data, err := readHead(path, maxHostsFile)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.Notes = append(m.Notes, fmt.Sprintf("hosts file: %v", err))
		}
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if len(m.Hosts) >= maxHostsLines {
			return
		}
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, name := range f[1:] {
			if want[strings.TrimSuffix(strings.ToLower(name), ".")] {
				l := strings.ToValidUTF8(strings.Join(f, " "), "?")
				if !have[l] {
					have[l] = true
					m.Hosts = append(m.Hosts, l)
				}
				break
			}
		}
	}
}

// SetStderrTail records the end of the command's standard error: at most
// MaxStderrTail bytes, from a line start when the cut leaves one within
// reach, valid UTF-8, redacted.
func (m *Metadata) SetStderrTail(b []byte) {
	if len(b) > 2*MaxStderrTail {
		b = b[len(b)-2*MaxStderrTail:] // redaction looks at whole lines: keep some more
	}
	s := RedactText(strings.ToValidUTF8(strings.TrimRight(string(b), "\r\n"), "\uFFFD"))
	if len(s) > MaxStderrTail {
		s = s[len(s)-MaxStderrTail:]
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < 1024 {
			s = s[i+1:]
		}
		s = strings.ToValidUTF8(s, "") // the cut may have split a character
	}
	m.StderrTail = s
}

// readHead reads at most n bytes of a file.
func readHead(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// envLookup returns a getenv over env; the last definition wins, as for
// exec.Cmd.
func envLookup(env []string) func(string) string {
	return func(k string) string {
		v, _ := getenvOK(env, k)
		return v
	}
}

func getenvOK(env []string, k string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], k+"="); ok {
			return v, true
		}
	}
	return "", false
}

// lookPath finds an executable in path (a PATH value).
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// limitedBuffer keeps the first max bytes written to it and discards the
// rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
