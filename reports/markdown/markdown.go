// Package markdown writes a short scan summary in GitHub-flavoured Markdown for CI job pages
// ($GITHUB_STEP_SUMMARY): counts by severity, drift since the last scan, the most severe
// findings and one line per endpoint. Every string a server supplied is escaped so it shows as
// text: it can neither format the page nor inject HTML.
package markdown

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rampart-scan/rampart/model"
)

// Defaults for the table sizes; GitHub caps a step summary at 1 MiB.
const (
	DefaultTopFindings  = 20
	DefaultMaxEndpoints = 100
	maxCell             = 160
)

// Input is what one summary is written from.
type Input struct {
	// Scan is the scan to summarise. Required.
	Scan *model.ScanResult
	// Rules looks a rule up by ID, for rule titles. May be nil.
	Rules func(id string) (model.Rule, bool)
	// Drift is the change since the previous scan. May be nil.
	Drift *model.Drift
	// TopFindings caps the findings table (DefaultTopFindings when 0).
	TopFindings int
	// MaxEndpoints caps the endpoint table (DefaultMaxEndpoints when 0).
	MaxEndpoints int
}

var sevMark = map[model.Severity]string{
	model.SeverityCritical: "🔴", model.SeverityHigh: "🟠", model.SeverityMedium: "🟡", model.SeverityLow: "🔵", model.SeverityInfo: "⚪",
}

func severitiesDesc() []model.Severity {
	s := model.Severities()
	sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
	return s
}

// Write renders the summary.
func Write(w io.Writer, in Input) error {
	if in.Scan == nil {
		return errors.New("markdown summary: no scan to write")
	}
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	s := in.Scan
	top := in.TopFindings
	if top <= 0 {
		top = DefaultTopFindings
	}
	maxEP := in.MaxEndpoints
	if maxEP <= 0 {
		maxEP = DefaultMaxEndpoints
	}

	var active, waived []model.Finding
	for _, f := range s.Findings() {
		if f.Waived {
			waived = append(waived, f)
		} else {
			active = append(active, f)
		}
	}
	sortFindings(active)
	counts := map[model.Severity]int{}
	for _, f := range active {
		counts[f.Severity]++
	}
	fresh := map[string]bool{}
	if in.Drift != nil {
		for _, f := range append(append([]model.Finding(nil), in.Drift.NewFindings...), in.Drift.ReopenedFindings...) {
			fresh[fingerprint(f)] = true
		}
	}

	tool := s.Tool.Name
	if tool == "" {
		tool = "rampart"
	}
	p("## %s scan", text(titleCase(tool)))
	if s.ID != "" {
		p(" %s", code(s.ID))
	}
	p("\n\n")
	verdict := "✅ No active findings."
	for _, sev := range severitiesDesc() {
		if counts[sev] > 0 {
			verdict = fmt.Sprintf("%s %d active finding%s, the most severe %s.", sevMark[sev], len(active), plural(len(active)), sev)
			break
		}
	}
	p("%s", verdict)
	if len(waived) > 0 {
		p(" %d waived.", len(waived))
	}
	p("\n\n")
	if s.Status != "" && s.Status != model.ScanComplete {
		p("> [!WARNING]\n> The scan is **%s**: results may be incomplete.", s.Status)
		if s.Error != "" {
			p(" %s", text(s.Error))
		}
		p("\n\n")
	}

	p("| Severity | Active |\n|:--|--:|\n")
	for _, sev := range severitiesDesc() {
		p("| %s %s | %d |\n", sevMark[sev], sev, counts[sev])
	}
	reach := 0
	for _, er := range s.Endpoints {
		if er.Observation.Status == model.StatusOK {
			reach++
		}
	}
	p("\n%d target%s, %d endpoint%s (%d answered)", len(s.Targets), plural(len(s.Targets)), len(s.Endpoints), plural(len(s.Endpoints)), reach)
	if !s.Started.IsZero() {
		p(", scanned %s", s.Started.UTC().Format("2006-01-02 15:04 MST"))
	}
	if s.Policy != "" {
		p(" under policy %s", code(s.Policy))
	}
	p(".\n")

	if d := in.Drift; d != nil {
		p("\n### Changes since the last scan\n\n")
		p("Compared with %s", code(d.BaseScan))
		if !d.BaseTime.IsZero() {
			p(" (%s)", d.BaseTime.UTC().Format("2006-01-02 15:04 MST"))
		}
		p(": **%d new**, %d reopened, **%d fixed**, %d unchanged.\n", len(d.NewFindings), len(d.ReopenedFindings), len(d.FixedFindings), d.UnchangedFindings)
		if d.Partial {
			p("\n> [!NOTE]\n> This scan did not complete: nothing is reported as fixed or vanished.\n")
		}
		section := func(title string, fs []model.Finding) {
			if len(fs) == 0 {
				return
			}
			fs = append([]model.Finding(nil), fs...)
			sortFindings(fs)
			p("\n<details><summary>%s (%d)</summary>\n\n", title, len(fs))
			findingTable(p, in, fs, top, nil)
			p("\n</details>\n")
		}
		section("New findings", d.NewFindings)
		section("Reopened findings", d.ReopenedFindings)
		section("Fixed findings", d.FixedFindings)
		if n := len(d.EndpointsAppeared) + len(d.EndpointsVanished) + len(d.PortsOpened) + len(d.PortsClosed) + len(d.CertRotations); n > 0 {
			p("\nEstate: %d endpoint%s appeared, %d vanished; %d port%s opened, %d closed; %d certificate%s rotated.\n",
				len(d.EndpointsAppeared), plural(len(d.EndpointsAppeared)), len(d.EndpointsVanished),
				len(d.PortsOpened), plural(len(d.PortsOpened)), len(d.PortsClosed), len(d.CertRotations), plural(len(d.CertRotations)))
		}
	}

	if len(active) > 0 {
		p("\n### Top findings\n\n")
		findingTable(p, in, active, top, fresh)
	}

	if len(s.Endpoints) > 0 {
		p("\n### Endpoints\n\n| Endpoint | Service | Address | Status | TLS | Findings |\n|:--|:--|:--|:--|:--|--:|\n")
		for i, er := range s.Endpoints {
			if i == maxEP {
				p("\n… and %d more endpoints.\n", len(s.Endpoints)-maxEP)
				break
			}
			o := er.Observation
			e := o.Endpoint
			svc := e.Service
			if svc == "" {
				svc = "tcp"
			}
			n, worst := 0, model.Severity(-1)
			for _, f := range er.Findings {
				if !f.Waived {
					n++
					worst = max(worst, f.Severity)
				}
			}
			cnt := "0"
			if n > 0 {
				cnt = fmt.Sprintf("%s %d", sevMark[worst], n)
			}
			p("| %s | %s | %s | %s | %s | %s |\n", text(e.HostPort()), text(svc), code(e.Addr.Addr().String()), text(string(o.Status)), tlsSummary(o), cnt)
		}
	}
	if len(waived) > 0 {
		p("\n<details><summary>Waived findings (%d)</summary>\n\n| Severity | Rule | Endpoint | Reason | Expires |\n|:--|:--|:--|:--|:--|\n", len(waived))
		sortFindings(waived)
		for i, f := range waived {
			if i == top {
				p("\n… and %d more.\n", len(waived)-top)
				break
			}
			reason, expires := "", ""
			if f.Waiver != nil {
				reason, expires = f.Waiver.Reason, f.Waiver.Expires
			}
			p("| %s %s | %s | %s | %s | %s |\n", sevMark[f.Severity], f.Severity, code(f.RuleID), text(assetName(in.Scan, f.Asset)), text(reason), text(expires))
		}
		p("\n</details>\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("markdown summary: write: %w", err)
	}
	return nil
}

func findingTable(p func(string, ...any), in Input, fs []model.Finding, top int, fresh map[string]bool) {
	p("| Severity | Rule | Endpoint | Finding |\n|:--|:--|:--|:--|\n")
	for i, f := range fs {
		if i == top {
			p("\n… and %d more.\n", len(fs)-top)
			return
		}
		title := f.Title
		if title == "" && in.Rules != nil {
			if r, ok := in.Rules(f.RuleID); ok {
				title = r.Title
			}
		}
		msg := "**" + text(title) + "**"
		if f.Message != "" {
			msg += " " + text(f.Message)
		}
		if fresh[fingerprint(f)] {
			msg += " 🆕"
		}
		p("| %s %s | %s | %s | %s |\n", sevMark[f.Severity], f.Severity, code(f.RuleID), text(assetName(in.Scan, f.Asset)), msg)
	}
}

func tlsSummary(o model.Observation) string {
	if t := o.TLS; t != nil {
		if e := t.Engine; e != nil {
			var vs []string
			for i := len(e.Versions) - 1; i >= 0; i-- {
				if e.Versions[i].Supported {
					vs = append(vs, e.Versions[i].Version)
				}
			}
			if len(vs) > 0 {
				return text(strings.Join(vs, ", "))
			}
		}
		if h := t.Handshake; h != nil {
			return text(h.Version)
		}
		if !t.Speaks {
			return "no TLS"
		}
	}
	if st := o.StartTLS; st != nil {
		return text("STARTTLS " + string(st.Outcome))
	}
	return "—"
}

func assetName(s *model.ScanResult, asset string) string {
	if name, ok := strings.CutPrefix(asset, "domain:"); ok {
		return name
	}
	for _, er := range s.Endpoints {
		if er.Observation.Endpoint.ID() == asset {
			return er.Observation.Endpoint.HostPort()
		}
	}
	if _, rest, ok := strings.Cut(asset, "://"); ok {
		host, addr, _ := strings.Cut(rest, "@")
		if host != "" && !strings.HasPrefix(addr, host) && !strings.HasPrefix(addr, "["+host) {
			return host + " (" + addr + ")"
		}
		return addr
	}
	return asset
}

func fingerprint(f model.Finding) string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	return model.FindingFingerprint(f.RuleID, f.Asset, f.Detail)
}

func sortFindings(fs []model.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Severity != fs[j].Severity {
			return fs[i].Severity > fs[j].Severity
		}
		if fs[i].RuleID != fs[j].RuleID {
			return fs[i].RuleID < fs[j].RuleID
		}
		return fs[i].Asset < fs[j].Asset
	})
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func titleCase(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[n:]
}

// text escapes s for a table cell or running text: Markdown punctuation is backslash-escaped,
// HTML metacharacters become entities, line breaks and control characters become spaces or
// visible escapes, and very long values are cut.
func text(s string) string {
	var sb strings.Builder
	n := 0
	for _, r := range s {
		if n == maxCell {
			sb.WriteString("…")
			break
		}
		n++
		switch {
		case r == '<':
			sb.WriteString("&lt;")
		case r == '>':
			sb.WriteString("&gt;")
		case r == '&':
			sb.WriteString("&amp;")
		case r == '"':
			sb.WriteString("&quot;")
		case strings.ContainsRune("\\`*_{}[]()#+-.!|~:@", r):
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n' || r == '\r' || r == '\t':
			sb.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0xfeff:
			fmt.Fprintf(&sb, "\\\\u%04x", r)
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// code renders s as an inline code span that no content can break out of: the fence is
// longer than any backtick run inside, pipes are escaped for tables, and line breaks and
// control characters are removed. An empty string is a dash.
func code(s string) string {
	if s == "" {
		return "—"
	}
	var sb strings.Builder
	n, run, longest := 0, 0, 0
	for _, r := range s {
		if n == maxCell {
			sb.WriteString("…")
			break
		}
		n++
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
		switch {
		case r == '|':
			sb.WriteString(`\|`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0xfeff:
			sb.WriteByte(' ')
		default:
			sb.WriteRune(r)
		}
	}
	fence := strings.Repeat("`", longest+1)
	body := sb.String()
	if strings.HasPrefix(body, "`") || strings.HasSuffix(body, "`") {
		body = " " + body + " "
	}
	return fence + body + fence
}
