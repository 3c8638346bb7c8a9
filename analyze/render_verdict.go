package analyze

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/modsniff/modsniff/decode"
	"github.com/modsniff/modsniff/decode/tlswire"
)

// The wording of host verdicts, for every format: the JSON report's
// "verdict" and "layers" (DESIGN §3) and the human reports.

// Text words the DNS layer: "DNS ok: A 1.2.3.4 (+1) from 10.0.0.1",
// "DNS ✗ <finding>" …
func (v DNSVerdict) Text() string { return v.textIn(nil) }

// textIn is Text from sc.
func (v DNSVerdict) textIn(sc *jsonScratch) string {
	switch {
	case v.State == Failed:
		return sc.cat("DNS ✗ ", v.Finding.summaryIn(sc))
	case v.Answered != nil:
		return sc.format(func(b []byte) []byte {
			var typ string
			var first decode.DNSRecord
			n := 0
			for _, a := range v.Answered.Responses[0].Answers {
				if a.Type == dns.TypeA || a.Type == dns.TypeAAAA {
					typ = decode.TypeName(a.Type)
					if n == 0 {
						first = a
					}
					n++
				}
			}
			b = append(append(append(b, "DNS ok: "...), typ...), ' ')
			if n > 0 {
				b = first.AppendData(b)
			}
			if n > 1 {
				b = append(strconv.AppendInt(append(b, " (+"...), int64(n-1), 10), ')')
			}
			return appendAddrString(append(b, " from "...), v.Answered.Server.Addr())
		})
	case v.Asked:
		return "DNS: no address in the answers seen"
	case v.Proxy != nil:
		return sc.format(func(b []byte) []byte {
			b = appendAddrPortString(append(b, "DNS: resolved by the proxy "...), v.Proxy.Proxy)
			return append(append(append(b, " ("...), v.Proxy.Kind...), ')')
		})
	}
	return "DNS: not looked up in this capture"
}

// Text words the TLS layer: "TLS 1.3, h2 · certificate from …", or the
// failed layer and its finding: "TCP ✗ <finding>".
func (v TLSVerdict) Text() string { return v.textIn(nil) }

// textIn is Text from sc.
func (v TLSVerdict) textIn(sc *jsonScratch) string {
	switch {
	case v.State == Failed:
		return sc.cat(strings.ToUpper(v.Finding.Layer), " ✗ ", v.Finding.summaryIn(sc))
	case v.Sessions == 0:
		return "no TLS seen"
	case v.Session == nil:
		return sc.format(func(b []byte) []byte {
			return append(strconv.AppendInt(append(b, "TLS: no ServerHello ("...), int64(v.Sessions), 10), " sessions)"...)
		})
	}
	s := v.Session
	ver := s.ServerHello.Version()
	return sc.format(func(b []byte) []byte {
		b = append(b, tlswire.VersionName(ver)...)
		alpn := s.ServerALPN()
		switch {
		case alpn != "":
			b = append(append(b, ", "...), alpn...)
		case s.TLS13() && s.EncryptedExtensions() == nil:
			// The server's ALPN is encrypted in TLS 1.3.
		default:
			b = append(b, ", no ALPN"...)
		}
		switch {
		case s.Certificates != nil && len(s.Certificates.Certificates) > 0:
			if v.Issuer != "" {
				b = append(append(b, " · certificate from "...), v.Issuer...)
			}
		case ver == tlswire.VersionTLS13:
			b = append(b, " · certificate hidden: no keys"...)
		}
		return b
	})
}

// InterceptionText words the interception layer: "interception ✗
// <finding>", or "" when none was seen.
func (h Host) InterceptionText() string { return h.interceptionTextIn(nil) }

// interceptionTextIn is InterceptionText from sc.
func (h Host) interceptionTextIn(sc *jsonScratch) string {
	if h.Interception.State != Failed {
		return ""
	}
	return sc.cat("interception ✗ ", h.Interception.Finding.summaryIn(sc))
}

// Verdict words the whole verdict on one line, the layers joined by " · ".
func (h Host) Verdict() string {
	return verdictLine(h.DNS.Text(), h.TLS.Text(), h.InterceptionText())
}

// verdictLine joins the layers' words (interception only when there is
// one) into the one-line verdict.
func verdictLine(dns, tls, icpt string) string {
	if icpt == "" {
		return dns + " · " + tls
	}
	return dns + " · " + tls + " · " + icpt
}

// hostJSON is a host as DESIGN §3 writes it.
type hostJSON struct {
	Name    string      `json:"name"`
	Role    string      `json:"role"`
	Verdict string      `json:"verdict"`
	Layers  *layersJSON `json:"layers,omitempty"`
	Addrs   []string    `json:"addresses,omitempty"`
}

type layersJSON struct {
	DNS          string `json:"dns"`
	TLS          string `json:"tls"`
	Interception string `json:"interception"`
}

// MarshalJSON writes the host with its verdict worded.
func (h Host) MarshalJSON() ([]byte, error) { return json.Marshal(h.jsonForm()) }

// jsonForm is the host as DESIGN §3 writes it, its verdict worded.
func (h *Host) jsonForm() hostJSON {
	// Each layer is worded once, for both the verdict and the layers.
	l := &layersJSON{DNS: h.DNS.Text(), TLS: h.TLS.Text(), Interception: h.InterceptionText()}
	j := hostJSON{Name: h.Name, Role: h.Role, Verdict: verdictLine(l.DNS, l.TLS, l.Interception), Layers: l}
	if len(h.Addrs) > 0 {
		j.Addrs = make([]string, len(h.Addrs))
		for i, a := range h.Addrs {
			j.Addrs[i] = a.String()
		}
	}
	return j
}
