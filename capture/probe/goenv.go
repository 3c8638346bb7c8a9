// Package probe fetches like the go command does — the same GOPROXY list
// with its `,` and `|` semantics, GONOPROXY/GOPRIVATE, GOSUMDB, GOINSECURE,
// HTTPS_PROXY/NO_PROXY, net/http and crypto/tls defaults, so the same
// ClientHello — while logging TLS keys, so that a capture taken meanwhile
// shows what TLS 1.3 hides: the certificate the client was given.
package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"unicode/utf8"
)

// Env is the go command's configuration that decides where modules come
// from (`go help environment`, `go help module-private`).
type Env struct {
	GOPROXY    string `json:"GOPROXY"`
	GONOPROXY  string `json:"GONOPROXY"`
	GOPRIVATE  string `json:"GOPRIVATE"`
	GONOSUMDB  string `json:"GONOSUMDB"`
	GOSUMDB    string `json:"GOSUMDB"`
	GOINSECURE string `json:"GOINSECURE"`
	GOFLAGS    string `json:"GOFLAGS"`
	// Source says where the values came from: "go env" or "environment".
	Source string `json:"-"`
}

// envNames are the variables Env holds.
var envNames = []string{"GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOFLAGS"}

// ReadEnv asks `go env -json` (which merges the environment, the go env
// file and the defaults); without a go command it reads the environment
// and applies the go command's defaults.
func ReadEnv(ctx context.Context) Env {
	if goBin, err := exec.LookPath("go"); err == nil {
		out, err := exec.CommandContext(ctx, goBin, append([]string{"env", "-json"}, envNames...)...).Output()
		var e Env
		if err == nil && json.Unmarshal(out, &e) == nil {
			e.Source = "go env"
			return e.WithDefaults()
		}
	}
	e := Env{
		GOPROXY: os.Getenv("GOPROXY"), GONOPROXY: os.Getenv("GONOPROXY"), GOPRIVATE: os.Getenv("GOPRIVATE"),
		GONOSUMDB: os.Getenv("GONOSUMDB"), GOSUMDB: os.Getenv("GOSUMDB"), GOINSECURE: os.Getenv("GOINSECURE"),
		GOFLAGS: os.Getenv("GOFLAGS"), Source: "environment",
	}
	return e.WithDefaults()
}

// WithDefaults fills what the go command defaults: GOPROXY and GOSUMDB,
// and GONOPROXY/GONOSUMDB from GOPRIVATE.
func (e Env) WithDefaults() Env {
	if e.GOPROXY == "" {
		e.GOPROXY = "https://proxy.golang.org,direct"
	}
	if e.GOSUMDB == "" {
		e.GOSUMDB = "sum.golang.org"
	}
	if e.GONOPROXY == "" {
		e.GONOPROXY = e.GOPRIVATE
	}
	if e.GONOSUMDB == "" {
		e.GONOSUMDB = e.GOPRIVATE
	}
	return e
}

// ProxySpec is one entry of the GOPROXY list.
type ProxySpec struct {
	// URL is a proxy URL, or "direct" or "off".
	URL string
	// FallBackOnError is set when the entry is followed by `|`: any error
	// moves on to the next entry. After `,` only 404 and 410 do.
	FallBackOnError bool
}

// Proxies parses GOPROXY as the go command does: entries separated by `,`
// or `|`; "direct" and "off" end the list; a bare host gets https://.
func (e Env) Proxies() ([]ProxySpec, error) {
	var list []ProxySpec
	rest := e.GOPROXY
	for rest != "" {
		entry, fallBack := rest, false
		if i := strings.IndexAny(rest, ",|"); i >= 0 {
			entry, fallBack, rest = rest[:i], rest[i] == '|', rest[i+1:]
		} else {
			rest = ""
		}
		entry = strings.TrimSpace(entry)
		switch {
		case entry == "":
			continue
		case entry == "off" || entry == "direct":
			return append(list, ProxySpec{URL: entry}), nil
		case strings.ContainsAny(entry, ".:/") && !strings.Contains(entry, ":/") && !path.IsAbs(entry):
			entry = "https://" + entry
		}
		list = append(list, ProxySpec{URL: entry, FallBackOnError: fallBack})
	}
	if len(list) == 0 {
		return nil, errors.New("GOPROXY list is not the empty string, but contains no entries")
	}
	return list, nil
}

// MatchPrefixPatterns reports whether any path prefix of target matches
// one of the comma-separated glob patterns (path.Match syntax), the rule
// of GOPRIVATE, GONOPROXY, GONOSUMDB and GOINSECURE.
func MatchPrefixPatterns(globs, target string) bool {
	for _, glob := range strings.Split(globs, ",") {
		glob = strings.TrimSpace(glob)
		if glob == "" {
			continue
		}
		// Compare as many leading elements of target as glob has.
		n := strings.Count(glob, "/")
		prefix := target
		for i := 0; i < len(target); i++ {
			if target[i] == '/' {
				if n == 0 {
					prefix = target[:i]
					break
				}
				n--
			}
		}
		if n > 0 {
			continue // glob has more elements than target
		}
		if ok, _ := path.Match(glob, prefix); ok {
			return true
		}
	}
	return false
}

// SumDB is the checksum database the go command consults.
type SumDB struct {
	Name string // e.g. sum.golang.org; "off" when disabled
	URL  string
}

// SumDB parses GOSUMDB: "off", "name", "name+key" or "name+key url"
// (`go help module-auth`).
func (e Env) SumDB() SumDB {
	f := strings.Fields(e.GOSUMDB)
	if len(f) == 0 || f[0] == "off" {
		return SumDB{Name: "off"}
	}
	name, _, _ := strings.Cut(f[0], "+")
	db := SumDB{Name: name, URL: "https://" + name}
	if len(f) > 1 {
		db.URL = f[len(f)-1]
	}
	// The go command reaches sum.golang.org through the first proxy when
	// it is not "direct" (proxies may serve /sumdb/<name>/…); probe talks
	// to the database itself, which is what fails behind interception.
	return db
}

// EscapePath escapes a module path for URLs: each upper-case letter
// becomes '!' and its lower-case form (the module proxy protocol).
func EscapePath(p string) (string, error) {
	if p == "" || !utf8.ValidString(p) || strings.ContainsAny(p, "!\x00 ") || strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
		return "", fmt.Errorf("malformed module path %q", p)
	}
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + 'a' - 'A')
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}
