package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
)

// serverName is the SNI to send: the endpoint's name unless it is empty or an IP literal.
func serverName(ep model.Endpoint) string {
	if ep.Name == "" {
		return ""
	}
	if _, err := netip.ParseAddr(ep.Name); err == nil {
		return ""
	}
	return ep.Name
}

// classify maps a dial or I/O error to a probe status and a message.
func classify(ctx context.Context, err error) (model.ProbeStatus, string) {
	switch {
	case ctx.Err() != nil:
		return model.StatusInterrupted, "scan interrupted"
	case netx.IsTimeout(err):
		return model.StatusTimeout, "timed out: " + sanitize(err.Error(), 200)
	default:
		return model.StatusUnreachable, sanitize(err.Error(), 200)
	}
}

// sanitize bounds a string and replaces control characters, so attacker-controlled text is
// safe to print on a terminal and small enough to store.
func sanitize(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
