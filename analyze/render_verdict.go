package analyze

import (
	"encoding/json"
	"fmt"
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
func (v DNSVerdict) Text() string {
	switch {
	case v.State == Failed:
		return "DNS ✗ " + v.Finding.summary()
	case v.Answered != nil:
		var typ, list string
		n := 0
		for _, a := range v.Answered.Responses[0].Answers {
			if a.Type == dns.TypeA || a.Type == dns.TypeAAAA {
				typ = decode.TypeName(a.Type)
				if n == 0 {
					list = a.Data()
				}
				n++
			}
		}
		if n > 1 {
			list += " (+" + strconv.Itoa(n-1) + ")"
		}
		// Concatenated rather than formatted: every host of the JSON
		// report is worded.
		return "DNS ok: " + typ + " " + list + " from " + v.Answered.Server.Addr().String()
	case v.Asked:
		return "DNS: no address in the answers seen"
	case v.Proxy != nil:
		return fmt.Sprintf("DNS: resolved by the proxy %s (%s)", v.Proxy.Proxy, v.Proxy.Kind)
	}
	return "DNS: not looked up in this capture"
}

// Text words the TLS layer: "TLS 1.3, h2 · certificate from …", or the
// failed layer and its finding: "TCP ✗ <finding>".
func (v TLSVerdict) Text() string {
	switch {
	case v.State == Failed:
		return strings.ToUpper(v.Finding.Layer) + " ✗ " + v.Finding.summary()
	case v.Sessions == 0:
		return "no TLS seen"
	case v.Session == nil:
		return fmt.Sprintf("TLS: no ServerHello (%d sessions)", v.Sessions)
	}
	s := v.Session
	ver := s.ServerHello.Version()
	parts := []string{tlswire.VersionName(ver)}
	alpn := s.ServerALPN()
	switch {
	case alpn != "":
		parts = append(parts, alpn)
	case s.TLS13() && s.EncryptedExtensions() == nil:
		// The server's ALPN is encrypted in TLS 1.3.
	default:
		parts = append(parts, "no ALPN")
	}
	text := strings.Join(parts, ", ")
	switch {
	case s.Certificates != nil && len(s.Certificates.Certificates) > 0:
		if v.Issuer != "" {
			text += " · certificate from " + v.Issuer
		}
	case ver == tlswire.VersionTLS13:
		text += " · certificate hidden: no keys"
	}
	return text
}

// InterceptionText words the interception layer: "interception ✗
// <finding>", or "" when none was seen.
func (h Host) InterceptionText() string {
	if h.Interception.State != Failed {
		return ""
	}
	return "interception ✗ " + h.Interception.Finding.summary()
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
