package html

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// Views of the fact families beyond the basic handshake. Each family has one builder here and
// one named template in assets/report.tmpl; a new family adds a field to endpointView, a
// builder and a template, nothing else.

// matrixView is the protocol × cipher-suite matrix of the TLS engine's enumeration.
type matrixView struct {
	Versions      []matrixCol
	Rows          []matrixRow
	Groups        []model.EngineGroup
	GroupsVersion string
	GroupsError   string
	SigAlgs       []string
	SigAlgsError  string
	DH            []model.DHParams
	Connections   int
	Duration      string
	Colspan       int
}

type matrixCol struct {
	Name, Class, Preference, Error string
	Supported, Inferred            bool
}

type matrixRow struct {
	Suite, ID, Kx, Auth, Cipher, Class, Strength string
	Bits                                         int
	Cells                                        []matrixCell
}

type matrixCell struct {
	On    bool
	Order int // 1-based position in the server's preference order, 0 when not ordered
	Class string
	Group string
}

// strengthClass maps the suite registry's strength to the report's colour classes.
func strengthClass(s string) string {
	switch strings.ToLower(s) {
	case "recommended":
		return "good"
	case "secure":
		return "ok"
	case "weak":
		return "weak"
	case "insecure":
		return "bad"
	default:
		return ""
	}
}

var strengthRank = map[string]int{"good": 0, "ok": 1, "weak": 2, "bad": 3, "": 4}

func engineMatrix(e *model.TLSEngineFacts) *matrixView {
	m := &matrixView{Groups: e.Groups, GroupsVersion: visible(e.GroupsVersion), GroupsError: visible(e.GroupsError),
		DH: e.DH, Connections: e.Connections, Duration: fmtDuration(e.Duration),
		SigAlgs: visibleAll(e.SignatureAlgorithms), SigAlgsError: visible(e.SignatureAlgorithmsError)}
	// Newest version first: the matrix reads left to right from best to worst.
	versions := append([]model.EngineVersion(nil), e.Versions...)
	sort.SliceStable(versions, func(i, j int) bool { return versions[i].VersionID > versions[j].VersionID })
	rows := map[uint16]*matrixRow{}
	var order []uint16
	for vi, v := range versions {
		col := matrixCol{Name: visible(v.Version), Supported: v.Supported, Inferred: v.Inferred, Preference: visible(v.Preference), Error: visible(v.Error)}
		if v.Supported {
			col.Class = versionClass(v.Version)
		}
		m.Versions = append(m.Versions, col)
		for si, s := range v.Suites {
			r, ok := rows[s.ID]
			if !ok {
				r = &matrixRow{Suite: visible(s.Name), ID: fmt.Sprintf("0x%04X", s.ID), Kx: visible(s.KeyExchange), Auth: visible(s.Auth),
					Cipher: visible(s.Cipher), Bits: s.Bits, Strength: visible(s.Strength), Class: strengthClass(s.Strength)}
				if r.Suite == "" {
					r.Suite = r.ID
				}
				r.Cells = make([]matrixCell, len(versions))
				rows[s.ID] = r
				order = append(order, s.ID)
			}
			c := matrixCell{On: true, Class: strengthClass(s.Strength), Group: visible(s.Group)}
			if v.Preference == "server" {
				c.Order = si + 1
			}
			r.Cells[vi] = c
		}
	}
	for _, id := range order {
		m.Rows = append(m.Rows, *rows[id])
	}
	m.Colspan = len(m.Versions) + 3
	sort.SliceStable(m.Rows, func(i, j int) bool { return strengthRank[m.Rows[i].Class] < strengthRank[m.Rows[j].Class] })
	for i := range m.Groups {
		m.Groups[i].Name = visible(m.Groups[i].Name)
	}
	return m
}

// supportedVersions lists the versions the engine found supported, newest first.
func supportedVersions(e *model.TLSEngineFacts) []matrixCol {
	var out []matrixCol
	for _, v := range e.Versions {
		if v.Supported {
			out = append(out, matrixCol{Name: visible(v.Version), Class: versionClass(v.Version)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out
}

// availabilityView is what repeated connection attempts showed.
type availabilityView struct {
	Attempts, Successes                         int
	ErrorRate                                   string
	RateClass                                   string
	ConnectMin, ConnectMedian, ConnectMax       string
	Handshake                                   bool
	HandshakeMin, HandshakeMedian, HandshakeMax string
	Errors                                      []model.AttemptError
	Interrupted                                 bool
}

func availability(a *model.AvailabilityFacts) *availabilityView {
	v := &availabilityView{
		Attempts: a.Attempts, Successes: a.Successes, ErrorRate: fmt.Sprintf("%.1f %%", 100*a.ErrorRate),
		ConnectMin: fmtDuration(a.ConnectMin), ConnectMedian: fmtDuration(a.ConnectMedian), ConnectMax: fmtDuration(a.ConnectMax),
		Handshake:    a.Handshake,
		HandshakeMin: fmtDuration(a.HandshakeMin), HandshakeMedian: fmtDuration(a.HandshakeMedian), HandshakeMax: fmtDuration(a.HandshakeMax),
		Interrupted: a.Interrupted,
	}
	switch {
	case a.Attempts == 0:
	case a.ErrorRate == 0:
		v.RateClass = "good"
	case a.ErrorRate < 0.05:
		v.RateClass = "ok"
	case a.ErrorRate < 0.5:
		v.RateClass = "weak"
	default:
		v.RateClass = "bad"
	}
	for _, e := range a.Errors {
		v.Errors = append(v.Errors, model.AttemptError{Stage: visible(e.Stage), Error: visible(e.Error), Count: e.Count})
	}
	return v
}

// serviceView is what answered on a port (exposure identification).
type serviceView struct {
	Port                                  uint16
	State, StateClass                     string
	TLS                                   bool
	TLSVersion, Service, Product, Version string
	Banner                                string
	Auth, AuthClass                       string
	StartTLS, StartTLSClass               string
	HTTP                                  *model.HTTPFacts
	Extra                                 []kv
	Probes                                string
	Latency                               string
	Error                                 string
}

func triState(b *bool, yes, no, yesClass, noClass string) (string, string) {
	switch {
	case b == nil:
		return "unknown", ""
	case *b:
		return yes, yesClass
	default:
		return no, noClass
	}
}

func service(s *model.ServiceFacts) *serviceView {
	v := &serviceView{Port: s.Port, State: visible(string(s.State)), TLS: s.TLS, TLSVersion: visible(s.TLSVersion),
		Service: visible(s.Service), Product: visible(s.Product), Version: visible(s.Version), Banner: visible(s.Banner),
		Probes: visible(strings.Join(s.Probes, ", ")), Latency: fmtDuration(s.Latency), Error: visible(s.Error)}
	switch s.State {
	case model.PortOpen:
		v.StateClass = "weak"
	case model.PortClosed, model.PortFiltered:
		v.StateClass = "good"
	}
	v.Auth, v.AuthClass = triState(s.AuthRequired, "required", "not required", "good", "bad")
	v.StartTLS, v.StartTLSClass = triState(s.StartTLS, "offered", "not offered", "good", "bad")
	if s.HTTP != nil {
		h := *s.HTTP
		h.Method, h.Path, h.Server, h.ContentType = visible(h.Method), visible(h.Path), visible(h.Server), visible(h.ContentType)
		v.HTTP = &h
	}
	v.Extra = sortedKV(s.Extra)
	return v
}

func sortedKV(m map[string]string) []kv {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		out = append(out, kv{Key: visible(k), Value: visible(m[k])})
	}
	return out
}

// startTLSView is the plaintext dialogue before a STARTTLS upgrade.
type startTLSView struct {
	Protocol, Outcome, OutcomeClass string
	Offered, Required               bool
	Greeting, Software              string
	Capabilities, PlaintextAuth     []string
	ReplyCode, ReplyText            string
	UnexpectedBytes                 int
}

func startTLS(s *model.StartTLSFacts) *startTLSView {
	v := &startTLSView{Protocol: visible(s.Protocol), Outcome: visible(string(s.Outcome)), Offered: s.Offered, Required: s.Required,
		Greeting: visible(s.Greeting), Software: visible(s.Software), ReplyCode: visible(s.ReplyCode), ReplyText: visible(s.ReplyText),
		UnexpectedBytes: s.UnexpectedBytes, Capabilities: visibleAll(s.Capabilities), PlaintextAuth: visibleAll(s.PlaintextAuth)}
	switch s.Outcome {
	case model.StartTLSAccepted:
		v.OutcomeClass = "good"
	case model.StartTLSRefused, model.StartTLSNotOffered:
		v.OutcomeClass = "bad"
	case model.StartTLSFailed:
		v.OutcomeClass = "weak"
	}
	return v
}

func visibleAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = visible(s)
	}
	return out
}

// featuresView is the handshake inspection: extensions, resumption, stapling, fallback.
type featuresView struct {
	MaxVersion              string
	ALPNOffered, ALPN       []string
	TLS12                   *model.TLS12Features
	Flags                   []flagView
	DHEBits                 int
	DHETested               bool
	TicketResumption        string
	SessionIDResumption     string
	ResumptionVersion       string
	TicketIssued            bool
	OCSP                    *model.OCSPStaple
	SCTsTLS                 int
	Fallback, FallbackClass string
	FallbackDetail          string
	Chains                  int
	Probes                  []model.HandshakeProbe
	Connections             int
}

// flagView is one yes/no property, coloured by whether "yes" is the good answer.
type flagView struct {
	Name, Value, Class string
}

func flag(name string, on, goodWhenOn bool) flagView {
	f := flagView{Name: name, Value: "no"}
	if on {
		f.Value = "yes"
	}
	if on == goodWhenOn {
		f.Class = "good"
	} else {
		f.Class = "bad"
	}
	return f
}

func features(h *model.HandshakeFacts) *featuresView {
	v := &featuresView{MaxVersion: visible(h.MaxVersion), ALPNOffered: visibleAll(h.ALPNOffered), ALPN: visibleAll(h.ALPN),
		DHEBits: h.DHEBits, DHETested: h.DHETested, TicketResumption: visible(h.TicketResumption), SessionIDResumption: visible(h.SessionIDResumption), ResumptionVersion: visible(h.ResumptionVersion),
		TicketIssued: h.TicketIssued, SCTsTLS: h.SCTsTLS, Fallback: visible(h.Fallback), FallbackDetail: visible(h.FallbackDetail),
		Chains: len(h.Chains), Connections: h.Connections}
	if t := h.TLS12; t != nil {
		v.TLS12 = t
		v.Flags = []flagView{
			flag("Secure renegotiation", t.SecureRenegotiation, true),
			flag("Extended master secret", t.ExtendedMasterSecret, true),
			flag("Encrypt-then-MAC", t.EncryptThenMAC, true),
			flag("Heartbeat", t.Heartbeat, false),
			flag("Compression", t.Compression != 0, false),
			flag("Session tickets", t.SessionTicket, true),
			flag("OCSP stapling", t.OCSPStapling, true),
		}
		if h.MaxVersion == "TLS 1.3" { // the marker only means something from a TLS 1.3 server
			v.Flags = append(v.Flags, flag("TLS 1.3 downgrade sentinel", t.DowngradeSentinel == model.SentinelTLS12, true))
		}
	}
	if h.OCSP != nil {
		o := *h.OCSP
		o.Status, o.ProducedAt, o.NextUpdate, o.Error = visible(o.Status), visible(o.ProducedAt), visible(o.NextUpdate), visible(o.Error)
		v.OCSP = &o
	}
	switch h.Fallback {
	case "rejected", "not-needed":
		v.FallbackClass = "good"
	case "accepted":
		v.FallbackClass = "bad"
	case "inconclusive":
		v.FallbackClass = "weak"
	}
	for _, p := range h.Probes {
		v.Probes = append(v.Probes, model.HandshakeProbe{Name: visible(p.Name), Client: visible(p.Client), SNI: visible(p.SNI),
			Version: visible(p.Version), CipherSuite: visible(p.CipherSuite), ALPN: visible(p.ALPN), Leaf: shortHash(visible(p.Leaf)),
			Alert: visible(p.Alert), Error: visible(p.Error)})
	}
	return v
}

// chainAnalysis is the certificate analysis of the chain (order, completeness, XMPP identity).
type chainAnalysis struct {
	Ordered, Complete, Truncated bool
	MissingIssuer                string
	Issues                       []string
	XMPP                         *model.XMPPIdentity
}

func analysis(c *model.CertFacts) *chainAnalysis {
	if !c.Analyzed {
		return nil
	}
	a := &chainAnalysis{Ordered: c.ChainOrdered, Complete: c.ChainComplete, Truncated: c.ChainTruncated,
		MissingIssuer: visible(c.MissingIssuer), Issues: visibleAll(c.ChainIssues)}
	if x := c.XMPP; x != nil {
		a.XMPP = &model.XMPPIdentity{Domain: visible(x.Domain), Service: visible(x.Service), SRVIDs: visibleAll(x.SRVIDs),
			XmppAddrs: visibleAll(x.XmppAddrs), Matches: x.Matches, MatchedBy: visible(x.MatchedBy)}
	}
	return a
}

// certExtra is what the certificate analysis added to one certificate.
type certExtra struct {
	ParseError, Curve string
	EKU               []string
	MustStaple        bool
	SCTs              int
	Lints             []model.LintResult
	LintsTruncated    bool
}

func certAnalysis(x model.Certificate) *certExtra {
	if x.ParseError == "" && x.CurveName == "" && len(x.ExtKeyUsage) == 0 && !x.MustStaple && x.EmbeddedSCTs == 0 && len(x.Lints) == 0 {
		return nil
	}
	e := &certExtra{ParseError: visible(x.ParseError), Curve: visible(x.CurveName), EKU: visibleAll(x.ExtKeyUsage),
		MustStaple: x.MustStaple, SCTs: x.EmbeddedSCTs, LintsTruncated: x.LintsTruncated}
	for _, l := range x.Lints {
		e.Lints = append(e.Lints, model.LintResult{Name: visible(l.Name), Status: visible(l.Status), Details: visible(l.Details)})
	}
	return e
}

func lintClass(status string) string {
	switch status {
	case "error", "fatal":
		return "bad"
	case "warn":
		return "weak"
	default:
		return "neutral"
	}
}

// domainFacts is the DNS hygiene of one domain.
type domainFacts struct {
	Resolvers     []string
	DNSSEC        *model.DNSSECFacts
	CAA           *model.CAAFacts
	MX            []model.MXRecord
	MTASTS        *model.MTASTSFacts
	TLSRPT        *model.TLSRPTFacts
	SRV           []model.SRVRecord
	TLSA          []model.TLSAFacts
	CNAMEs        []model.CNAMEFact
	Disagreements []disagreement
	Wildcards     []model.WildcardFact
	Subdomains    []string
}

type disagreement struct {
	Name, Type string
	Answers    []kv
}

// domain copies the observation with every server-supplied string made visible. The DNS
// answers are attacker-controlled like any other server data.
func domain(o model.DomainObservation) *domainFacts {
	v := &domainFacts{Resolvers: visibleAll(o.Resolvers), Subdomains: visibleAll(o.Subdomains)}
	if d := o.DNSSEC; d != nil {
		c := *d
		c.Zone, c.Error, c.DSError, c.ValidatedBy = visible(c.Zone), visible(c.Error), visible(c.DSError), visibleAll(c.ValidatedBy)
		v.DNSSEC = &c
	}
	if c := o.CAA; c != nil {
		cc := model.CAAFacts{Found: visible(c.Found), Error: visible(c.Error)}
		for _, r := range c.Records {
			cc.Records = append(cc.Records, model.CAARecord{Flag: r.Flag, Tag: visible(r.Tag), Value: visible(r.Value)})
		}
		v.CAA = &cc
	}
	for _, r := range o.MX {
		v.MX = append(v.MX, model.MXRecord{Preference: r.Preference, Host: visible(r.Host)})
	}
	if m := o.MTASTS; m != nil {
		c := *m
		c.Record, c.ID, c.PolicyURL, c.FetchError, c.Version, c.Mode = visible(c.Record), visible(c.ID), visible(c.PolicyURL), visible(c.FetchError), visible(c.Version), visible(c.Mode)
		c.MX, c.PolicyError, c.Uncovered, c.Error = visibleAll(c.MX), visible(c.PolicyError), visibleAll(c.Uncovered), visible(c.Error)
		v.MTASTS = &c
	}
	if r := o.TLSRPT; r != nil {
		c := *r
		c.Record, c.RUA, c.Error = visible(c.Record), visibleAll(c.RUA), visible(c.Error)
		v.TLSRPT = &c
	}
	for _, s := range o.SRV {
		s.Owner, s.Service, s.Target, s.TargetCNAME = visible(s.Owner), visible(s.Service), visible(s.Target), visible(s.TargetCNAME)
		v.SRV = append(v.SRV, s)
	}
	for _, t := range o.TLSA {
		c := model.TLSAFacts{Owner: visible(t.Owner), Host: visible(t.Host), Port: t.Port, Service: visible(t.Service), Secure: t.Secure, Error: visible(t.Error)}
		for _, r := range t.Records {
			c.Records = append(c.Records, model.TLSARecord{Usage: r.Usage, Selector: r.Selector, MatchingType: r.MatchingType, Data: shortHash(visible(r.Data))})
		}
		for _, m := range t.Matches {
			c.Matches = append(c.Matches, model.TLSAMatch{Endpoint: visible(m.Endpoint), Matched: m.Matched, Record: visible(m.Record), Detail: visible(m.Detail)})
		}
		v.TLSA = append(v.TLSA, c)
	}
	for _, c := range o.CNAMEs {
		v.CNAMEs = append(v.CNAMEs, model.CNAMEFact{Name: visible(c.Name), Target: visible(c.Target), Dangling: c.Dangling, Rcode: visible(c.Rcode)})
	}
	for _, d := range o.Disagreements {
		dv := disagreement{Name: visible(d.Name), Type: visible(d.Type)}
		keys := make([]string, 0, len(d.Answers))
		for k := range d.Answers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			dv.Answers = append(dv.Answers, kv{Key: visible(k), Value: visible(strings.Join(d.Answers[k], ", "))})
		}
		v.Disagreements = append(v.Disagreements, dv)
	}
	for _, w := range o.Wildcards {
		v.Wildcards = append(v.Wildcards, model.WildcardFact{Level: visible(w.Level), Type: visible(w.Type), Answers: visibleAll(w.Answers)})
	}
	return v
}
