package capture

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/modsniff/modsniff/capture/capturetest"
)

// encapLinkTypes maps capinfos' short encapsulation names, as used in the
// corpus facts, to the link types that Wireshark reads as each.
var encapLinkTypes = map[string][]layers.LinkType{
	"ether":      {layers.LinkTypeEthernet},
	"null":       {layers.LinkTypeNull},
	"linux-sll":  {layers.LinkTypeLinuxSLL},
	"linux-sll2": {layers.LinkTypeLinuxSLL2},
	"rawip":      {layers.LinkTypeRaw, 12, 14},
	"rawip4":     {layers.LinkTypeIPv4},
	"rawip6":     {layers.LinkTypeIPv6},
	"nflog":      {239}, // LINKTYPE_NFLOG
}

// encapName returns the facts' name for link type lt.
func encapName(lt layers.LinkType) string {
	for name, lts := range encapLinkTypes {
		for _, l := range lts {
			if l == lt {
				return name
			}
		}
	}
	return LinkTypeName(lt)
}

// damagedCaptures are the corpus captures known to be damaged: tshark stops
// at the damage, we read on after it.
var damagedCaptures = map[string]bool{
	"suricata-verify/tls_DER-incomplete-header.pcap": true,
}

func TestCorpusAgreesWithTshark(t *testing.T) {
	dir := capturetest.CorpusDir(t)
	paths := capturetest.Captures(t)
	if len(paths) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	for _, path := range paths {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			facts := capturetest.ReadFacts(t, path)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			perType := map[string]int{}
			n := 0
			for {
				p, err := r.Next()
				if err != nil {
					break
				}
				n++
				perType[encapName(p.LinkType)]++
			}
			errs := r.Errors()
			if damagedCaptures[rel] {
				if n < facts.Packets || len(errs) == 0 {
					t.Errorf("damaged capture: read %d packets (tshark %d), errors %v; want at least as many and an error", n, facts.Packets, errs)
				}
				return
			}
			if n != facts.Packets {
				t.Errorf("read %d packets, tshark read %d", n, facts.Packets)
			}
			if len(facts.EncapTypes) == 0 {
				facts.EncapTypes = map[string]int{}
			}
			if !mapsEqual(perType, facts.EncapTypes) {
				t.Errorf("packets per link type %v, tshark %v", perType, facts.EncapTypes)
			}
			var names []string
			for _, lt := range r.LinkTypes() {
				names = append(names, encapName(lt))
			}
			var want []string
			for name := range facts.EncapTypes {
				want = append(want, name)
			}
			sort.Strings(names)
			sort.Strings(want)
			if strings.Join(names, ",") != strings.Join(want, ",") {
				t.Errorf("LinkTypes %v, tshark %v", names, want)
			}
			if len(errs) != 0 {
				t.Errorf("errors in an undamaged capture: %v", errs)
			}
			if gzipped := strings.HasSuffix(r.Format(), " gzip"); gzipped != strings.Contains(facts.File.Type, "gzip") {
				t.Errorf("Format %q, capinfos file type %q", r.Format(), facts.File.Type)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCorpusSpecialCaptures(t *testing.T) {
	dir := capturetest.CorpusDir(t)

	t.Run("gzip", func(t *testing.T) {
		r, err := Open(filepath.Join(dir, "scapy/tls_tcp_frag.pcap.gz"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if n := len(drain(t, r)); n != 4 || r.Format() != "pcap gzip" {
			t.Errorf("%d packets, format %q", n, r.Format())
		}
	})

	t.Run("big-endian pcapng with two link types", func(t *testing.T) {
		path := filepath.Join(dir, "gopacket/be-test100.pcapng")
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		pkts := drain(t, r)
		secs := r.Sections()
		if len(pkts) != 5 || len(secs) != 1 || secs[0].Hardware != "Apple MBP" || !strings.HasPrefix(secs[0].OS, "OS-X") {
			t.Errorf("%d packets, sections %+v", len(pkts), secs)
		}
		if lt := r.LinkTypes(); len(lt) != 2 {
			t.Errorf("LinkTypes = %v", lt)
		}
	})

	t.Run("decryption secrets block", func(t *testing.T) {
		path := filepath.Join(dir, "ja4/http2-with-cookies.pcapng")
		facts := capturetest.ReadFacts(t, path)
		var tls struct {
			TLS struct {
				ClientHellos []struct {
					Frame int `json:"frame"`
				} `json:"client_hellos"`
			} `json:"tls"`
		}
		if err := json.Unmarshal(facts.Raw, &tls); err != nil || len(tls.TLS.ClientHellos) == 0 {
			t.Fatalf("facts: %v, %d client hellos", err, len(tls.TLS.ClientHellos))
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var secrets []Secrets
		packetsBefore := -1
		n := 0
		r.OnSecrets = func(s Secrets) {
			secrets = append(secrets, s)
			if packetsBefore < 0 {
				packetsBefore = n
			}
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
			n++
		}
		if len(secrets) != facts.File.DecryptionSecretsBlocks {
			t.Fatalf("%d secrets blocks, capinfos counted %d", len(secrets), facts.File.DecryptionSecretsBlocks)
		}
		s := secrets[0]
		labels := []string{"CLIENT_RANDOM ", "CLIENT_HANDSHAKE_TRAFFIC_SECRET ", "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
			"CLIENT_TRAFFIC_SECRET_0 ", "SERVER_TRAFFIC_SECRET_0 ", "EXPORTER_SECRET ", "CLIENT_EARLY_TRAFFIC_SECRET ", "EARLY_EXPORTER_SECRET "}
		ok := false
		for _, l := range labels {
			ok = ok || strings.HasPrefix(string(s.Data), l)
		}
		if s.Type != SecretsTLSKeyLog || !ok {
			t.Errorf("secrets type %#x, data starts %q", s.Type, string(s.Data[:min(40, len(s.Data))]))
		}
		if first := tls.TLS.ClientHellos[0].Frame; packetsBefore >= first {
			t.Errorf("secrets delivered after %d packets, but the first ClientHello is frame %d", packetsBefore, first)
		}
	})

	t.Run("empty pcap", func(t *testing.T) {
		r, err := Open(filepath.Join(dir, "zeek/empty.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if n := len(drain(t, r)); n != 0 || len(r.Errors()) != 0 {
			t.Errorf("%d packets, errors %v", n, r.Errors())
		}
	})

	t.Run("damaged pcap", func(t *testing.T) {
		r, err := Open(filepath.Join(dir, "suricata-verify/tls_DER-incomplete-header.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		pkts := drain(t, r)
		wantErrors(t, r, []InputError{
			{5035, 7, "corrupt record header: captured length 4325376 exceeds the maximum of 262144"},
			{5035, 7, "skipped 80 bytes of garbage at offset 5035"},
		})
		if len(pkts) != 13 {
			t.Errorf("read %d packets, want 6 before the damage and 7 after", len(pkts))
		}
	})
}
