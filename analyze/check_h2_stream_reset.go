package analyze

import "fmt"

var checkH2StreamReset = &Check{ID: "h2-stream-reset", Layer: "http", Severity: Error, NeedsKeys: true,
	Title: "an HTTP/2 stream of a module request was reset with an error code",
	Doc: "An RST_STREAM frame (RFC 9113 §6.4) ended a module request's stream before its response was complete: " +
		"INTERNAL_ERROR (a CDN or proxy failed mid-response), REFUSED_STREAM (the server did not process it), " +
		"ENHANCE_YOUR_CALM (rate limiting), PROTOCOL_ERROR … Which request, which code and who sent it are " +
		"named. The go command says `stream error: stream ID N; INTERNAL_ERROR; received from peer`. The client's " +
		"own CANCEL (it stopped waiting) is not a finding. Needs decrypted HTTP/2 (key logs).",
	Role: RoleSymptom,
	GoErrors: []string{
		"stream error: stream ID 7; INTERNAL_ERROR; received from peer",
		"unexpected EOF",
	},
	run: runH2StreamReset}

// streamResetHint says what a stream error code means for the go command.
func streamResetHint(code string, fromClient bool) string {
	if fromClient {
		return "The client reset the stream because the server's HTTP/2 broke the protocol — usually a proxy or " +
			"inspection product rewriting the stream. Update it or exempt the module hosts; GODEBUG=http2client=0 " +
			"makes the go command use HTTP/1.1 meanwhile."
	}
	switch code {
	case "REFUSED_STREAM":
		return "The server refused the stream before processing it (too many concurrent streams, or shutting " +
			"down): the request is safe to retry. Retry; if it persists, the server or its load balancer is overloaded."
	case "ENHANCE_YOUR_CALM":
		return "The server is rate-limiting this client. Retry later, fetch with less parallelism, or use a caching " +
			"GOPROXY for many machines behind one address."
	case "INTERNAL_ERROR", "CANCEL":
		return "The server, or a CDN, load balancer or TLS-inspecting proxy in front of it, failed mid-response. " +
			"Retry; if it persists, exempt the module hosts from inspection or report it to the GOPROXY's operator. " +
			"GOPROXY=https://a,https://b with `|` instead of `,` makes the go command fall back on such errors; " +
			"GODEBUG=http2client=0 forces HTTP/1.1 as a stop-gap when a proxy's HTTP/2 is at fault."
	}
	return "The server ended the stream with an error. Retry; if it persists, look for a proxy or inspection " +
		"product in the path. GODEBUG=http2client=0 makes the go command use HTTP/1.1 meanwhile."
}

func runH2StreamReset(ctx *Context) []Finding {
	var out []Finding
	type key struct {
		host, code string
		client     bool
	}
	index := make(map[key]int)
	for _, h := range ctx.Events.HTTP {
		if h.Proto != "h2" || h.Reset == "" || h.Reset == "NO_ERROR" || h.ResetFromClient && h.Reset == "CANCEL" ||
			!ctx.isModuleExchange(h) {
			continue
		}
		host := httpHost(ctx, h)
		who := "the server"
		if h.ResetFromClient {
			who = "the client"
		}
		req := fmt.Sprintf("%s %s (stream %d)", h.Method, h.Path, h.StreamID)
		got := ""
		if h.Status != 0 {
			got = fmt.Sprintf(" after status %d and %d body bytes", h.Status, h.BodyBytes)
		}
		k := key{host, h.Reset, h.ResetFromClient}
		if i, ok := index[k]; ok {
			out[i].Observed += "; " + req + got
			out[i].Evidence = append(out[i].Evidence, evidence(h.Request, "%s", req), evidence(h.ResetAt, "RST_STREAM %s", h.Reset))
			continue
		}
		index[k] = len(out)
		out = append(out, Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("%s reset the HTTP/2 stream of %s %s with %s", who, h.Method, h.Path, h.Reset),
			Expected: "a complete response ending with END_STREAM",
			Observed: fmt.Sprintf("RST_STREAM %s from %s on %s%s — the go command says `stream error: stream ID %d; %s; received from peer`",
				h.Reset, who, req, got, h.StreamID, h.Reset),
			Evidence: []Evidence{evidence(h.Request, "%s", req), evidence(h.ResetAt, "RST_STREAM %s from %s", h.Reset, who)},
			Hint:     streamResetHint(h.Reset, h.ResetFromClient),
		})
	}
	return out
}
