package lab

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGoModDownloadInNetns starts labd inside a fresh network namespace
// on 127.0.0.1:443 and :53, points the namespace's resolv.conf at it and
// runs the real `go mod download` there. It needs root.
func TestGoModDownloadInNetns(t *testing.T) {
	if err := CanUseNetns(); err != nil {
		t.Skipf("skipping the network-namespace test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel) // after the cleanups registered later, which stop processes
	dir := t.TempDir()
	labd, err := BuildLabd(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := GoBinary()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := NewNetns("modsniff-labtest-" + strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Error(err)
		}
	})
	if err := ns.SetResolvConf("nameserver 127.0.0.1\noptions timeout:2 attempts:2\n"); err != nil {
		t.Fatal(err)
	}
	caFile, keylog := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.keys")
	server := ns.Command(ctx, labd, "serve", "-goproxy", "127.0.0.1:443", "-resolver", "127.0.0.1:53",
		"-zone", "proxy.lab=127.0.0.1", "-ca-out", caFile, "-keylog", keylog)
	if err := StartReady(server, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Stop(server, 5*time.Second); err != nil {
			t.Error(err)
		}
	})

	got := goModDownload(t, ns.Command(ctx, goBin, "mod", "download", "-json", "example.com/hello@v1.1.0"),
		dir, "https://proxy.lab", caFile)
	if got["Path"] != "example.com/hello" || got["Version"] != "v1.1.0" || got["Zip"] == nil {
		t.Errorf("go mod download said %v", got)
	}
	keys, err := os.ReadFile(keylog)
	if err != nil || !strings.Contains(string(keys), "SERVER_TRAFFIC_SECRET_0 ") {
		t.Errorf("server key log: %v %q", err, keys)
	}
}
