package analyze

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// UserInterceptor is an interception product the user adds to the built-in
// table (--interceptors FILE, or the per-user file DefaultInterceptorsPath
// names).
type UserInterceptor struct {
	Product string
	Kind    string
	// Pattern is text matched case-insensitively inside a certificate's
	// issuer or subject written "CN=… O=… OU=…".
	Pattern string
	// SHA256 is the fingerprint of the product's CA certificate, when
	// given: any certificate of the chain with it identifies the product.
	SHA256 []byte
	// Source is "FILE:LINE".
	Source string
}

// Limits of an interceptor file: it is read whole, so it is small.
const (
	maxInterceptorFile    = 64 << 10
	maxInterceptorEntries = 256
	maxInterceptorLine    = 1024
)

// interceptorKinds are the kinds the built-in table uses, with their fix.
var interceptorKinds = map[string]string{
	"debugging proxy": fixDebugProxy, "corporate gateway": fixCorporate, "antivirus": fixAntivirus, "proxy client": fixProxyClient,
}

// DefaultInterceptorsPath is the per-user interceptor file read by
// `modsniff analyze` when it exists: $XDG_CONFIG_HOME/modsniff/interceptors.txt
// (~/.config on Linux, ~/Library/Application Support on macOS,
// %AppData% on Windows); "" when there is no configuration directory.
func DefaultInterceptorsPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "modsniff", "interceptors.txt")
}

// ReadInterceptors reads an interceptor file. The format, one product per
// line, fields separated by "|" (blank lines and lines starting with '#'
// are ignored):
//
//	PRODUCT | KIND | PATTERN [| SHA256]
//
// KIND is "debugging proxy", "corporate gateway", "antivirus" or "proxy
// client"; PATTERN (at least 3 characters) is matched case-insensitively
// inside "CN=… O=… OU=…" of the certificates' issuers and subjects; SHA256
// is the CA certificate's fingerprint in hex (colons allowed). Errors name
// the file and line.
func ReadInterceptors(path string) ([]UserInterceptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, maxInterceptorFile+1)
	n, _ := f.Read(data)
	for n < len(data) {
		m, err := f.Read(data[n:])
		n += m
		if err != nil || m == 0 {
			break
		}
	}
	if n > maxInterceptorFile {
		return nil, fmt.Errorf("%s: larger than %d KiB; an interceptor file lists a few products", path, maxInterceptorFile>>10)
	}
	return ParseInterceptors(path, data[:n])
}

// ParseInterceptors parses the text of an interceptor file named name (see
// ReadInterceptors).
func ParseInterceptors(name string, data []byte) ([]UserInterceptor, error) {
	if len(data) > maxInterceptorFile {
		return nil, fmt.Errorf("%s: larger than %d KiB", name, maxInterceptorFile>>10)
	}
	var out []UserInterceptor
	for i, line := range bytes.Split(data, []byte("\n")) {
		at := fmt.Sprintf("%s:%d", name, i+1)
		if len(line) > maxInterceptorLine {
			return nil, fmt.Errorf("%s: line longer than %d bytes", at, maxInterceptorLine)
		}
		text := strings.TrimSpace(string(bytes.TrimSuffix(line, []byte("\r"))))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "|")
		if len(f) < 3 || len(f) > 4 {
			return nil, fmt.Errorf("%s: want PRODUCT | KIND | PATTERN [| SHA256], got %d fields", at, len(f))
		}
		for j := range f {
			f[j] = strings.TrimSpace(f[j])
		}
		u := UserInterceptor{Product: f[0], Kind: strings.ToLower(f[1]), Pattern: f[2], Source: at}
		switch {
		case u.Product == "" || len(u.Product) > 100:
			return nil, fmt.Errorf("%s: the product name must have 1 to 100 characters", at)
		case interceptorKinds[u.Kind] == "":
			kinds := make([]string, 0, len(interceptorKinds))
			for k := range interceptorKinds {
				kinds = append(kinds, fmt.Sprintf("%q", k))
			}
			slices.Sort(kinds)
			return nil, fmt.Errorf("%s: kind %q is not one of %s", at, f[1], strings.Join(kinds, ", "))
		case len(u.Pattern) < 3:
			return nil, fmt.Errorf("%s: the pattern %q is shorter than 3 characters: it would match too much", at, u.Pattern)
		case !utf8.ValidString(u.Product) || !utf8.ValidString(u.Pattern):
			// Certificate names are text; a pattern that is not UTF-8
			// could match none of them (and is not a regexp).
			return nil, fmt.Errorf("%s: the product or pattern is not valid UTF-8 (is the file in another encoding?)", at)
		}
		if len(f) == 4 && f[3] != "" {
			fp, err := hex.DecodeString(strings.ReplaceAll(f[3], ":", ""))
			if err != nil || len(fp) != 32 {
				return nil, fmt.Errorf("%s: the fingerprint is not a SHA-256 in hex (64 digits, colons allowed)", at)
			}
			u.SHA256 = fp
		}
		if len(out) == maxInterceptorEntries {
			return nil, fmt.Errorf("%s: more than %d products", at, maxInterceptorEntries)
		}
		out = append(out, u)
	}
	return out, nil
}

// userTable turns the user's entries into table entries.
func userTable(us []UserInterceptor) []interceptor {
	out := make([]interceptor, 0, len(us))
	for _, u := range us {
		re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(u.Pattern))
		p := interceptor{Product: u.Product, Kind: u.Kind, Pattern: re, lit: compileLit(re),
			Source: "user table " + u.Source, Fix: interceptorKinds[u.Kind]}
		if len(u.SHA256) == 32 {
			p.SHA256 = [32]byte(u.SHA256)
		}
		out = append(out, p)
	}
	return out
}

// InterceptorRow is one entry of the effective interceptor table.
type InterceptorRow struct {
	Product string `json:"product"`
	Kind    string `json:"kind"`
	Pattern string `json:"pattern"`
	SHA256  string `json:"sha256,omitempty"`
	Source  string `json:"source"`
}

// InterceptorTable lists the effective table: the user's entries (tried
// first) then the built-in ones.
func InterceptorTable(user []UserInterceptor) []InterceptorRow {
	var rows []InterceptorRow
	for _, p := range append(userTable(user), builtinInterceptors()...) {
		r := InterceptorRow{Product: p.Product, Kind: p.Kind, Pattern: strings.TrimPrefix(p.Pattern.String(), "(?i)"), Source: p.Source}
		if p.SHA256 != ([32]byte{}) {
			r.SHA256 = hex.EncodeToString(p.SHA256[:])
		}
		rows = append(rows, r)
	}
	return rows
}
