package benchgen

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/pipeline"
)

func TestHandshakesAreDeterministic(t *testing.T) {
	// Made twice from scratch (crypto/tls's own randomness differs each
	// time): the canonicalized bytes must not.
	a, err := makeMaterial(7, 16)
	if err != nil {
		t.Fatal(err)
	}
	b, err := makeMaterial(7, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.hs {
		ha, hb := a.hs[i], b.hs[i]
		if len(ha.flights) != len(hb.flights) {
			t.Fatalf("handshake %d (%s): %d flights, then %d", i, ha.host, len(ha.flights), len(hb.flights))
		}
		for j := range ha.flights {
			if !bytes.Equal(ha.flights[j].data, hb.flights[j].data) {
				t.Errorf("handshake %d (%s) flight %d differs between two runs", i, ha.host, j)
			}
		}
	}
}

func generate(t *testing.T, opt Options) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Generate(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Errorf("Stats.Bytes = %d, wrote %d", st.Bytes, buf.Len())
	}
	return buf.Bytes(), st
}

func TestGenerateIsDeterministic(t *testing.T) {
	opt := Options{Size: 2 << 20, Conns: 40, Handshakes: 16}
	a, _ := generate(t, opt)
	b, _ := generate(t, opt)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Error("the same options gave different captures")
	}
	opt.Seed = 2
	c, _ := generate(t, opt)
	if bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same capture")
	}
	if len(a) < 2<<20 || len(a) > 2<<20+maxFrame+32 {
		t.Errorf("asked for %d bytes, got %d", 2<<20, len(a))
	}
}

// TestCaptureDecodes checks that modsniff sees in a generated capture what
// the generator put there.
func TestCaptureDecodes(t *testing.T) {
	for _, mix := range Mixes {
		t.Run(string(mix), func(t *testing.T) { testCaptureDecodes(t, mix) })
	}
}

func testCaptureDecodes(t *testing.T, mix Mix) {
	opt := Options{Size: 8 << 20, Handshakes: 40, Mix: mix}
	if mix == MixLight {
		opt.Conns = 120
	}
	data, st := generate(t, opt)
	path := filepath.Join(t.TempDir(), "bulk.pcapng")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := pipeline.Open(0, path, nil, decode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Info.Packets != int(st.Packets) {
		t.Errorf("modsniff read %d packets, the generator wrote %d", in.Info.Packets, st.Packets)
	}
	if len(in.Info.Errors) > 0 {
		t.Errorf("input errors: %v", in.Info.Errors)
	}
	ev := in.Events
	if len(ev.TCP) != st.Conns {
		t.Errorf("%d TCP connections decoded, %d generated", len(ev.TCP), st.Conns)
	}
	if len(ev.Proxy) != st.Proxied {
		t.Errorf("%d CONNECT tunnels decoded, %d generated", len(ev.Proxy), st.Proxied)
	}
	versions := map[uint16]int{}
	certs, sni := 0, 0
	for _, s := range ev.TLS {
		if s.ServerHello != nil {
			versions[s.ServerHello.Version()]++
		}
		if s.ClientHello != nil && s.ClientHello.ServerName != "" {
			sni++
		}
		if s.Certificates != nil && len(s.Certificates.Certificates) > 0 {
			certs++
		}
	}
	if sni < st.TLS*9/10 {
		t.Errorf("%d of %d TLS sessions have an SNI", sni, st.TLS)
	}
	if versions[0x0303] == 0 || versions[0x0304] == 0 {
		t.Errorf("negotiated versions: %v, want TLS 1.2 and 1.3", versions)
	}
	if certs == 0 || certs > versions[0x0303] {
		t.Errorf("%d sessions with certificates, %d in TLS 1.2", certs, versions[0x0303])
	}
	answered, cname, overTCP, nx, twice := 0, 0, 0, 0, 0
	for _, x := range ev.DNS {
		if x.Transport == decode.DNSOverTCP {
			overTCP++
		}
		if len(x.Responses) > 0 {
			answered++
			if x.Responses[0].RCode == dns.RcodeNameError {
				nx++
			}
		}
		if len(x.Responses) > 1 {
			twice++
		}
		for _, r := range x.Responses {
			for _, a := range r.Answers {
				if a.Type == dns.TypeCNAME {
					cname++
				}
			}
		}
	}
	// The capture may end between a query and its answer.
	if len(ev.DNS) != st.DNSQueries || answered < st.DNSQueries-livePool || cname == 0 {
		t.Errorf("%d DNS queries generated; %d decoded, %d answered, %d CNAME answers", st.DNSQueries, len(ev.DNS), answered, cname)
	}
	if mix == MixLight {
		return
	}
	// The dense mixes: TLS 1.2 chains distinct per site, DNS over TCP,
	// NXDOMAIN and forged answers.
	leaves := map[string]bool{}
	for _, s := range ev.TLS {
		if s.Certificates != nil && len(s.Certificates.Certificates) > 0 {
			leaves[string(s.Certificates.Certificates[0].Raw)] = true
		}
	}
	if st.TLS12 == 0 || len(leaves) < certs*9/10 {
		t.Errorf("%d TLS 1.2 connections generated, %d sessions with certificates, %d distinct leaves", st.TLS12, certs, len(leaves))
	}
	if overTCP != st.DNSTCP || nx < st.NXDomain/2-livePool || twice < st.Forged {
		t.Errorf("DNS over TCP %d of %d, NXDOMAIN %d of %d, answered twice %d (forged %d)", overTCP, st.DNSTCP, nx, st.NXDomain, twice, st.Forged)
	}
}
