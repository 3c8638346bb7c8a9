package gokeys

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// builds caches the binaries the tests build, by name.
var (
	buildMu  sync.Mutex
	builds   = map[string]string{}
	buildDir string
)

// buildProgram builds testdata/<pkg> with the extra go build flags, once
// per test binary, and returns its path. It skips the test when there is
// no go command.
func buildProgram(t *testing.T, pkg string, flags ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if goBin, err = exec.LookPath(filepath.Join(runtime.GOROOT(), "bin", "go")); err != nil {
			t.Skipf("no go command to build the test programs: %v", err)
		}
	}
	key := pkg + " " + filepath.Join(flags...)
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := builds[key]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "gokeys-test-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, pkg+"-"+string(rune('a'+len(builds))))
	args := append([]string{"build", "-o", out}, flags...)
	args = append(args, "./testdata/"+pkg)
	cmd := exec.Command(goBin, args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, b)
	}
	builds[key] = out
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// TestResolveFindsWriteKeyLog resolves the symbol in the variants of a Go
// binary: with its symbol table, stripped (the function table of
// .gopclntab), PIE and stripped PIE; the address found through .gopclntab
// is the one .symtab gives, and the file offset holds the function's code.
func TestResolveFindsWriteKeyLog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		from  string
	}{
		{"symbol table", nil, ".symtab"},
		{"stripped", []string{"-ldflags=-s -w"}, ".gopclntab"},
		{"PIE", []string{"-buildmode=pie"}, ".symtab"},
		{"stripped PIE", []string{"-buildmode=pie", "-ldflags=-s -w"}, ".gopclntab"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := buildProgram(t, "tlsclient", tc.flags...)
			tg, err := Resolve(bin)
			if err != nil {
				t.Fatal(err)
			}
			if tg.From != tc.from || tg.Arch != runtime.GOARCH || !AtLeast(tg.GoVersion, 17) {
				t.Errorf("target %+v, want from %s on %s", tg, tc.from, runtime.GOARCH)
			}
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// The function table agrees with the symbol table.
			pc, ok, err := pclntabAddr(f)
			if err != nil || !ok || pc != tg.Addr {
				t.Errorf("function table: %#x %v %v, resolved %#x", pc, ok, err, tg.Addr)
			}
			// The file offset holds the bytes mapped at the address.
			text := f.Section(".text")
			want := make([]byte, 16)
			if _, err := text.ReadAt(want, int64(tg.Addr-text.Addr)); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Offset+16 > uint64(len(raw)) || !bytes.Equal(raw[tg.Offset:tg.Offset+16], want) {
				t.Errorf("offset %#x does not hold the function's first bytes", tg.Offset)
			}
			if f.Type == elf.ET_DYN != (len(tc.flags) > 0 && tc.flags[0] == "-buildmode=pie") {
				t.Errorf("ELF type %v for %v", f.Type, tc.flags)
			}
		})
	}
}

// TestResolveRefuses covers the binaries whose keys must not be read: no
// writeKeyLog, not Go, and a Go release that passed arguments on the stack
// (the build's version rewritten in its build information).
func TestResolveRefuses(t *testing.T) {
	t.Run("no symbol", func(t *testing.T) {
		_, err := Resolve(buildProgram(t, "notls"))
		if !errors.Is(err, ErrNoSymbol) {
			t.Errorf("err %v, want ErrNoSymbol", err)
		}
	})
	t.Run("not Go", func(t *testing.T) {
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh")
		}
		_, err = Resolve(sh)
		if _, ok := errors.AsType[*NotGoError](err); !ok {
			t.Errorf("err %v, want *NotGoError", err)
		}
	})
	t.Run("go1.16", func(t *testing.T) {
		bin := buildProgram(t, "tlsclient")
		raw, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := Resolve(bin)
		if err != nil {
			t.Fatal(err)
		}
		// The build information holds the version once, as a
		// length-prefixed string after its header.
		v := []byte(tg.GoVersion)
		i := bytes.Index(raw, append([]byte{byte(len(v))}, v...))
		if i < 0 {
			t.Fatalf("version %q not found in the build information", v)
		}
		old := append([]byte("go1.16"), v[len("go1.16"):]...)
		if len(v) < len("go1.16") || !bytes.HasPrefix(v, []byte("go1.")) {
			t.Fatalf("unexpected version %q", v)
		}
		copy(raw[i+1:], old[:len(v)])
		patched := filepath.Join(t.TempDir(), "old")
		if err := os.WriteFile(patched, raw, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err = Resolve(patched)
		if !errors.Is(err, ErrStackABI) {
			t.Errorf("err %v, want ErrStackABI", err)
		}
	})
}

// TestAtLeast reads Go version strings.
func TestAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v    string
		min  int
		want bool
	}{
		{"go1.17", 17, true},
		{"go1.16.15", 17, false},
		{"go1.26.8", 17, true},
		{"go1.18rc1", 18, true},
		{"go1.17.13", 18, false},
		{"go1.26.8 X:nocoverageredesign", 17, true},
		{"devel go1.27-abc", 17, false},
		{"", 17, false},
	} {
		if got := AtLeast(tc.v, tc.min); got != tc.want {
			t.Errorf("AtLeast(%q, %d) = %v, want %v", tc.v, tc.min, got, tc.want)
		}
	}
}
