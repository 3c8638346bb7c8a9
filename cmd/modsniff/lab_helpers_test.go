//go:build linux

package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/modsniff/modsniff/samples/lab"
)

// labEnv is a network namespace of a test's own with what runs in it.
type labEnv struct {
	ctx  context.Context
	ns   *lab.Netns
	bin  string // modsniff, built with cgo
	labd string // the lab's servers
	dir  string // the test's scratch directory
}

// newLab skips the test unless namespaces can be made (root), then builds
// modsniff and labd and creates a namespace whose resolv.conf points at
// 127.0.0.1. Everything is removed when the test ends; the context ends
// last, after the cleanups that stop processes.
func newLab(t *testing.T, name string) *labEnv {
	t.Helper()
	if err := lab.CanUseNetns(); err != nil {
		t.Skipf("skipping the %s lab test: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	e := &labEnv{ctx: ctx, bin: capBinary(t, true), dir: t.TempDir()}
	var err error
	if e.labd, err = lab.BuildLabd(ctx, e.dir); err != nil {
		t.Fatal(err)
	}
	if e.ns, err = lab.NewNetns("modsniff-" + name + "-" + strconv.Itoa(os.Getpid())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.ns.Delete(); err != nil {
			t.Error(err)
		}
	})
	if err := e.ns.SetResolvConf("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"); err != nil {
		t.Fatal(err)
	}
	return e
}
