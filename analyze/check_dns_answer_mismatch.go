package analyze

import (
	"fmt"
	"strings"
	"time"

	"github.com/modsniff/modsniff/decode"
)

// checkDNSAnswerMismatch reports DNS responses the go resolver rejects.
// The rules are those of net/dnsclient_unix.go: a UDP response whose ID,
// question type, class or name (compared without case) differs from the
// query, or whose header or question does not parse, is ignored and the
// resolver keeps waiting (checkResponse, dnsPacketRoundTrip); an accepted
// response whose answer section does not parse fails with "cannot unmarshal
// DNS message" (checkHeader, skipToAnswer); a UDP response with TC set is
// retried over TCP (RFC 7766 §5), and only the TCP answer counts.
var checkDNSAnswerMismatch = &Check{ID: "dns-answer-mismatch", Layer: "dns", Severity: Error,
	Title: "the resolver's responses are ones the go resolver rejects",
	Doc: "A response with the query's ID but another question (name, type) is dropped by the go resolver, which " +
		"keeps waiting: every query was answered, yet the lookup fails with `i/o timeout` (this replaces " +
		"dns-timeout for those queries). A response whose answer section does not parse fails with `cannot " +
		"unmarshal DNS message`; one whose question does not parse is ignored like a mismatch. A UDP response " +
		"with TC set must be followed by the same query over TCP: when that retry is missing or fails, the lookup " +
		"fails. An answer whose owner name alone differs from the question is accepted by go and is not reported.",
	Role: RoleCause,
	GoErrors: []string{
		"lookup proxy.golang.org on 10.0.0.1:53: cannot unmarshal DNS message",
		"lookup proxy.golang.org on 10.0.0.1:53: read udp 10.0.0.2:4444->10.0.0.1:53: i/o timeout",
	},
	run: runDNSAnswerMismatch}

func runDNSAnswerMismatch(ctx *Context) []Finding {
	var out []Finding
	ignored := groupDNS(ctx.Events, func(x *decode.DNSExchange) bool {
		if x.Query.IsZero() || hasAcceptedResponse(x) {
			return false
		}
		return len(x.Rejected()) > 0 || unparsedQuestion(x)
	})
	for _, g := range ignored {
		out = append(out, ignoredFinding(ctx, g))
	}
	unmarshal := groupDNS(ctx.Events, func(x *decode.DNSExchange) bool {
		return !x.Query.IsZero() && brokenAnswers(x) != nil
	})
	for _, g := range unmarshal {
		x := g.ex[0]
		r := brokenAnswers(x)
		out = append(out, Finding{
			Severity: Error, Host: g.name,
			Summary:  fmt.Sprintf("the go resolver cannot parse %s's answer for %s", g.server, g.name),
			Expected: "a well-formed response (RFC 1035 §4.1)",
			Observed: fmt.Sprintf("the %s response's answer section does not decode (%s); go fails with `cannot unmarshal DNS message`", x.QuestionType(), r.Malformed()),
			Evidence: []Evidence{evidence(x.Query, "%s query for %s", x.QuestionType(), x.Name),
				evidence(r.At, "response with an answer section that does not decode: %s", r.Malformed())},
			Hint: fmt.Sprintf("The resolver at %s (or a middlebox rewriting DNS on the way) sends malformed answers. "+
				"Point /etc/resolv.conf at another resolver, or update or restart the one at %s; `dig %s` shows "+
				"what it sends.", g.server, g.server, g.name),
		})
	}
	reported := make(map[string]bool) // one finding per resolver and name
	for _, x := range ctx.Events.DNS {
		f, ok := truncatedWithoutTCP(ctx, x)
		if !ok {
			continue
		}
		if k := x.Server.Addr().String() + " " + strings.ToLower(x.Name); !reported[k] {
			reported[k] = true
			out = append(out, f)
		}
	}
	return out
}

// hasAcceptedResponse reports whether a response the go resolver takes
// came: its question parsed (the decoder filed it under the question).
func hasAcceptedResponse(x *decode.DNSExchange) bool {
	for _, r := range x.Responses {
		if r.MalformedSection() != decode.SectionQuestion {
			return true
		}
	}
	return false
}

// unparsedQuestion reports a response whose question section did not parse.
func unparsedQuestion(x *decode.DNSExchange) bool {
	for _, r := range x.Responses {
		if r.MalformedSection() == decode.SectionQuestion {
			return true
		}
	}
	return false
}

// brokenAnswers returns an accepted UDP or TCP response whose answer
// section did not parse, when no good response came.
func brokenAnswers(x *decode.DNSExchange) *decode.DNSResponse {
	var broken *decode.DNSResponse
	for _, r := range x.Responses {
		switch r.MalformedSection() {
		case decode.SectionAnswer:
			if broken == nil {
				broken = r
			}
		case decode.SectionQuestion:
		default:
			if !r.Truncated || x.Transport == decode.DNSOverTCP {
				return nil // a good response came too
			}
		}
	}
	return broken
}

func ignoredFinding(ctx *Context, g *dnsGroup) Finding {
	var ev []Evidence
	var seen []string
	for _, x := range g.ex {
		ev = append(ev, evidence(x.Query, "%s query for %s (ID 0x%04x)", x.QuestionType(), x.Name, x.ID))
		for _, r := range x.Rejected() {
			q := fmt.Sprintf("%s %s", decode.TypeName(r.QType()), r.Question())
			ev = append(ev, evidence(r.At, "response with ID 0x%04x but the question %s: go ignores it", x.ID, q))
			if !containsFold(seen, q) {
				seen = append(seen, q)
			}
		}
		for _, r := range x.Responses {
			if r.MalformedSection() == decode.SectionQuestion {
				ev = append(ev, evidence(r.At, "response whose question section does not decode (%s): go ignores it", r.Malformed()))
				if !containsFold(seen, "an unreadable question") {
					seen = append(seen, "an unreadable question")
				}
			}
		}
	}
	observed := fmt.Sprintf("%s answered %s for %s, but with %s; the go resolver drops such responses and waits until it times out",
		g.server, plural(len(g.ex), "query"), g.name, strings.Join(seen, ", "))
	return Finding{
		Severity: Error, Host: g.name,
		Summary:  fmt.Sprintf("%s's responses for %s name another question: the go resolver ignores them (i/o timeout)", g.server, g.name),
		Expected: fmt.Sprintf("responses repeating the question (%s %s)", g.queryTypes(), g.name),
		Observed: observed,
		Evidence: capEvidence(ev, 12),
		Hint: fmt.Sprintf("The resolver at %s (or a DNS-rewriting middlebox: a captive portal, a DNS filter, a broken "+
			"NAT) answers with another question than it was asked, so the go command reports `i/o timeout` although "+
			"every query was answered. Point /etc/resolv.conf at a resolver that answers correctly; the system "+
			"resolver may tolerate it, so `GODEBUG=netdns=cgo` works around it where cgo is available.", g.server),
	}
}

// truncatedWithoutTCP reports a UDP response with TC set that was not
// followed by a successful retry of the same question over TCP.
func truncatedWithoutTCP(ctx *Context, x *decode.DNSExchange) (Finding, bool) {
	if x.Transport != decode.DNSOverUDP || x.Query.IsZero() || !isResolverQuery(x) {
		return Finding{}, false
	}
	var tc *decode.DNSResponse
	for _, r := range x.Responses {
		if r.Truncated && tc == nil {
			tc = r
		}
	}
	if tc == nil {
		return Finding{}, false
	}
	var retry *decode.DNSExchange
	for _, y := range ctx.tcpDNSBetween(x.Server.Addr(), x.Client.Addr()) {
		if strings.EqualFold(y.Name, x.Name) && y.QType == x.QType && !y.Query.IsZero() && !y.Query.Time().Before(tc.At.Time()) {
			retry = y
			if len(y.Responses) > 0 {
				return Finding{}, false // the retry over TCP was answered
			}
		}
	}
	ev := []Evidence{evidence(x.Query, "%s query for %s over UDP", x.QuestionType(), x.Name),
		evidence(tc.At, "response with TC (truncated) set: the answer must be fetched over TCP")}
	var observed string
	switch {
	case retry != nil:
		ev = append(ev, evidence(retry.Query, "the same query over TCP"))
		observed = "the retry over TCP got no response"
	default:
		failed := false
		for _, c := range ctx.dnsConnsBetween(x.Server.Addr(), x.Client.Addr()) {
			if !c.First.Time().Before(tc.At.Time()) {
				if o, oev := ctx.outcome(c); o == connRefused || o == connTimeout {
					ev = append(ev, oev...)
					observed = "the TCP connection for the retry was refused"
					if o == connTimeout {
						observed = "the TCP connection for the retry was never answered"
					}
					failed = true
					break
				}
			}
		}
		if !failed {
			if ctx.inputEnd(int(tc.At.Input)).Sub(tc.At.Time()) < time.Second {
				return Finding{}, false // the capture ended before a retry could show
			}
			observed = "no retry over TCP followed"
		}
	}
	return Finding{
		Severity: Error, Host: strings.ToLower(x.Name),
		Summary:  fmt.Sprintf("%s's %s answer for %s was truncated and not fetched over TCP", x.Server.Addr(), x.QuestionType(), x.Name),
		Expected: "the same query over TCP (RFC 7766), answered",
		Observed: fmt.Sprintf("a UDP response with TC set; %s", observed),
		Evidence: ev,
		Hint: fmt.Sprintf("DNS over TCP to %s (port 53/tcp) is blocked or not served, so answers too big for UDP "+
			"cannot be fetched: allow TCP port 53 to the resolver, or use a resolver that serves TCP. A smaller EDNS "+
			"buffer on the resolver's side (or fewer records) avoids truncation.", x.Server.Addr()),
	}, true
}

// containsFold reports whether list holds s, without regard to case.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
