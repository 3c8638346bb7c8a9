package analyze

import "fmt"

var checkHTTPBodyTruncated = &Check{ID: "http-body-truncated", Layer: "http", Severity: Error,
	Title: "a module response ended before its body was complete",
	Doc: "The server's side of the connection closed (FIN or reset) while a module response was still arriving: " +
		"fewer bytes than its Content-Length (RFC 9112 §6.3), a chunked body without its last chunk (RFC 9112 §7.1), " +
		"or an HTTP/2 stream without END_STREAM (RFC 9113 §8.1). The go command says `unexpected EOF` (for a .zip, " +
		"`zip: not a valid zip file` when it saved a cut file). A capture that merely stops, bytes the capture or the " +
		"decryption limit left out, and a stream reset (h2-stream-reset) are not this. Plain HTTP is read directly; " +
		"HTTPS needs key logs.",
	Role: RoleSymptom,
	GoErrors: []string{
		"unexpected EOF",
		"zip: not a valid zip file",
	},
	run: runHTTPBodyTruncated}

func runHTTPBodyTruncated(ctx *Context) []Finding {
	var out []Finding
	for _, h := range ctx.Events.HTTP {
		if h.Truncated == "" || !ctx.isModuleExchange(h) {
			continue
		}
		host := httpHost(ctx, h)
		f := Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("the response to %s %s from %s was cut short: %s", h.Method, h.Path, host, h.Truncated),
			Expected: "the whole body (Content-Length, the last chunk, or END_STREAM) before the connection closes",
			Observed: fmt.Sprintf("status %d, then %s (%s)", h.Status, h.Truncated, h.Proto),
			Evidence: []Evidence{evidence(h.Request, "%s %s", h.Method, h.Path), evidence(h.Response, "status %d", h.Status)},
			Hint: "The go command reports `unexpected EOF`. Something ended the connection mid-download: a proxy or " +
				"security product with a size or time limit (antivirus scanning archives, a DLP gateway), an idle " +
				"timeout on a slow link, or the server itself failing. Retry once; if it recurs at the same size, " +
				"exempt the module hosts from inspection or raise the device's limits. See the TCP findings for who " +
				"closed the connection.",
		}
		if c := h.Conn; c != nil {
			if !c.FIN[1].IsZero() {
				f.Evidence = append(f.Evidence, evidence(c.FIN[1], "the server side closes the connection"))
			}
			for _, r := range c.Resets() {
				if !r.FromClient {
					f.Evidence = append(f.Evidence, evidence(r.At, "reset from the server side"))
					break
				}
			}
		}
		out = append(out, f)
	}
	return out
}
