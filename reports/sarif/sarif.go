// Package sarif writes a scan's findings as SARIF 2.1.0 that GitHub code scanning accepts.
//
// GitHub is stricter than the SARIF schema: every result needs a physical location in a
// repository-relative file with a full region, every rule needs descriptions, help and a
// numeric security-severity, and an upload is capped (20 runs, 25,000 results per run of which
// 5,000 are kept, 10 MB gzipped). docs/sarif.md explains which file a finding about a server
// points at and how fingerprints keep alerts stable across scans.
package sarif

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-scan/rampart/model"
)

// GitHub code scanning limits (docs.github.com, "SARIF support for code scanning").
const (
	// GitHubKeptResults is how many results per run GitHub keeps (by severity).
	GitHubKeptResults = 5000
	// GitHubMaxResults is the most results per run GitHub accepts at all.
	GitHubMaxResults = 25000
	// GitHubMaxGzipBytes is the largest gzip-compressed upload GitHub accepts.
	GitHubMaxGzipBytes = 10 << 20
	// GitHubMaxTags is the number of rule tags GitHub shows.
	GitHubMaxTags  = 10
	maxDescription = 1024
	maxName        = 255
)

// FingerprintKey is Rampart's own partial fingerprint, beside GitHub's primaryLocationLineHash.
const FingerprintKey = "rampartFinding/v1"

// Input is what one SARIF file is written from.
type Input struct {
	// Scan is the scan to report. Required.
	Scan *model.ScanResult
	// Rules looks a rule up by ID (e.g. (*checks.Catalogue).Rule). May be nil: rules then get
	// descriptions from their findings' titles.
	Rules func(id string) (model.Rule, bool)
	// Drift is the change since the previous scan; only the archive variant uses it. May be nil.
	Drift *model.Drift
}

// Options tunes the output. The zero value writes a GitHub upload file.
type Options struct {
	// Category is the automationDetails.id category ("rampart" when empty). Give each target
	// set its own category so its upload replaces only its own alerts.
	Category string
	// TargetsFile is the repository-relative file findings point at when their target came
	// from the command line or stdin, or from a file outside RepoRoot (DefaultTargetsFile when
	// empty). Line N of it stands for the N-th command-line target.
	TargetsFile string
	// RepoRoot is the absolute path of the repository checkout; absolute target-file names
	// under it become repository-relative. WorkDir is the directory relative target-file names
	// were given in (both empty: relative names are taken as repository-relative).
	RepoRoot, WorkDir string
	// Archive writes every finding: waived ones with suppressions, drift states as
	// baselineState and fixed findings as "absent". GitHub ignores both properties, so an
	// archive must not be uploaded. Archive output is not capped.
	Archive bool
	// MaxResults caps the results of the upload (GitHubKeptResults when 0, never above
	// GitHubMaxResults); the most severe are kept and the run says what was dropped.
	MaxResults int
	// MaxGzipBytes caps the gzip-compressed size (GitHubMaxGzipBytes when 0).
	MaxGzipBytes int
	// InformationURI is the tool's home page.
	InformationURI string
	// HelpURI returns the documentation URL of a rule (a default under InformationURI when nil).
	HelpURI func(ruleID string) string
}

// DefaultInformationURI is Rampart's home page.
const DefaultInformationURI = "https://github.com/rampart-scan/rampart"

// Write encodes the scan as a SARIF log with one run.
func Write(w io.Writer, in Input, opts Options) error {
	if in.Scan == nil {
		return errors.New("sarif: no scan to write")
	}
	b := newBuilder(in, opts)
	entries := b.entries()
	limit := len(entries)
	var notices []string
	if !opts.Archive {
		max := opts.MaxResults
		if max <= 0 {
			max = GitHubKeptResults
		}
		max = min(max, GitHubMaxResults)
		if limit > max {
			notices = append(notices, fmt.Sprintf("%d findings exceed the %d results kept per run: the %d most severe are included, %d were left out (severity of the least severe kept: %s)",
				len(entries), max, max, len(entries)-max, entries[max-1].f.Severity))
			limit = max
		}
	}
	maxGzip := opts.MaxGzipBytes
	if maxGzip <= 0 {
		maxGzip = GitHubMaxGzipBytes
	}
	for {
		doc, err := json.MarshalIndent(b.log(entries[:limit], len(entries), notices), "", "  ")
		if err != nil {
			return fmt.Errorf("sarif: encode: %w", err)
		}
		doc = append(doc, '\n')
		size, err := gzipSize(doc)
		if err != nil {
			return fmt.Errorf("sarif: measure compressed size: %w", err)
		}
		if opts.Archive || size <= maxGzip {
			if _, err := w.Write(doc); err != nil {
				return fmt.Errorf("sarif: write: %w", err)
			}
			return nil
		}
		if limit <= 1 {
			return fmt.Errorf("sarif: a single result compresses to %d bytes, above the %d-byte limit", size, maxGzip)
		}
		newLimit := limit / 2
		notices = append(notices, fmt.Sprintf("the file compressed to %d bytes, above the %d-byte upload limit: cut to the %d most severe of %d findings",
			size, maxGzip, newLimit, len(entries)))
		limit = newLimit
	}
}

func gzipSize(doc []byte) (int, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(doc); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

// entry is one finding to write, with its drift state.
type entry struct {
	f        model.Finding
	baseline string // "", new, unchanged, absent
	order    int
}

type builder struct {
	in    Input
	opts  Options
	loc   *locator
	fresh map[string]bool // fingerprints new (or reopened) in the drift
}

func newBuilder(in Input, opts Options) *builder {
	b := &builder{in: in, opts: opts, loc: newLocator(in.Scan, opts), fresh: map[string]bool{}}
	if in.Drift != nil {
		for _, f := range in.Drift.NewFindings {
			b.fresh[fingerprint(f)] = true
		}
		for _, f := range in.Drift.ReopenedFindings {
			b.fresh[fingerprint(f)] = true
		}
	}
	return b
}

func fingerprint(f model.Finding) string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	return model.FindingFingerprint(f.RuleID, f.Asset, f.Detail)
}

// entries lists the findings to write, most severe first, in a deterministic order.
func (b *builder) entries() []entry {
	var out []entry
	for _, f := range b.in.Scan.Findings() {
		if f.Waived && !b.opts.Archive {
			continue
		}
		e := entry{f: f, order: len(out)}
		if b.opts.Archive && b.in.Drift != nil {
			e.baseline = "unchanged"
			if b.fresh[fingerprint(f)] {
				e.baseline = "new"
			}
		}
		out = append(out, e)
	}
	if b.opts.Archive && b.in.Drift != nil && !b.in.Drift.Partial {
		for _, f := range b.in.Drift.FixedFindings {
			out = append(out, entry{f: f, baseline: "absent", order: len(out)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, c := out[i].f, out[j].f
		if a.Severity != c.Severity {
			return a.Severity > c.Severity
		}
		if a.RuleID != c.RuleID {
			return a.RuleID < c.RuleID
		}
		if a.Asset != c.Asset {
			return a.Asset < c.Asset
		}
		return a.Detail < c.Detail
	})
	return out
}

func (b *builder) log(entries []entry, total int, notices []string) sarifLog {
	scan := b.in.Scan
	r := run{
		Tool:    tool{Driver: b.driver(entries)},
		Results: make([]result, 0, len(entries)),
	}
	index := map[string]int{}
	for i, rule := range r.Tool.Driver.Rules {
		index[rule.ID] = i
	}
	for _, e := range entries {
		r.Results = append(r.Results, b.result(e, index[e.f.RuleID]))
	}
	cat := strings.Trim(b.opts.Category, "/")
	if cat == "" {
		cat = "rampart"
	}
	r.AutomationDetails = &automationDetails{ID: cat + "/"}
	inv := invocation{ExecutionSuccessful: scan.Status == model.ScanComplete || scan.Status == ""}
	if !scan.Started.IsZero() {
		inv.StartTimeUTC = scan.Started.UTC().Format(time.RFC3339)
	}
	if !scan.Finished.IsZero() {
		inv.EndTimeUTC = scan.Finished.UTC().Format(time.RFC3339)
	}
	if scan.Error != "" {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
			notification{Level: "error", Message: message{Text: sentence("The scan ended with an error: " + scan.Error)}})
	}
	for _, n := range notices {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
			notification{Level: "warning", Message: message{Text: sentence(n)}})
	}
	r.Invocations = []invocation{inv}
	props := map[string]any{
		"rampart.scanId":    scan.ID,
		"rampart.status":    string(scan.Status),
		"rampart.policy":    scan.Policy,
		"rampart.targets":   len(scan.Targets),
		"rampart.endpoints": len(scan.Endpoints),
		"rampart.findings":  total,
		"rampart.results":   len(entries),
		"rampart.variant":   "upload",
	}
	if b.opts.Archive {
		props["rampart.variant"] = "archive"
	}
	if len(entries) < total {
		props["rampart.truncated"] = true
		props["rampart.notices"] = notices
	}
	r.Properties = props
	return sarifLog{Schema: SchemaURI, Version: Version, Runs: []run{r}}
}

func (b *builder) driver(entries []entry) toolComponent {
	name := b.in.Scan.Tool.Name
	if name == "" {
		name = "Rampart"
	}
	info := b.opts.InformationURI
	if info == "" {
		info = DefaultInformationURI
	}
	d := toolComponent{Name: name, Version: b.in.Scan.Tool.Version, InformationURI: info, Rules: []reportingDescriptor{}}
	// One descriptor per rule that has a result; a rule's security-severity is the highest
	// severity of its results (a policy may raise or lower a rule's default).
	worst := map[string]model.Finding{}
	var ids []string
	for _, e := range entries {
		w, seen := worst[e.f.RuleID]
		if !seen {
			ids = append(ids, e.f.RuleID)
		}
		if !seen || e.f.Severity > w.Severity {
			worst[e.f.RuleID] = e.f
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		d.Rules = append(d.Rules, b.descriptor(id, worst[id]))
	}
	return d
}

func (b *builder) rule(id string, f model.Finding) model.Rule {
	if b.in.Rules != nil {
		if r, ok := b.in.Rules(id); ok {
			return r
		}
	}
	return model.Rule{ID: id, Title: f.Title, DefaultSeverity: f.Severity}
}

func (b *builder) helpURI(id string) string {
	if b.opts.HelpURI != nil {
		if u := b.opts.HelpURI(id); u != "" {
			return u
		}
	}
	info := b.opts.InformationURI
	if info == "" {
		info = DefaultInformationURI
	}
	return strings.TrimRight(info, "/") + "/blob/main/docs/rules.md#" + strings.NewReplacer("/", "", ".", "").Replace(strings.ToLower(id))
}

func (b *builder) descriptor(id string, worst model.Finding) reportingDescriptor {
	r := b.rule(id, worst)
	title := firstNonEmpty(r.Title, worst.Title, id)
	full := firstNonEmpty(r.Why, title)
	sev := worst.Severity
	return reportingDescriptor{
		ID:                   id,
		Name:                 truncate(pascal(id), maxName),
		ShortDescription:     message{Text: truncate(sentence(title), maxDescription)},
		FullDescription:      message{Text: truncate(sentence(full), maxDescription)},
		Help:                 multiformatMessage{Text: helpText(r, title), Markdown: helpMarkdown(r, title)},
		HelpURI:              b.helpURI(id),
		DefaultConfiguration: &reportingConfiguration{Level: level(r.DefaultSeverity)},
		Properties: ruleProperties{
			Tags:             tags(id, r.Tags),
			Precision:        "high",
			SecuritySeverity: SecuritySeverity(sev),
			ProblemSeverity:  problemSeverity(sev),
		},
	}
}

func (b *builder) result(e entry, ruleIndex int) result {
	f := e.f
	fp := fingerprint(f)
	a := b.loc.locate(f.Asset)
	where := b.loc.describe(f.Asset)
	title := firstNonEmpty(f.Title, b.rule(f.RuleID, f).Title, f.RuleID)
	text := sentence(strings.TrimRight(title, ". ") + " on " + where)
	if msg := strings.TrimSpace(f.Message); msg != "" {
		text += " " + sentence(msg)
	}
	locMsg := "Endpoint " + where
	if strings.HasPrefix(f.Asset, "domain:") {
		locMsg = "The " + where
	}
	if a.via != "" {
		locMsg += ", from target " + a.via
	}
	res := result{
		RuleID:    f.RuleID,
		RuleIndex: ruleIndex,
		Level:     level(f.Severity),
		Message:   message{Text: text},
		Locations: []location{{
			PhysicalLocation: physicalLocation{
				ArtifactLocation: artifactLocation{URI: a.uri},
				Region:           region{StartLine: a.line, StartColumn: 1, EndLine: a.line, EndColumn: a.endColumn},
			},
			LogicalLocations: []logicalLocation{b.loc.logical(f.Asset)},
			Message:          &message{Text: sentence(locMsg)},
		}},
		PartialFingerprints: map[string]string{
			"primaryLocationLineHash": fp + ":1",
			FingerprintKey:            fp,
		},
		BaselineState: e.baseline,
	}
	props := map[string]any{"rampart.severity": f.Severity.String(), "rampart.asset": f.Asset}
	if f.Detail != "" {
		props["rampart.detail"] = f.Detail
	}
	if len(f.Evidence) > 0 {
		props["rampart.evidence"] = f.Evidence
	}
	res.Properties = props
	if f.Waived {
		s := suppression{Kind: "external", Status: "accepted"}
		if f.Waiver != nil {
			j := f.Waiver.Reason
			if f.Waiver.Owner != "" {
				j += " (owner " + f.Waiver.Owner + ")"
			}
			if f.Waiver.Expires != "" {
				j += " (expires " + f.Waiver.Expires + ")"
			}
			s.Justification = strings.TrimSpace(j)
		}
		res.Suppressions = []suppression{s}
	}
	return res
}

// SecuritySeverity maps a severity to GitHub's security-severity score, the middle of the
// band GitHub displays it in (critical > 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9).
// Info findings score 1.0 (shown as low): GitHub has no informational security band.
func SecuritySeverity(s model.Severity) string {
	switch {
	case s >= model.SeverityCritical:
		return "9.5"
	case s == model.SeverityHigh:
		return "8.0"
	case s == model.SeverityMedium:
		return "5.5"
	case s == model.SeverityLow:
		return "2.0"
	default:
		return "1.0"
	}
}

func level(s model.Severity) string {
	switch {
	case s >= model.SeverityHigh:
		return "error"
	case s == model.SeverityMedium:
		return "warning"
	default:
		return "note"
	}
}

func problemSeverity(s model.Severity) string {
	switch {
	case s >= model.SeverityHigh:
		return "error"
	case s == model.SeverityMedium:
		return "warning"
	default:
		return "recommendation"
	}
}

// tags are "security", the rule family and the rule's own tags, deduplicated, at most ten.
func tags(id string, own []string) []string {
	out := []string{"security"}
	seen := map[string]bool{"security": true}
	family, _, _ := strings.Cut(id, "/")
	for _, t := range append([]string{family}, own...) {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] || len(out) == GitHubMaxTags {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

func helpText(r model.Rule, title string) string {
	var sb strings.Builder
	sb.WriteString(title)
	if r.Why != "" {
		sb.WriteString("\n\nWhy it matters: " + r.Why)
	}
	if r.Fix != "" {
		sb.WriteString("\n\nHow to fix: " + r.Fix)
	}
	for _, s := range r.Snippets {
		sb.WriteString("\n\n" + s.Software + ":\n" + s.Config)
	}
	for i, ref := range r.References {
		if i == 0 {
			sb.WriteString("\n\nReferences:")
		}
		sb.WriteString("\n- " + ref.Title)
		if ref.URL != "" {
			sb.WriteString(" " + ref.URL)
		}
	}
	return sb.String()
}

func helpMarkdown(r model.Rule, title string) string {
	var sb strings.Builder
	sb.WriteString("**" + mdEscape(title) + "**")
	if r.Why != "" {
		sb.WriteString("\n\n" + mdEscape(r.Why))
	}
	if r.Fix != "" {
		sb.WriteString("\n\n### How to fix\n\n" + mdEscape(r.Fix))
	}
	for _, s := range r.Snippets {
		fence := "```"
		for strings.Contains(s.Config, fence) {
			fence += "`"
		}
		sb.WriteString("\n\n" + mdEscape(s.Software) + ":\n\n" + fence + "\n" + strings.TrimRight(s.Config, "\n") + "\n" + fence)
	}
	for i, ref := range r.References {
		if i == 0 {
			sb.WriteString("\n\n### References\n")
		}
		if ref.URL != "" && (strings.HasPrefix(ref.URL, "https://") || strings.HasPrefix(ref.URL, "http://")) {
			sb.WriteString("\n- [" + mdEscape(ref.Title) + "](<" + strings.NewReplacer("<", "%3C", ">", "%3E").Replace(ref.URL) + ">)")
		} else {
			sb.WriteString("\n- " + mdEscape(ref.Title))
		}
	}
	return sb.String()
}

// mdEscape neutralises Markdown and HTML syntax in running text.
func mdEscape(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '|', '!', '~':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case '<':
			sb.WriteString("&lt;")
		case '>':
			sb.WriteString("&gt;")
		case '&':
			sb.WriteString("&amp;")
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// sentence trims s and ends it with a period (SARIF messages are sentences).
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if r, _ := utf8.DecodeLastRuneInString(s); r != '.' && r != '!' && r != '?' {
		s += "."
	}
	return s
}

// pascal turns "cert/expired-soon" into "CertExpiredSoon", the friendly rule name.
func pascal(id string) string {
	var sb strings.Builder
	up := true
	for _, r := range id {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}
