package lab

import (
	"archive/zip"
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Module is a module version the test GOPROXY serves (GOPROXY protocol:
// `go help goproxy`). Files maps file names inside the module (go.mod,
// *.go, …) to their contents; the zip is built from them per the module
// zip format, each entry named "path@version/file".
type Module struct {
	Path, Version string
	Files         map[string]string
}

// moduleTime is the commit time every lab module version reports in its
// .info and zip entries, so that what the proxy serves is deterministic.
var moduleTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// DefaultModules returns the lab's modules: example.com/hello v1.0.0 and
// v1.1.0, and example.com/greet v0.1.0, which requires hello v1.1.0. They
// are a few hundred bytes each, to keep recordings small.
func DefaultModules() []Module {
	return []Module{
		{Path: "example.com/hello", Version: "v1.0.0", Files: map[string]string{
			"go.mod":   "module example.com/hello\n\ngo 1.21\n",
			"hello.go": "// Package hello says hello.\npackage hello\n\n// Hello returns a greeting.\nfunc Hello() string { return \"Hello, world.\" }\n",
		}},
		{Path: "example.com/hello", Version: "v1.1.0", Files: map[string]string{
			"go.mod": "module example.com/hello\n\ngo 1.21\n",
			"hello.go": "// Package hello says hello.\npackage hello\n\n// Hello returns a greeting.\nfunc Hello() string { return Greeting(\"world\") }\n\n" +
				"// Greeting greets name.\nfunc Greeting(name string) string { return \"Hello, \" + name + \".\" }\n",
		}},
		{Path: "example.com/greet", Version: "v0.1.0", Files: map[string]string{
			"go.mod":   "module example.com/greet\n\ngo 1.21\n\nrequire example.com/hello v1.1.0\n",
			"greet.go": "// Package greet greets people.\npackage greet\n\nimport \"example.com/hello\"\n\n// Everyone greets everyone.\nfunc Everyone() string { return hello.Greeting(\"everyone\") }\n",
		}},
	}
}

// GoMod returns the module's go.mod: Files["go.mod"], or a minimal one
// naming the module when it has none (as the proxy does for modules
// without go.mod files).
func (m Module) GoMod() string {
	if s, ok := m.Files["go.mod"]; ok {
		return s
	}
	return "module " + m.Path + "\n"
}

// Info returns the module version's .info document.
func (m Module) Info() string {
	return fmt.Sprintf("{\"Version\":%q,\"Time\":%q}\n", m.Version, moduleTime.Format(time.RFC3339))
}

// Zip returns the module zip: every file under "path@version/", in name
// order, with a fixed modification time.
func (m Module) Zip() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := maps.Clone(m.Files)
	if files == nil {
		files = make(map[string]string)
	}
	if _, ok := files["go.mod"]; !ok {
		files["go.mod"] = m.GoMod()
	}
	prefix := m.Path + "@" + m.Version + "/"
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + name, Method: zip.Deflate, Modified: moduleTime})
		if err != nil {
			return nil, fmt.Errorf("zip %s@%s: %s: %w", m.Path, m.Version, name, err)
		}
		if _, err := w.Write([]byte(files[name])); err != nil {
			return nil, fmt.Errorf("zip %s@%s: %s: %w", m.Path, m.Version, name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip %s@%s: %w", m.Path, m.Version, err)
	}
	return buf.Bytes(), nil
}

// EscapePath escapes a module path or version for a GOPROXY URL: each
// upper-case letter becomes '!' followed by its lower-case form
// (golang.org/x/mod/module.EscapePath, without the validation).
func EscapePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// UnescapePath reverses EscapePath. It reports false for an upper-case
// letter, which an escaped path never contains, and for a '!' not
// followed by a lower-case letter.
func UnescapePath(s string) (string, bool) {
	var b strings.Builder
	bang := false
	for _, r := range s {
		switch {
		case bang:
			if r < 'a' || r > 'z' {
				return "", false
			}
			b.WriteRune(r - ('a' - 'A'))
			bang = false
		case r == '!':
			bang = true
		case 'A' <= r && r <= 'Z':
			return "", false
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), !bang
}

// compareVersions orders semantic versions "vMAJOR.MINOR.PATCH[-pre][+build]"
// the way the go command does for the forms the lab uses: numerically by
// the three numbers, a pre-release before its release, pre-releases
// compared as strings.
func compareVersions(a, b string) int {
	pa, prea := splitVersion(a)
	pb, preb := splitVersion(b)
	for i := range pa {
		if c := cmp.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	switch {
	case prea == preb:
		return 0
	case prea == "":
		return 1
	case preb == "":
		return -1
	}
	return strings.Compare(prea, preb)
}

func splitVersion(v string) ([3]int, string) {
	var n [3]int
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i]
	}
	pre := ""
	if i := strings.IndexByte(v, '-'); i >= 0 {
		v, pre = v[:i], v[i+1:]
	}
	for i, f := range strings.SplitN(v, ".", 3) {
		n[i], _ = strconv.Atoi(f)
	}
	return n, pre
}
