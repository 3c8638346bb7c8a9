package main

import (
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseZones(t *testing.T) {
	zone, names, err := parseZones([]string{"proxy.golang.org.=10.77.0.1", "proxy.lab=127.0.0.1, ::1", "proxy.golang.org=10.77.0.9"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"proxy.golang.org", "proxy.lab"}) {
		t.Errorf("names %q", names)
	}
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	if !slices.Equal(zone["proxy.lab"], want) || len(zone["proxy.golang.org"]) != 2 {
		t.Errorf("zone %v", zone)
	}
	for _, bad := range []string{"proxy.lab", "=127.0.0.1", "proxy.lab=", "proxy.lab=not-an-address"} {
		if _, _, err := parseZones([]string{bad}); err == nil {
			t.Errorf("parseZones(%q) accepted it", bad)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"serve", "-nosuchflag"}, {"serve"}, {"serve", "-goproxy", "127.0.0.1:0", "-zone", "bad"}} {
		var stderr strings.Builder
		if code := run(args, io.Discard, &stderr); code == 0 {
			t.Errorf("labd %q: exit 0", args)
		} else if stderr.Len() == 0 {
			t.Errorf("labd %q: exit %d without a message", args, code)
		}
	}
	if code := run([]string{"serve", "-h"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("labd serve -h: exit %d, want 0", code)
	}
}
