package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// TextOptions tune the terminal summary.
type TextOptions struct {
	Color bool
	// Verbose lists every finding's message under its endpoint; otherwise only counts and the
	// findings of medium severity and above are shown.
	Verbose bool
	// Drift, when set, adds what changed since the previous complete scan of the same scope.
	Drift *model.Drift
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiMag    = "\x1b[35m"
)

func sevColor(s model.Severity) string {
	switch s {
	case model.SeverityCritical:
		return ansiMag + ansiBold
	case model.SeverityHigh:
		return ansiRed
	case model.SeverityMedium:
		return ansiYellow
	case model.SeverityLow:
		return ansiBlue
	default:
		return ansiDim
	}
}

type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return code + s + ansiReset
}

// WriteText writes the terminal summary: one block per endpoint with its address, TLS version
// and findings by severity, then the discovery notes and the totals.
func WriteText(w io.Writer, r *model.ScanResult, o TextOptions) error {
	p := painter(o.Color)
	var b strings.Builder
	eps := append([]model.EndpointResult(nil), r.Endpoints...)
	sort.SliceStable(eps, func(i, j int) bool { return eps[i].Observation.Endpoint.ID() < eps[j].Observation.Endpoint.ID() })

	for _, er := range eps {
		ob := er.Observation
		ep := ob.Endpoint
		name := ep.HostPort()
		if ep.Name != "" {
			name += " (" + ep.Addr.String() + ")"
		}
		svc := ep.Service
		if svc == "" {
			svc = "tcp"
		}
		fmt.Fprintf(&b, "%s %s  %s\n", p.paint(ansiBold, name), p.paint(ansiDim, svc), statusLine(ob, p))
		counts := countBySeverity(er.Findings)
		if len(counts) > 0 {
			var parts []string
			for _, s := range descending() {
				if n := counts[s]; n > 0 {
					parts = append(parts, p.paint(sevColor(s), fmt.Sprintf("%d %s", n, s)))
				}
			}
			fmt.Fprintf(&b, "  findings: %s\n", strings.Join(parts, ", "))
		}
		for _, f := range er.Findings {
			if f.Waived || (!o.Verbose && f.Severity < model.SeverityMedium) {
				continue
			}
			fmt.Fprintf(&b, "  %s %s  %s\n", p.paint(sevColor(f.Severity), fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))), f.RuleID, oneLine(f.Message, 160))
		}
		if waived := countWaived(er.Findings); waived > 0 {
			fmt.Fprintf(&b, "  %s\n", p.paint(ansiDim, fmt.Sprintf("%d waived by policy", waived)))
		}
	}
	for _, d := range r.Domains {
		if len(d.Findings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s %s\n", p.paint(ansiBold, d.Observation.Name), p.paint(ansiDim, "dns"))
		for _, f := range d.Findings {
			if f.Waived || (!o.Verbose && f.Severity < model.SeverityMedium) {
				continue
			}
			fmt.Fprintf(&b, "  %s %s  %s\n", p.paint(sevColor(f.Severity), fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))), f.RuleID, oneLine(f.Message, 160))
		}
	}
	for _, n := range r.Nodes {
		if len(n.Findings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s %s\n", p.paint(ansiBold, fmt.Sprintf("%s:%d", n.Group.Name, n.Group.Port)), p.paint(ansiDim, fmt.Sprintf("%d addresses", len(n.Group.Endpoints))))
		for _, f := range n.Findings {
			if f.Waived || (!o.Verbose && f.Severity < model.SeverityMedium) {
				continue
			}
			fmt.Fprintf(&b, "  %s %s  %s\n", p.paint(sevColor(f.Severity), fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))), f.RuleID, oneLine(f.Message, 160))
		}
	}
	if len(r.Discovery) > 0 {
		fmt.Fprintf(&b, "\n%s\n", p.paint(ansiBold, "Discovery notes"))
		for _, n := range r.Discovery {
			fmt.Fprintf(&b, "  %-8s %s: %s\n", n.Kind, n.Target, oneLine(n.Detail, 160))
		}
	}
	total := countBySeverity(r.Findings())
	var parts []string
	for _, s := range descending() {
		parts = append(parts, p.paint(sevColor(s), fmt.Sprintf("%d %s", total[s], s)))
	}
	status := string(r.Status)
	switch r.Status {
	case model.ScanComplete:
		status = p.paint(ansiGreen, status)
	default:
		status = p.paint(ansiRed+ansiBold, strings.ToUpper(status))
	}
	fmt.Fprintf(&b, "\nScan %s: %d endpoints in %s; findings: %s\n", status, len(r.Endpoints),
		r.Finished.Sub(r.Started).Round(10*time.Millisecond), strings.Join(parts, ", "))
	if r.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", r.Error)
	}
	if d := o.Drift; d != nil {
		fmt.Fprintf(&b, "Since scan %s: %s new, %s fixed, %d reopened, %d unchanged findings",
			d.BaseScan, p.paint(ansiRed, fmt.Sprint(len(d.NewFindings))), p.paint(ansiGreen, fmt.Sprint(len(d.FixedFindings))),
			len(d.ReopenedFindings), d.UnchangedFindings)
		if n := len(d.EndpointsAppeared) + len(d.EndpointsVanished); n > 0 {
			fmt.Fprintf(&b, "; %d endpoints appeared, %d vanished", len(d.EndpointsAppeared), len(d.EndpointsVanished))
		}
		if n := len(d.CertRotations); n > 0 {
			fmt.Fprintf(&b, "; %d certificates rotated", n)
		}
		if d.Partial {
			b.WriteString(" (this scan is partial: nothing is counted as fixed or vanished)")
		}
		b.WriteString("\n")
		for _, f := range d.NewFindings {
			fmt.Fprintf(&b, "  %s %s %s  %s\n", p.paint(ansiRed, "new"), p.paint(sevColor(f.Severity), fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))), f.RuleID, oneLine(f.Asset, 80))
		}
		for _, f := range d.FixedFindings {
			fmt.Fprintf(&b, "  %s %s %s  %s\n", p.paint(ansiGreen, "fixed"), fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String())), f.RuleID, oneLine(f.Asset, 80))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func statusLine(ob model.Observation, p painter) string {
	switch ob.Status {
	case model.StatusOK:
	case model.StatusInterrupted:
		return p.paint(ansiYellow, "interrupted")
	default:
		return p.paint(ansiRed, string(ob.Status)+": "+oneLine(ob.Error, 120))
	}
	var parts []string
	if ob.Connect != nil && ob.Connect.Reachable {
		parts = append(parts, "connect "+ob.Connect.Latency.Round(100*time.Microsecond).String())
	}
	if t := ob.TLS; t != nil {
		switch {
		case t.Handshake != nil:
			parts = append(parts, t.Handshake.Version+" "+t.Handshake.CipherSuite, "handshake "+t.Handshake.Latency.Round(100*time.Microsecond).String())
		case !t.Speaks:
			parts = append(parts, p.paint(ansiRed, "no TLS"))
		default:
			parts = append(parts, p.paint(ansiRed, "handshake failed"))
		}
	}
	if sv := ob.Service; sv != nil && sv.Service != "" {
		id := sv.Service
		if sv.Product != "" {
			id += " (" + strings.TrimSpace(sv.Product+" "+sv.Version) + ")"
		}
		parts = append(parts, oneLine(id, 60))
	}
	if ob.Error != "" {
		parts = append(parts, p.paint(ansiYellow, oneLine(ob.Error, 100)))
	}
	return strings.Join(parts, "  ")
}

func descending() []model.Severity {
	s := model.Severities()
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}

func countBySeverity(fs []model.Finding) map[model.Severity]int {
	m := map[model.Severity]int{}
	for _, f := range fs {
		if !f.Waived {
			m[f.Severity]++
		}
	}
	return m
}

func countWaived(fs []model.Finding) int {
	n := 0
	for _, f := range fs {
		if f.Waived {
			n++
		}
	}
	return n
}

// oneLine flattens and bounds a message for a terminal line. Control characters (which a
// hostile server could plant in a certificate or banner to drive the terminal) become '?'.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
