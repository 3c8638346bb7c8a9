// Package gokeys recovers the TLS secrets of Go programs while they run: an
// eBPF uprobe on crypto/tls.(*Config).writeKeyLog reads the label, the client
// random and the secret that crypto/tls derives for every handshake, whether
// or not the program set a KeyLogWriter, and hands them on as lines of the
// NSS key log format (draft-ietf-tls-keylogfile) for the capture's
// Decryption Secrets Blocks.
//
// This file finds the function in a binary; it is portable so that the
// resolution can be tested anywhere. Attaching needs Linux (collector_linux.go).
package gokeys

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Symbol is the function whose entry the uprobe reads. crypto/tls calls it
// for every secret it derives (RFC 8446 §7.1 for TLS 1.3, the master secret
// for TLS 1.2), before looking at KeyLogWriter.
const Symbol = "crypto/tls.(*Config).writeKeyLog"

// Target is a Go binary with the file offset of Symbol's entry, ready for a
// uprobe.
type Target struct {
	Path string
	// GoVersion is the toolchain that built the binary ("go1.26.8").
	GoVersion string
	// Arch is the binary's GOARCH (amd64, arm64).
	Arch string
	// Addr is Symbol's virtual address; Offset its offset in the file,
	// which is what a uprobe is placed at (for PIE binaries the two
	// differ by the load segment's virtual address and offset).
	Addr, Offset uint64
	// From says where the address came from: ".symtab" or ".gopclntab".
	From string
}

// NotGoError says that a binary is not a Go program (or not one modsniff
// can read): its TLS, if any, is not covered.
type NotGoError struct {
	Path string
	Err  error
}

func (e *NotGoError) Error() string {
	return fmt.Sprintf("%s is not a Go program (%v): its TLS keys are not covered", e.Path, e.Err)
}

func (e *NotGoError) Unwrap() error { return e.Err }

// Errors of Resolve for Go binaries whose keys cannot be read safely.
var (
	// ErrNoSymbol: the binary has no writeKeyLog (it does no TLS, or the
	// function was inlined or removed as dead code).
	ErrNoSymbol = errors.New("no " + Symbol + " in the binary (no crypto/tls client, or the function was inlined)")
	// ErrStackABI: Go before 1.17 (1.18 on arm64) passed arguments on the
	// stack; the register map would read the wrong values.
	ErrStackABI = errors.New("built with a Go release that passes arguments on the stack")
	// ErrArch: no register map for the binary's architecture.
	ErrArch = errors.New("no register map for this architecture")
)

// Resolve opens the Go binary at path and finds Symbol: from .symtab,
// else (stripped binaries) from the function table in .gopclntab. It
// refuses binaries whose calling convention it does not know rather than
// read a wrong key.
func Resolve(path string) (*Target, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, &NotGoError{Path: path, Err: err}
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, &NotGoError{Path: path, Err: err}
	}
	defer f.Close()
	t := &Target{Path: path, GoVersion: bi.GoVersion}
	switch f.Machine {
	case elf.EM_X86_64:
		t.Arch = "amd64"
	case elf.EM_AARCH64:
		t.Arch = "arm64"
	default:
		return nil, fmt.Errorf("%s: %s binary: %w", path, f.Machine, ErrArch)
	}
	regs, ok := registerMaps[t.Arch]
	if !ok {
		return nil, fmt.Errorf("%s: %s: %w", path, t.Arch, ErrArch)
	}
	if !AtLeast(t.GoVersion, regs.minGo) {
		return nil, fmt.Errorf("%s: %s (%s): %w; keys are read only from %s binaries of go1.%d and later",
			path, t.GoVersion, t.Arch, ErrStackABI, t.Arch, regs.minGo)
	}
	if addr, ok := symtabAddr(f); ok {
		t.Addr, t.From = addr, ".symtab"
	} else if addr, ok, err := pclntabAddr(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	} else if ok {
		t.Addr, t.From = addr, ".gopclntab"
	} else {
		return nil, fmt.Errorf("%s (%s): %w", path, t.GoVersion, ErrNoSymbol)
	}
	off, err := fileOffset(f, t.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.Offset = off
	return t, nil
}

// symtabAddr looks Symbol up in the ELF symbol table.
func symtabAddr(f *elf.File) (uint64, bool) {
	syms, err := f.Symbols()
	if err != nil {
		return 0, false
	}
	for _, s := range syms {
		if s.Name == Symbol && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			return s.Value, true
		}
	}
	return 0, false
}

// maxPclntab bounds the function table read (the go command's is ~5 MB).
const maxPclntab = 256 << 20

// pclntabAddr finds Symbol in the Go function table: the .gopclntab
// section, or, where an external linker folded it into .data.rel.ro, the
// table found there by its header.
func pclntabAddr(f *elf.File) (uint64, bool, error) {
	text := f.Section(".text")
	if text == nil {
		return 0, false, errors.New("no .text section")
	}
	var data []byte
	if s := f.Section(".gopclntab"); s != nil {
		if s.Size > maxPclntab {
			return 0, false, fmt.Errorf(".gopclntab of %d bytes is too large", s.Size)
		}
		b, err := s.Data()
		if err != nil {
			return 0, false, fmt.Errorf("reading .gopclntab: %w", err)
		}
		data = b
	} else {
		for _, s := range f.Sections {
			if !strings.HasPrefix(s.Name, ".data.rel.ro") || s.Type != elf.SHT_PROGBITS || s.Size > maxPclntab {
				continue
			}
			b, err := s.Data()
			if err != nil {
				continue
			}
			if i := findPclntab(b); i >= 0 {
				data = b[i:]
				break
			}
		}
	}
	if data == nil {
		return 0, false, nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, textStart(data, text.Addr)))
	if err != nil {
		return 0, false, fmt.Errorf("reading the Go function table: %w", err)
	}
	fn := tab.LookupFunc(Symbol)
	if fn == nil || fn.Entry == 0 {
		return 0, false, nil
	}
	return fn.Entry, true, nil
}

// textStart is the address the function table's entries are relative to:
// runtime.text, which a Go 1.18+ table records in its header (after the
// magic, the two pad bytes, the quantum, the pointer size and two counts);
// where that is zero (unrelocated) or the table is older, the start of .text.
func textStart(data []byte, text uint64) uint64 {
	if len(data) < 8 {
		return text
	}
	magic := binary.LittleEndian.Uint32(data)
	ptr := int(data[7])
	if (magic != 0xfffffff1 && magic != 0xfffffff0) || (ptr != 4 && ptr != 8) || len(data) < 8+3*ptr {
		return text
	}
	var v uint64
	if ptr == 8 {
		v = binary.LittleEndian.Uint64(data[8+2*ptr:])
	} else {
		v = uint64(binary.LittleEndian.Uint32(data[8+2*ptr:]))
	}
	if v == 0 {
		return text
	}
	return v
}

// findPclntab returns the offset of a Go 1.18+ function table header in b
// (magic, two zero bytes, instruction quantum 1, 2 or 4, pointer size 4 or
// 8), or -1.
func findPclntab(b []byte) int {
	for _, magic := range []uint32{0xfffffff1, 0xfffffff0} {
		var m [4]byte
		binary.LittleEndian.PutUint32(m[:], magic)
		for off := 0; off+8 <= len(b); {
			i := bytes.Index(b[off:], m[:])
			if i < 0 {
				break
			}
			i += off
			if i%8 == 0 && i+8 <= len(b) && b[i+4] == 0 && b[i+5] == 0 &&
				(b[i+6] == 1 || b[i+6] == 2 || b[i+6] == 4) && (b[i+7] == 4 || b[i+7] == 8) {
				return i
			}
			off = i + 1
		}
	}
	return -1
}

// fileOffset converts a virtual address of code to its offset in the file,
// through the executable load segment that maps it.
func fileOffset(f *elf.File, addr uint64) (uint64, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		if addr >= p.Vaddr && addr < p.Vaddr+p.Memsz {
			return addr - p.Vaddr + p.Off, nil
		}
	}
	return 0, fmt.Errorf("address %#x of %s is in no executable segment", addr, Symbol)
}

// AtLeast reports whether the Go version v ("go1.21.3", "go1.22rc1",
// "go1.26.8 X:…") is go1.minor or later.
func AtLeast(v string, minor int) bool {
	rest, ok := strings.CutPrefix(v, "go1.")
	if !ok {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	return err == nil && n >= minor
}
