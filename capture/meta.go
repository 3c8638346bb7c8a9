package capture

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
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
}

// Comments renders m as the two section-header comments modsniff writes:
// a summary for people and the JSON for modsniff.
func (m *Metadata) Comments() ([]string, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("capture metadata: %w", err)
	}
	return []string{m.Summary(), MetaPrefix + string(js)}, nil
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
	if m.GoVersion != "" {
		fmt.Fprintf(&b, "%s\n", m.GoVersion)
	}
	for _, k := range sortedKeys(m.GoEnv) {
		fmt.Fprintf(&b, "%s=%s\n", k, m.GoEnv[k])
	}
	for _, k := range sortedKeys(m.Env) {
		fmt.Fprintf(&b, "%s=%s\n", k, m.Env[k])
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
		if secretParam.MatchString(k) {
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
var secretParam = regexp.MustCompile(`(?i)token|secret|password|passwd|pwd|key|auth|sig`)

// RedactText removes credentials from free text such as the go command's
// error output: user:password@ in URLs and Authorization-style values.
func RedactText(s string) string {
	s = urlCreds.ReplaceAllString(s, "${1}REDACTED@")
	s = authHeader.ReplaceAllString(s, "${1}REDACTED")
	return s
}

var (
	urlCreds   = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)
	authHeader = regexp.MustCompile(`(?i)((?:proxy-)?authorization:\s*\S+\s+)\S+`)
)
