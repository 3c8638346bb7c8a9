package analyze

import (
	"fmt"
	"strings"
	"time"

	"github.com/modsniff/modsniff/capture"
)

var checkInputDamaged = &Check{
	ID: "input-damaged", Layer: "input", Severity: Warning,
	Title: "the capture is truncated or corrupt",
	Doc: "The capture file ends inside a record, a block length is corrupt, or garbage follows the packets. " +
		"Analysis covers what could be read; findings that need the missing packets may be absent.",
	Role: RoleCause,
	run:  runInputDamaged,
}

// checkInputDamaged reports every input whose reader found damage.
func runInputDamaged(ctx *Context) []Finding {
	var out []Finding
	for i, in := range ctx.Inputs {
		if len(in.Info.Errors) == 0 {
			continue
		}
		var what []string
		for _, e := range in.Info.Errors {
			what = append(what, fmt.Sprintf("at byte %d (packet %d): %s", e.Offset, e.Packet, e.Msg))
		}
		first := in.Info.Errors[0]
		out = append(out, Finding{
			Severity: Warning,
			Summary:  fmt.Sprintf("%s is damaged; %d packets before the damage were analysed", in.Info.Path, in.Info.Packets),
			Expected: "a capture that can be read to its end",
			Observed: strings.Join(what, "; "),
			Evidence: []Evidence{{At: capture.NewRef(i, max(first.Packet-1, 0), time.Time{}),
				Detail: fmt.Sprintf("last packet before the damage at byte %d", first.Offset)}},
			Hint: "Ask for the capture again: copy it whole (check its size or sha256sum on both ends), " +
				"and stop the capture cleanly (Ctrl-C, not kill -9) so its last block is written. " +
				"`editcap in.pcapng out.pcapng` rewrites what Wireshark can still read.",
		})
	}
	return out
}
