package html

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/rampart-scan/rampart/model"
)

// The view model: everything the template shows, already grouped, sorted and made printable.
// Strings from servers stay plain strings; html/template escapes them where they are used.

type page struct {
	CSP string
	CSS template.CSS
	JS  template.JS

	Title       string
	Scan        scanView
	Severities  []sevCount // active findings by severity, most severe first
	Active      int
	WaivedCount int
	Bar         []barSegment
	Grades      []gradeCount
	Drift       *driftView
	Trend       *chart
	Hosts       []*hostView
	Endpoints   []*endpointView // every endpoint, scan order
	Findings    []findingView   // active, most severe first
	Waived      []findingView
	Rules       []ruleView
	HostNames   []string
	Discovery   []model.DiscoveryNote
	Domains     []domainView
	Generated   string
	HasNew      bool
	StatusCount []kv
}

type scanView struct {
	ID, Tool, Version, Policy, Status, Error string
	Started, Finished, Duration              string
	Targets, Endpoints, Reachable            int
}

type sevCount struct {
	Name  string
	Count int
}

type barSegment struct {
	Name    string
	Count   int
	X, W    float64
	LabelX  float64
	Visible bool
}

type gradeCount struct {
	Grade string
	Count int
}

type kv struct{ Key, Value string }

type findingView struct {
	Severity    string
	Rank        int
	RuleID      string
	RuleAnchor  string
	Title       string
	Message     string
	Host        string
	Asset       string
	EPAnchor    string
	Detail      string
	Evidence    []kv
	New         bool
	Reopened    bool
	Fix         string
	Waiver      *model.Waiver
	Fingerprint string
}

type hostView struct {
	Services  []hostService
	Name      string
	Anchor    string
	Endpoints []*endpointView
	Diffs     []diffGroup
	Worst     string
	Findings  int
}

type endpointView struct {
	ID, Anchor, HostPort, Name, Addr, Port, Service, Status, Error, Source string
	Origin                                                                 []string
	Tags                                                                   []string
	Latency, Duration                                                      string
	Reachable                                                              bool
	Connect                                                                bool
	TLS                                                                    *tlsView
	Certs                                                                  *certView
	Matrix                                                                 *matrixView
	Versions                                                               []matrixCol
	Features                                                               *featuresView
	Avail                                                                  *availabilityView
	Exposure                                                               *serviceView
	StartTLS                                                               *startTLSView
	Findings                                                               []findingView
	Worst                                                                  string
	WorstRank                                                              int
	Counts                                                                 []sevCount
}

type tlsView struct {
	Speaks         bool
	HandshakeError string
	Version        string
	VersionClass   string
	Suite          string
	SuiteClass     string
	SuiteID        string
	ALPN           string
	SNI            string
	Latency        string
}

type certView struct {
	Analysis                         *chainAnalysis
	Chain                            []certItem
	Trusted                          bool
	TrustError                       string
	NameChecked, NameError           string
	NameMatches                      bool
	VerifiedChain                    []string
	LeafExpires, LeafClass, LeafDays string
}

type certItem struct {
	Position                string
	Subject, Issuer, Serial string
	NotBefore, NotAfter     string
	DaysLeft                string
	Class                   string
	SANs                    []string
	Key, SigAlg, SHA256     string
	IsCA, SelfSigned        bool
	Extra                   *certExtra
}

type diffGroup struct {
	Title string // "xmpp-client port 5222"
	Addrs []string
	Rows  []diffRow
}

type diffRow struct {
	Fact   string
	Values []string
}

type driftView struct {
	Base, BaseTime, HeadTime               string
	Partial                                bool
	New, Fixed, Reopened                   []findingView
	Unchanged                              int
	Appeared, Vanished, HostsUp, HostsGone []string
	Rotations                              []model.CertRotation
	PortsOpened, PortsClosed               []string
	Changes                                []model.FactChange
}

type ruleView struct {
	ID, Anchor, Title, Why, Fix, Severity string
	Snippets                              []model.Snippet
	References                            []refView
	Tags                                  []string
	Count                                 int
}

type refView struct {
	Title string
	URL   string // only http(s) URLs from our own catalogue; empty otherwise
}

type domainView struct {
	Facts    *domainFacts
	Name     string
	Anchor   string
	Findings []findingView
}

const timeFormat = "2006-01-02 15:04 MST"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeFormat)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

func anchor(prefix, s string) string {
	sum := sha256.Sum256([]byte(s))
	return prefix + hex.EncodeToString(sum[:6])
}

func ruleAnchor(id string) string {
	var sb strings.Builder
	sb.WriteString("rule-")
	for _, r := range strings.ToLower(id) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('-')
		}
	}
	return sb.String()
}

// visible makes control, bidirectional-override and zero-width characters visible as \uXXXX,
// so a hostile certificate or banner cannot reorder or hide what the reader sees.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&sb, `\u%04x`, r)
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func hidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true // bidirectional controls
	case r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff:
		return true // zero-width
	case r == unicode.ReplacementChar:
		return false
	}
	return false
}

func sevNames() []model.Severity {
	s := model.Severities()
	sort.Slice(s, func(i, j int) bool { return s[i] > s[j] })
	return s
}

type builder struct {
	in       Input
	fresh    map[string]bool
	reopened map[string]bool
	hostOf   map[string]string // asset → host:port
	anchorOf map[string]string // asset → endpoint anchor
	rules    map[string]*ruleView
}

func fingerprint(f model.Finding) string {
	if f.Fingerprint != "" {
		return f.Fingerprint
	}
	return model.FindingFingerprint(f.RuleID, f.Asset, f.Detail)
}

func build(in Input) *page {
	s := in.Scan
	b := &builder{in: in, fresh: map[string]bool{}, reopened: map[string]bool{}, hostOf: map[string]string{},
		anchorOf: map[string]string{}, rules: map[string]*ruleView{}}
	if in.Drift != nil {
		for _, f := range in.Drift.NewFindings {
			b.fresh[fingerprint(f)] = true
		}
		for _, f := range in.Drift.ReopenedFindings {
			b.fresh[fingerprint(f)] = true
			b.reopened[fingerprint(f)] = true
		}
	}
	for _, er := range s.Endpoints {
		e := er.Observation.Endpoint
		b.hostOf[e.ID()] = visible(e.HostPort())
		b.anchorOf[e.ID()] = anchor("ep-", e.ID())
	}
	for _, d := range s.Domains {
		b.hostOf["domain:"+d.Observation.Name] = visible(d.Observation.Name)
		b.anchorOf["domain:"+d.Observation.Name] = anchor("dom-", d.Observation.Name)
	}
	// Node groups (the addresses behind one name compared) link to the name's host section.
	for _, n := range s.Nodes {
		b.hostOf[n.Group.ID()] = visible(n.Group.Name)
		b.anchorOf[n.Group.ID()] = anchor("host-", n.Group.Name)
	}

	p := &page{
		Title:     "Rampart report",
		Generated: fmtTime(s.Finished),
		Scan: scanView{
			ID: visible(s.ID), Tool: visible(s.Tool.Name), Version: visible(s.Tool.Version), Policy: visible(s.Policy),
			Status: string(s.Status), Error: visible(s.Error), Started: fmtTime(s.Started), Finished: fmtTime(s.Finished),
			Targets: len(s.Targets), Endpoints: len(s.Endpoints),
		},
		Discovery: s.Discovery,
	}
	if p.Scan.Tool == "" {
		p.Scan.Tool = "rampart"
	}
	if !s.Started.IsZero() && !s.Finished.IsZero() {
		p.Scan.Duration = fmtDuration(s.Finished.Sub(s.Started))
	}
	for i := range p.Discovery {
		n := &p.Discovery[i]
		n.Target, n.Detail, n.Source = visible(n.Target), visible(n.Detail), visible(n.Source)
	}

	counts := map[model.Severity]int{}
	hostSet := map[string]bool{}
	statuses := map[string]int{}
	hosts := map[string]*hostView{}
	var hostOrder []string
	for _, er := range s.Endpoints {
		ev := b.endpoint(er)
		p.Endpoints = append(p.Endpoints, ev)
		statuses[ev.Status]++
		if ev.Reachable {
			p.Scan.Reachable++
		}
		key := ev.Name
		if key == "" {
			key = ev.Addr
		}
		h, ok := hosts[key]
		if !ok {
			h = &hostView{Name: key, Anchor: anchor("host-", key)}
			hosts[key] = h
			hostOrder = append(hostOrder, key)
		}
		h.Endpoints = append(h.Endpoints, ev)
		for _, f := range ev.Findings {
			if f.Waiver != nil {
				p.Waived = append(p.Waived, f)
				continue
			}
			p.Findings = append(p.Findings, f)
			h.Findings++
			if f.Rank > rankOf(h.Worst) || h.Worst == "" {
				h.Worst = f.Severity
			}
		}
	}
	for _, d := range s.Domains {
		dv := domainView{Name: visible(d.Observation.Name), Anchor: anchor("dom-", d.Observation.Name), Facts: domain(d.Observation)}
		for _, f := range d.Findings {
			fv := b.finding(f)
			dv.Findings = append(dv.Findings, fv)
			if f.Waived {
				p.Waived = append(p.Waived, fv)
			} else {
				p.Findings = append(p.Findings, fv)
			}
		}
		p.Domains = append(p.Domains, dv)
	}
	for _, n := range s.Nodes {
		for _, f := range n.Findings {
			fv := b.finding(f)
			if f.Waived {
				p.Waived = append(p.Waived, fv)
			} else {
				p.Findings = append(p.Findings, fv)
			}
		}
	}
	for _, f := range p.Findings {
		counts[model.Severity(f.Rank)]++
		hostSet[f.Host] = true
		if f.New {
			p.HasNew = true
		}
		b.rules[f.RuleID].Count++
	}
	p.Active = len(p.Findings)
	p.WaivedCount = len(p.Waived)
	sortFindings(p.Findings)
	sortFindings(p.Waived)
	for _, sev := range sevNames() {
		p.Severities = append(p.Severities, sevCount{Name: sev.String(), Count: counts[sev]})
	}
	p.Bar = severityBar(p.Severities, p.Active)
	for _, k := range hostOrder {
		h := hosts[k]
		h.Diffs = addressDiffs(h.Endpoints)
		h.Services = hostServices(h.Endpoints)
		p.Hosts = append(p.Hosts, h)
	}
	for h := range hostSet {
		p.HostNames = append(p.HostNames, h)
	}
	sort.Strings(p.HostNames)
	for _, st := range []model.ProbeStatus{model.StatusOK, model.StatusUnreachable, model.StatusTimeout, model.StatusError, model.StatusInterrupted, model.StatusSkipped} {
		if n := statuses[string(st)]; n > 0 {
			p.StatusCount = append(p.StatusCount, kv{Key: string(st), Value: fmt.Sprint(n)})
		}
	}
	if in.Drift != nil {
		p.Drift = b.drift(in.Drift)
	}
	for _, r := range b.rules {
		p.Rules = append(p.Rules, *r)
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].ID < p.Rules[j].ID })
	points := trendWithCurrent(in.Trend, s, counts)
	p.Trend = trendChart(points)
	p.Grades = grades(in.Grades)
	return p
}

func rankOf(sev string) int {
	for _, s := range model.Severities() {
		if s.String() == sev {
			return int(s)
		}
	}
	return -1
}

func sortFindings(fs []findingView) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Rank != fs[j].Rank {
			return fs[i].Rank > fs[j].Rank
		}
		if fs[i].RuleID != fs[j].RuleID {
			return fs[i].RuleID < fs[j].RuleID
		}
		return fs[i].Host < fs[j].Host
	})
}

func (b *builder) rule(id string, f model.Finding) *ruleView {
	if r, ok := b.rules[id]; ok {
		return r
	}
	var r model.Rule
	found := false
	if b.in.Rules != nil {
		r, found = b.in.Rules(id)
	}
	if !found {
		r = model.Rule{ID: id, Title: f.Title, DefaultSeverity: f.Severity}
	}
	rv := &ruleView{ID: id, Anchor: ruleAnchor(id), Title: r.Title, Why: r.Why, Fix: r.Fix,
		Severity: r.DefaultSeverity.String(), Snippets: r.Snippets, Tags: r.Tags}
	if rv.Title == "" {
		rv.Title = id
	}
	for _, ref := range r.References {
		u := ""
		if strings.HasPrefix(ref.URL, "https://") || strings.HasPrefix(ref.URL, "http://") {
			u = ref.URL
		}
		rv.References = append(rv.References, refView{Title: ref.Title, URL: u})
	}
	b.rules[id] = rv
	return rv
}

func (b *builder) finding(f model.Finding) findingView {
	r := b.rule(f.RuleID, f)
	fp := fingerprint(f)
	fv := findingView{
		Severity: f.Severity.String(), Rank: int(f.Severity), RuleID: f.RuleID, RuleAnchor: r.Anchor,
		Title: visible(f.Title), Message: visible(f.Message), Asset: visible(f.Asset), Detail: visible(f.Detail),
		New: b.fresh[fp], Reopened: b.reopened[fp], Fix: r.Fix, Fingerprint: fp,
	}
	if fv.Title == "" {
		fv.Title = r.Title
	}
	fv.Host = b.hostOf[f.Asset]
	if fv.Host == "" {
		fv.Host = visible(assetHost(f.Asset))
	}
	fv.EPAnchor = b.anchorOf[f.Asset]
	keys := make([]string, 0, len(f.Evidence))
	for k := range f.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fv.Evidence = append(fv.Evidence, kv{Key: visible(k), Value: visible(f.Evidence[k])})
	}
	if f.Waived {
		w := model.Waiver{Reason: "(no waiver recorded)"}
		if f.Waiver != nil {
			w = model.Waiver{Rule: visible(f.Waiver.Rule), Reason: visible(f.Waiver.Reason), Owner: visible(f.Waiver.Owner), Expires: visible(f.Waiver.Expires)}
		}
		fv.Waiver = &w
	}
	return fv
}

// assetHost names an asset that is not an endpoint of this scan (a fixed finding's endpoint
// may have gone): "service://host@addr:port" → "host (addr:port)".
func assetHost(asset string) string {
	if name, ok := strings.CutPrefix(asset, "domain:"); ok {
		return name
	}
	_, rest, ok := strings.Cut(asset, "://")
	if !ok {
		return asset
	}
	host, addr, _ := strings.Cut(rest, "@")
	if host == "" || strings.HasPrefix(addr, host) || strings.HasPrefix(addr, "["+host) {
		return addr
	}
	return host + " (" + addr + ")"
}

func (b *builder) endpoint(er model.EndpointResult) *endpointView {
	o := er.Observation
	e := o.Endpoint
	ev := &endpointView{
		ID: visible(e.ID()), Anchor: anchor("ep-", e.ID()), HostPort: visible(e.HostPort()), Name: visible(e.Name),
		Addr: e.Addr.Addr().String(), Port: fmt.Sprint(e.Addr.Port()), Service: visible(e.Service),
		Status: string(o.Status), Error: visible(o.Error), Source: visible(e.Source), Duration: fmtDuration(o.Duration),
		Latency: "—", WorstRank: -1,
	}
	if ev.Service == "" {
		ev.Service = "tcp"
	}
	for _, s := range e.Origin {
		ev.Origin = append(ev.Origin, visible(s))
	}
	for _, s := range e.Tags {
		ev.Tags = append(ev.Tags, visible(s))
	}
	if c := o.Connect; c != nil {
		ev.Connect = true
		ev.Reachable = c.Reachable
		ev.Latency = fmtDuration(c.Latency)
	} else {
		ev.Reachable = o.Status == model.StatusOK
	}
	if t := o.TLS; t != nil {
		ev.TLS = tlsFacts(t)
		if t.Engine != nil {
			ev.Matrix = engineMatrix(t.Engine)
			ev.Versions = supportedVersions(t.Engine)
		}
		if t.Features != nil {
			ev.Features = features(t.Features)
		}
	}
	if c := o.Certificates; c != nil {
		ev.Certs = certFacts(c, b.in.Scan.Finished)
	}
	if a := o.Availability; a != nil {
		ev.Avail = availability(a)
	}
	if s := o.Service; s != nil {
		ev.Exposure = service(s)
	}
	if s := o.StartTLS; s != nil {
		ev.StartTLS = startTLS(s)
	}
	counts := map[model.Severity]int{}
	for _, f := range er.Findings {
		fv := b.finding(f)
		ev.Findings = append(ev.Findings, fv)
		if f.Waived {
			continue
		}
		counts[f.Severity]++
		if int(f.Severity) > ev.WorstRank {
			ev.WorstRank = int(f.Severity)
			ev.Worst = f.Severity.String()
		}
	}
	sortFindings(ev.Findings)
	for _, s := range sevNames() {
		if counts[s] > 0 {
			ev.Counts = append(ev.Counts, sevCount{Name: s.String(), Count: counts[s]})
		}
	}
	return ev
}

func tlsFacts(t *model.TLSFacts) *tlsView {
	v := &tlsView{Speaks: t.Speaks, HandshakeError: visible(t.HandshakeError)}
	if h := t.Handshake; h != nil {
		v.Version, v.VersionClass = h.Version, versionClass(h.Version)
		v.Suite, v.SuiteClass = visible(h.CipherSuite), suiteClass(h.CipherSuite, h.Version)
		v.SuiteID = fmt.Sprintf("0x%04X", h.SuiteID)
		v.ALPN, v.SNI, v.Latency = visible(h.ALPN), visible(h.ServerName), fmtDuration(h.Latency)
	}
	return v
}

// versionClass rates a protocol version: "bad" (SSL, TLS 1.0/1.1), "ok" (TLS 1.2), "good" (TLS 1.3).
func versionClass(v string) string {
	switch {
	case strings.Contains(v, "1.3"):
		return "good"
	case strings.Contains(v, "1.2"):
		return "ok"
	case v == "":
		return ""
	default:
		return "bad"
	}
}

// suiteClass rates a cipher suite by its name: "bad" (broken primitives), "weak" (no forward
// secrecy or CBC/SHA-1), "ok", "good" (AEAD with ephemeral key exchange, or TLS 1.3).
func suiteClass(suite, version string) string {
	s := strings.ToUpper(suite)
	switch {
	case s == "":
		return ""
	case strings.Contains(s, "NULL"), strings.Contains(s, "EXPORT"), strings.Contains(s, "RC4"), strings.Contains(s, "_DES_"),
		strings.Contains(s, "3DES"), strings.Contains(s, "ANON"), strings.Contains(s, "MD5"):
		return "bad"
	case strings.HasPrefix(s, "TLS_AES_"), strings.HasPrefix(s, "TLS_CHACHA20_"), strings.Contains(version, "1.3"):
		return "good"
	case !strings.Contains(s, "DHE"):
		return "weak" // static RSA key exchange: no forward secrecy
	case strings.Contains(s, "CBC"), strings.HasSuffix(s, "_SHA"):
		return "ok"
	case strings.Contains(s, "GCM"), strings.Contains(s, "CHACHA20"), strings.Contains(s, "CCM"):
		return "good"
	default:
		return "ok"
	}
}

func certFacts(c *model.CertFacts, now time.Time) *certView {
	if now.IsZero() {
		now = time.Now()
	}
	v := &certView{Analysis: analysis(c), Trusted: c.Trusted, TrustError: visible(c.TrustError), NameChecked: visible(c.NameChecked),
		NameMatches: c.NameMatches, NameError: visible(c.NameError), VerifiedChain: c.VerifiedChain}
	for i, x := range c.Chain {
		days := int(x.NotAfter.Sub(now).Hours() / 24) // whole days, toward zero
		item := certItem{
			Subject: visible(x.Subject), Issuer: visible(x.Issuer), Serial: visible(x.Serial),
			NotBefore: fmtTime(x.NotBefore), NotAfter: fmtTime(x.NotAfter), SHA256: x.SHA256,
			Key: strings.TrimSpace(fmt.Sprintf("%s %d", visible(x.KeyType), x.KeyBits)), SigAlg: visible(x.SignatureAlgorithm), IsCA: x.IsCA, SelfSigned: x.SelfSigned, Extra: certAnalysis(x),
		}
		switch {
		case x.NotAfter.IsZero():
		case days < 0:
			item.DaysLeft, item.Class = fmt.Sprintf("expired %d days ago", -days), "bad"
		case now.Before(x.NotBefore):
			item.DaysLeft, item.Class = "not yet valid", "bad"
		case days < 14:
			item.DaysLeft, item.Class = fmt.Sprintf("%d days left", days), "weak"
		case days < 30:
			item.DaysLeft, item.Class = fmt.Sprintf("%d days left", days), "ok"
		default:
			item.DaysLeft, item.Class = fmt.Sprintf("%d days left", days), "good"
		}
		switch {
		case i == 0:
			item.Position = "Leaf"
		case i == len(c.Chain)-1 && x.SelfSigned:
			item.Position = "Root"
		default:
			item.Position = fmt.Sprintf("Intermediate %d", i)
		}
		for _, n := range x.DNSNames {
			item.SANs = append(item.SANs, visible(n))
		}
		for _, n := range x.IPAddresses {
			item.SANs = append(item.SANs, visible(n))
		}
		v.Chain = append(v.Chain, item)
		if i == 0 {
			v.LeafExpires, v.LeafClass, v.LeafDays = item.NotAfter, item.Class, item.DaysLeft
		}
	}
	return v
}

// addressDiffs compares the endpoints of one name that share service and port but differ in
// address, and lists the facts whose values differ between addresses.
func addressDiffs(eps []*endpointView) []diffGroup {
	groups := map[string][]*endpointView{}
	var order []string
	for _, e := range eps {
		k := e.Service + " port " + e.Port
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], e)
	}
	var out []diffGroup
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		facts := []struct {
			name string
			get  func(*endpointView) string
		}{
			{"Status", func(e *endpointView) string { return e.Status }}, {"Protocol", func(e *endpointView) string {
				if e.TLS == nil {
					return "—"
				}
				return e.TLS.Version
			}},
			{"Protocols supported", func(e *endpointView) string {
				var vs []string
				for _, v := range e.Versions {
					vs = append(vs, v.Name)
				}
				return strings.Join(vs, ", ")
			}},
			{"Cipher suites accepted", func(e *endpointView) string {
				if e.Matrix == nil {
					return "—"
				}
				return fmt.Sprint(len(e.Matrix.Rows))
			}},
			{"Service", func(e *endpointView) string {
				if e.Exposure == nil {
					return "—"
				}
				return strings.TrimSpace(e.Exposure.Service + " " + e.Exposure.Product + " " + e.Exposure.Version)
			}},
			{"STARTTLS", func(e *endpointView) string {
				if e.StartTLS == nil {
					return "—"
				}
				return e.StartTLS.Outcome
			}},
			{"Cipher suite", func(e *endpointView) string {
				if e.TLS == nil {
					return "—"
				}
				return e.TLS.Suite
			}},
			{"Leaf certificate SHA-256", func(e *endpointView) string {
				if e.Certs == nil || len(e.Certs.Chain) == 0 {
					return "—"
				}
				return shortHash(e.Certs.Chain[0].SHA256)
			}},
			{"Certificate expires", func(e *endpointView) string {
				if e.Certs == nil {
					return "—"
				}
				return e.Certs.LeafExpires
			}},
			{"Chain trusted", func(e *endpointView) string {
				if e.Certs == nil {
					return "—"
				}
				return fmt.Sprint(e.Certs.Trusted)
			}},
			{"Active findings", func(e *endpointView) string {
				n := 0
				for _, c := range e.Counts {
					n += c.Count
				}
				return fmt.Sprint(n)
			}},
		}
		dg := diffGroup{Title: k}
		for _, e := range g {
			dg.Addrs = append(dg.Addrs, e.Addr)
		}
		for _, f := range facts {
			var vals []string
			differ := false
			for i, e := range g {
				v := f.get(e)
				if v == "" {
					v = "—"
				}
				vals = append(vals, v)
				if i > 0 && v != vals[0] {
					differ = true
				}
			}
			if differ {
				dg.Rows = append(dg.Rows, diffRow{Fact: f.name, Values: vals})
			}
		}
		out = append(out, dg)
	}
	return out
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

func (b *builder) drift(d *model.Drift) *driftView {
	v := &driftView{Base: visible(d.BaseScan), BaseTime: fmtTime(d.BaseTime), HeadTime: fmtTime(d.HeadTime), Partial: d.Partial,
		Unchanged: d.UnchangedFindings, Rotations: d.CertRotations, Changes: d.Changes}
	for _, f := range d.NewFindings {
		v.New = append(v.New, b.finding(f))
	}
	for _, f := range d.FixedFindings {
		v.Fixed = append(v.Fixed, b.finding(f))
	}
	for _, f := range d.ReopenedFindings {
		v.Reopened = append(v.Reopened, b.finding(f))
	}
	sortFindings(v.New)
	sortFindings(v.Fixed)
	sortFindings(v.Reopened)
	vis := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = visible(s)
		}
		return out
	}
	v.Appeared, v.Vanished = vis(d.EndpointsAppeared), vis(d.EndpointsVanished)
	v.HostsUp, v.HostsGone = vis(d.HostsAppeared), vis(d.HostsVanished)
	v.PortsOpened, v.PortsClosed = vis(d.PortsOpened), vis(d.PortsClosed)
	v.Changes = append([]model.FactChange(nil), d.Changes...)
	for i := range v.Changes {
		c := &v.Changes[i]
		c.Endpoint, c.Fact, c.Old, c.New = visible(c.Endpoint), visible(c.Fact), visible(c.Old), visible(c.New)
	}
	v.Rotations = append([]model.CertRotation(nil), d.CertRotations...)
	for i := range v.Rotations {
		r := &v.Rotations[i]
		r.Endpoint, r.OldSHA256, r.NewSHA256 = visible(r.Endpoint), shortHash(visible(r.OldSHA256)), shortHash(visible(r.NewSHA256))
	}
	return v
}

func severityBar(sc []sevCount, total int) []barSegment {
	const width = 600.0
	var out []barSegment
	x := 0.0
	for _, s := range sc {
		if s.Count == 0 || total == 0 {
			continue
		}
		w := width * float64(s.Count) / float64(total)
		out = append(out, barSegment{Name: s.Name, Count: s.Count, X: x, W: w, LabelX: x + w/2, Visible: w >= 28})
		x += w
	}
	return out
}

func grades(g map[string]int) []gradeCount {
	var out []gradeCount
	for k, n := range g {
		out = append(out, gradeCount{Grade: visible(k), Count: n})
	}
	// Best grade first: "A+", "A", "A-", "B", … "F", "T".
	suffix := func(g string) int {
		switch {
		case strings.HasSuffix(g, "+"):
			return 0
		case strings.HasSuffix(g, "-"):
			return 2
		default:
			return 1
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.TrimRight(out[i].Grade, "+-"), strings.TrimRight(out[j].Grade, "+-")
		if a != b {
			return a < b
		}
		return suffix(out[i].Grade) < suffix(out[j].Grade)
	})
	return out
}

// hostService is one row of a host's open ports and services table.
type hostService struct {
	Addr, EPAnchor string
	*serviceView
}

func hostServices(eps []*endpointView) []hostService {
	var out []hostService
	for _, e := range eps {
		if e.Exposure != nil {
			out = append(out, hostService{Addr: e.Addr, EPAnchor: e.Anchor, serviceView: e.Exposure})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Addr < out[j].Addr
	})
	return out
}
