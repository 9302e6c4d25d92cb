package discover

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// WriteText prints a discovery result for people: endpoints with the records that led to
// them, the notes (skipped, empty, errors), brute-forced hosts and each domain's DNS facts.
func WriteText(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }

	p("Endpoints (%d)\n", len(res.Endpoints))
	for _, e := range res.Endpoints {
		svc := e.Service
		if svc == "" {
			svc = "tcp"
		}
		name := e.Name
		if name == "" {
			name = "-"
		}
		p("  %-13s %-30s %s", svc, name, e.Addr)
		if len(e.Tags) > 0 {
			p("  [%s]", strings.Join(e.Tags, ", "))
		}
		p("\n")
		for _, o := range e.Origin {
			p("      %s\n", o)
		}
	}
	if len(res.Hosts) > 0 {
		p("\nHosts found by brute force (%d)\n", len(res.Hosts))
		for _, h := range res.Hosts {
			addrs := make([]string, len(h.Addrs))
			for i, a := range h.Addrs {
				addrs[i] = a.String()
			}
			p("  %-40s %s\n", h.Name, strings.Join(addrs, " "))
		}
	}
	if len(res.Notes) > 0 {
		p("\nNotes (%d)\n", len(res.Notes))
		notes := append(res.Notes[:0:0], res.Notes...)
		order := map[string]int{"error": 0, "skipped": 1, "empty": 2}
		sort.SliceStable(notes, func(i, j int) bool { return order[notes[i].Kind] < order[notes[j].Kind] })
		for _, n := range notes {
			p("  %-7s %s: %s\n", n.Kind, n.Target, n.Detail)
		}
	}
	for _, d := range res.Domains {
		p("\nDomain %s (resolvers: %s)\n", d.Name, strings.Join(d.Resolvers, ", "))
		if s := d.DNSSEC; s != nil {
			p("  DNSSEC      zone %s: DNSKEY %s, DS %s, validated %s", orDash(s.Zone), yn(s.DNSKEY), yn(s.DS), yn(s.Validated))
			if s.Error != "" {
				p(" (error: %s)", s.Error)
			}
			if s.DSError != "" {
				p(" (DS unknown: %s)", s.DSError)
			}
			p("\n")
		}
		if c := d.CAA; c != nil {
			switch {
			case c.Error != "":
				p("  CAA         error: %s\n", c.Error)
			case c.Found == "":
				p("  CAA         none\n")
			default:
				var rs []string
				for _, r := range c.Records {
					rs = append(rs, fmt.Sprintf("%d %s %q", r.Flag, r.Tag, r.Value))
				}
				p("  CAA         at %s: %s\n", c.Found, strings.Join(rs, "; "))
			}
		}
		for _, m := range d.MX {
			p("  MX          %d %s\n", m.Preference, m.Host)
		}
		if m := d.MTASTS; m != nil {
			switch {
			case m.Error != "":
				p("  MTA-STS     error: %s\n", m.Error)
			case m.Record == "":
				p("  MTA-STS     no _mta-sts record\n")
			case !m.Fetched:
				p("  MTA-STS     %q; policy not fetched: %s\n", m.Record, m.FetchError)
			default:
				p("  MTA-STS     mode %s, max_age %d, mx %s", orDash(m.Mode), m.MaxAge, strings.Join(m.MX, " "))
				if len(m.Uncovered) > 0 {
					p("; MX not covered: %s", strings.Join(m.Uncovered, " "))
				}
				if m.PolicyError != "" {
					p("; policy problems: %s", m.PolicyError)
				}
				p("\n")
			}
		}
		if t := d.TLSRPT; t != nil {
			switch {
			case t.Error != "":
				p("  TLS-RPT     error: %s\n", t.Error)
			case t.Record == "":
				p("  TLS-RPT     no _smtp._tls record\n")
			default:
				p("  TLS-RPT     %q (valid %s)\n", t.Record, yn(t.Valid))
			}
		}
		for _, n := range d.NAPTR {
			p("  NAPTR       %d %d %q %q %q %s\n", n.Order, n.Preference, n.Flags, n.Service, n.Regexp, n.Replacement)
		}
		for _, s := range d.SRV {
			p("  SRV         %s %d %d %d %s", s.Owner, s.Priority, s.Weight, s.Port, s.Target)
			if s.TargetCNAME != "" {
				p("  (target is a CNAME to %s)", s.TargetCNAME)
			}
			p("\n")
		}
		for _, t := range d.TLSA {
			if t.Error != "" {
				p("  TLSA        %s error: %s\n", t.Owner, t.Error)
				continue
			}
			p("  TLSA        %s: %d record(s), DNSSEC-secure %s\n", t.Owner, len(t.Records), yn(t.Secure))
			for _, m := range t.Matches {
				p("              %s: matched %s %s\n", m.Endpoint, yn(m.Matched), m.Detail)
			}
		}
		for _, c := range d.CNAMEs {
			p("  CNAME       %s → %s", c.Name, c.Target)
			if c.Dangling {
				p("  DANGLING (%s)", c.Rcode)
			}
			p("\n")
		}
		for _, x := range d.Disagreements {
			keys := make([]string, 0, len(x.Answers))
			for k := range x.Answers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, k+"="+strings.Join(x.Answers[k], ","))
			}
			p("  DISAGREE    %s %s: %s\n", x.Name, x.Type, strings.Join(parts, "  "))
		}
		for _, wc := range d.Wildcards {
			p("  WILDCARD    *.%s %s → %s\n", wc.Level, wc.Type, strings.Join(wc.Answers, " "))
		}
	}
	p("\n%d DNS queries\n", res.Queries)
	return bw.Flush()
}

func yn(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
