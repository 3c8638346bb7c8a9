package analyze

import (
	"fmt"
	"strings"

	"github.com/modsniff/modsniff/decode"
)

var checkVCSUnreachable = &Check{ID: "vcs-unreachable", Layer: "vcs", Severity: Error,
	Title: "in direct mode the version-control host's transport fails",
	Doc: "The go command fetches a module from its repository itself (GOPROXY=direct, a GOPRIVATE path, or the " +
		"proxy list's fall-through) and git's transport fails: an SSH connection to port 22 unanswered, refused, or " +
		"closed without the server's `SSH-` banner (RFC 4253 §4.2); or git's smart-HTTP discovery (`/info/refs`) " +
		"answered 401 or 403 (seen with keys). git then says `ssh: connect to host … port 22: …`, `Connection closed by " +
		"remote host` or `terminal prompts disabled`.",
	Role: RoleCause,
	GoErrors: []string{
		"ssh: connect to host github.com port 22: Connection timed out",
		"ssh: connect to host github.com port 22: Connection refused",
	},
	run: runVCSUnreachable}

const vcsHint = "Direct mode needs git to reach the repository. If SSH (port 22) is blocked, use HTTPS with a token in " +
	"~/.netrc (`machine HOST login USER password TOKEN`) and drop any `url.<ssh>.insteadOf` rule, or tunnel SSH over 443 " +
	"(`GIT_SSH_COMMAND='ssh -p 443'` with ssh.github.com). To fetch HTTPS repositories over SSH keys instead: " +
	"`git config --global url.\"git@HOST:\".insteadOf \"https://HOST/\"`. Check `go env GOPRIVATE GOPROXY`: a public " +
	"module wrongly listed in GOPRIVATE goes direct too."

// sshFailure says how an SSH connection failed, or "".
func sshFailure(c *decode.TCPConn) string {
	serverReset := false
	for _, r := range c.Resets() {
		if !r.FromClient {
			serverReset = true
		}
	}
	switch {
	case c.SYNACK.IsZero() && serverReset:
		return "refused"
	case c.SYNACK.IsZero() && len(c.SYN()) > 1:
		return fmt.Sprintf("unanswered (%d SYNs)", len(c.SYN()))
	case !c.SYNACK.IsZero() && c.Payload[1] == 0 && (serverReset || !c.FIN[1].IsZero()):
		return "closed by the server without an SSH banner"
	}
	return ""
}

func runVCSUnreachable(ctx *Context) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	for _, c := range ctx.Events.TCP {
		if c.Server.Port() != 22 || len(c.SYN()) == 0 {
			continue
		}
		why := sshFailure(c)
		host := ctx.hostFor(c.Server.Addr())
		if why == "" || seen[host+"|ssh"] {
			continue
		}
		seen[host+"|ssh"] = true
		f := Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("git over SSH to %s (port 22) failed: %s", host, why),
			Expected: "a TCP connection to port 22 answered with the server's SSH- banner",
			Observed: fmt.Sprintf("the connection to %s was %s", c.Server, why),
			Evidence: []Evidence{evidence(c.SYN()[0], "SYN to %s", c.Server)},
			Hint:     vcsHint,
		}
		if len(c.SYN()) > 1 {
			f.Evidence = append(f.Evidence, evidence(c.SYN()[len(c.SYN())-1], "SYN retransmitted"))
		}
		if !c.SYNACK.IsZero() {
			f.Evidence = append(f.Evidence, evidence(c.SYNACK, "SYN-ACK"))
		}
		for _, r := range c.Resets() {
			if !r.FromClient {
				f.Evidence = append(f.Evidence, evidence(r.At, "reset from the server side"))
				break
			}
		}
		if !c.FIN[1].IsZero() {
			f.Evidence = append(f.Evidence, evidence(c.FIN[1], "the server closes without a banner"))
		}
		out = append(out, f)
	}
	for _, h := range ctx.Events.HTTP {
		p, _, _ := strings.Cut(h.Path, "?")
		if !strings.HasSuffix(p, "/info/refs") || (h.Status != 401 && h.Status != 403) {
			continue
		}
		host := httpHost(ctx, h)
		if seen[host+"|http"] {
			continue
		}
		seen[host+"|http"] = true
		out = append(out, Finding{Severity: Error, Host: host,
			Summary:  fmt.Sprintf("git's smart-HTTP discovery at %s was answered %d", host, h.Status),
			Expected: "200 with the repository's references",
			Observed: fmt.Sprintf("%s %s → %d: the repository wants credentials git did not have", h.Method, h.Path, h.Status),
			Evidence: []Evidence{evidence(h.Request, "%s %s", h.Method, h.Path), evidence(h.Response, "status %d", h.Status)},
			Hint: "git needs credentials for " + host + " and the go command forbids prompting (`terminal prompts " +
				"disabled`): add `machine " + host + " login USER password TOKEN` to ~/.netrc or configure a git credential " +
				"helper; or use SSH keys with `git config --global url.\"git@" + host + ":\".insteadOf \"https://" + host + "/\"`. " +
				"A module that is public by mistake in GOPRIVATE should go through the proxy instead.",
		})
	}
	return out
}
