package discover

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

// maxDisagreementNames bounds how many names are compared across resolvers per domain.
const maxDisagreementNames = 64

// hygiene gathers the domain's DNS facts after the profiles ran.
func (r *run) hygiene(ctx context.Context, dom string) {
	obs := &model.DomainObservation{Name: dom, Resolvers: r.d.Resolvers()}
	r.mu.Lock()
	obs.MX = append([]model.MXRecord(nil), r.mx...)
	srv := append([]model.SRVRecord(nil), r.srv...)
	obs.NAPTR = append([]model.NAPTRRecord(nil), r.naptrs...)
	names := make(map[string]*nameResult, len(r.names))
	for k, v := range r.names {
		names[k] = v
	}
	r.mu.Unlock()

	var wg sync.WaitGroup
	do := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	do(func() { obs.DNSSEC = r.dnssec(ctx, dom) })
	do(func() { obs.CAA = r.caa(ctx, dom) })
	hasMail := len(obs.MX) > 0 && obs.MX[0].Host != "."
	do(func() { obs.MTASTS = r.mtaSTS(ctx, dom, obs.MX, hasMail) })
	do(func() { obs.TLSRPT = r.tlsRPT(ctx, dom, hasMail) })
	srvCopy := append([]model.SRVRecord(nil), srv...) // srvTargetCNAMEs writes srv meanwhile
	do(func() { obs.TLSA = r.tlsa(ctx, obs.MX, srvCopy) })
	do(func() { obs.Disagreements = r.disagreements(ctx, names) })
	do(func() { r.srvTargetCNAMEs(ctx, srv, names) })
	wg.Wait()

	obs.SRV = srv
	obs.CNAMEs = cnameFacts(names)
	r.mu.Lock()
	obs.Wildcards = append([]model.WildcardFact(nil), r.wildcards...)
	obs.Subdomains = append([]string(nil), r.subdomains...)
	r.obs = obs
	r.mu.Unlock()
}

func cnameFacts(names map[string]*nameResult) []model.CNAMEFact {
	seen := map[string]bool{}
	var out []model.CNAMEFact
	for _, nr := range names {
		for i, h := range nr.Hops {
			key := h.From + ">" + h.To
			if seen[key] {
				continue
			}
			seen[key] = true
			f := model.CNAMEFact{Name: h.From, Target: h.To}
			if nr.Dangling && i == len(nr.Hops)-1 {
				f.Dangling, f.Rcode = true, nr.Rcode
			}
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+out[i].Target < out[j].Name+out[j].Target })
	return out
}

// srvTargetCNAMEs fills SRVRecord.TargetCNAME (RFC 2782: the target must not be an alias).
func (r *run) srvTargetCNAMEs(ctx context.Context, srv []model.SRVRecord, names map[string]*nameResult) {
	for i := range srv {
		t := srv[i].Target
		if t == "." || t == "" {
			continue
		}
		if nr, ok := names[t]; ok {
			if len(nr.Hops) > 0 {
				srv[i].TargetCNAME = nr.Hops[0].To
			}
			continue
		}
		// Out of scope: not resolved for endpoints, but its own CNAME is still a fact.
		m, err := r.d.res.query(ctx, t, dns.TypeCNAME, false)
		if err != nil {
			continue
		}
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && canonical(c.Hdr.Name) == t {
				srv[i].TargetCNAME = canonical(c.Target)
				break
			}
		}
	}
}

// zoneOf finds the apex of the zone holding name from the SOA in the answer or authority.
func (r *run) zoneOf(ctx context.Context, name string) (string, error) {
	m, err := r.d.res.query(ctx, name, dns.TypeSOA, false)
	if err != nil {
		return "", err
	}
	for _, sec := range [][]dns.RR{m.Answer, m.Ns} {
		for _, rr := range sec {
			if s, ok := rr.(*dns.SOA); ok {
				z := canonical(s.Hdr.Name)
				if name == z || strings.HasSuffix(name, "."+z) {
					return z, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no SOA for %s in the answer (%s)", name, dns.RcodeToString[m.Rcode])
}

func (r *run) dnssec(ctx context.Context, dom string) *model.DNSSECFacts {
	f := &model.DNSSECFacts{}
	zone, err := r.zoneOf(ctx, dom)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	f.Zone = zone
	has := func(qt uint16) (bool, error) {
		m, err := r.d.res.query(ctx, zone, qt, true)
		if err != nil {
			return false, err
		}
		for _, rr := range m.Answer {
			if rr.Header().Rrtype == qt && canonical(rr.Header().Name) == zone {
				return true, nil
			}
		}
		return false, nil
	}
	if f.DNSKEY, err = has(dns.TypeDNSKEY); err != nil {
		f.Error = err.Error()
	}
	if f.DS, err = has(dns.TypeDS); err != nil {
		f.DSError = err.Error()
	}
	for _, srv := range r.d.servers {
		m, err := r.d.res.queryServer(ctx, srv, dom, dns.TypeSOA, true)
		if err == nil && m.AuthenticatedData {
			f.Validated = true
			f.ValidatedBy = append(f.ValidatedBy, srv.String())
		}
	}
	return f
}

// caa finds the CAA set that governs dom, climbing towards the top-level domain (RFC 8659 §3).
func (r *run) caa(ctx context.Context, dom string) *model.CAAFacts {
	f := &model.CAAFacts{}
	for l := dom; strings.Contains(l, "."); l = l[strings.Index(l, ".")+1:] {
		m, err := r.d.res.query(ctx, l, dns.TypeCAA, false)
		if err != nil {
			f.Error = err.Error()
			return f
		}
		owners := answerOwners(m, l)
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CAA); ok && owners[canonical(c.Hdr.Name)] && len(f.Records) < maxRecords {
				f.Records = append(f.Records, model.CAARecord{Flag: c.Flag, Tag: clip(c.Tag, 64), Value: clip(c.Value, 512)})
			}
		}
		if len(f.Records) > 0 {
			f.Found = l
			return f
		}
	}
	return f
}

// txt returns the TXT strings of name (each record's segments joined, RFC 7208 §3.3).
func (r *run) txt(ctx context.Context, name string) ([]string, error) {
	m, err := r.d.res.query(ctx, name, dns.TypeTXT, false)
	if err != nil {
		return nil, err
	}
	owners := answerOwners(m, name)
	var out []string
	for _, rr := range m.Answer {
		if t, ok := rr.(*dns.TXT); ok && owners[canonical(t.Hdr.Name)] && len(out) < maxRecords {
			out = append(out, clip(strings.Join(t.Txt, ""), 4096))
		}
	}
	return out, nil
}

func (r *run) mtaSTS(ctx context.Context, dom string, mx []model.MXRecord, hasMail bool) *model.MTASTSFacts {
	f := &model.MTASTSFacts{}
	txts, err := r.txt(ctx, "_mta-sts."+dom)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	for _, t := range txts {
		if t == "v=STSv1" || strings.HasPrefix(t, "v=STSv1;") {
			f.Records++
			if f.Record == "" {
				f.Record = t
			}
		}
	}
	if f.Records == 0 {
		if !hasMail {
			return nil
		}
		return f
	}
	for _, kv := range strings.Split(f.Record, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k == "id" {
			f.ID = v
		}
	}
	f.PolicyURL = "https://mta-sts." + dom + "/.well-known/mta-sts.txt"
	status, body, err := r.d.fetch(ctx, f.PolicyURL)
	switch {
	case err != nil:
		f.FetchError = err.Error()
		return f
	case status != http.StatusOK:
		f.FetchError = fmt.Sprintf("GET %s: HTTP %d (redirects are not followed, RFC 8461 §3.3)", f.PolicyURL, status)
		return f
	}
	f.Fetched = true
	parseMTASTSPolicy(string(body), f)
	for _, m := range mx {
		if m.Host == "." {
			continue
		}
		if !mxCovered(m.Host, f.MX) {
			f.Uncovered = append(f.Uncovered, m.Host)
		}
	}
	return f
}

// parseMTASTSPolicy reads the key/value policy body (RFC 8461 §3.2) into f.
func parseMTASTSPolicy(body string, f *model.MTASTSFacts) {
	var problems []string
	for i, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			problems = append(problems, fmt.Sprintf("line %d has no key", i+1))
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "version":
			f.Version = clip(v, 32)
		case "mode":
			f.Mode = clip(v, 32)
		case "mx":
			if len(f.MX) < maxRecords {
				f.MX = append(f.MX, canonical(clip(v, 255)))
			}
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || n > 31557600 {
				problems = append(problems, fmt.Sprintf("max_age %q is not 0-31557600", clip(v, 32)))
			} else {
				f.MaxAge = n
			}
		}
	}
	if f.Version != "STSv1" {
		problems = append(problems, fmt.Sprintf("version %q is not STSv1", f.Version))
	}
	switch f.Mode {
	case "enforce", "testing", "none":
	default:
		problems = append(problems, fmt.Sprintf("mode %q is not enforce, testing or none", f.Mode))
	}
	if len(f.MX) == 0 && f.Mode != "none" {
		problems = append(problems, "no mx line")
	}
	f.PolicyError = strings.Join(problems, "; ")
}

// mxCovered reports whether a policy mx pattern matches host: exactly, or as "*.suffix"
// standing for one left-most label (RFC 8461 §4.1).
func mxCovered(host string, patterns []string) bool {
	host = canonical(host)
	for _, p := range patterns {
		p = canonical(p)
		if p == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(p, "*."); ok {
			if label, rest, ok := strings.Cut(host, "."); ok && label != "" && rest == suffix {
				return true
			}
		}
	}
	return false
}

func (r *run) tlsRPT(ctx context.Context, dom string, hasMail bool) *model.TLSRPTFacts {
	f := &model.TLSRPTFacts{}
	txts, err := r.txt(ctx, "_smtp._tls."+dom)
	if err != nil {
		f.Error = err.Error()
		return f
	}
	n := 0
	for _, t := range txts {
		if t == "v=TLSRPTv1" || strings.HasPrefix(t, "v=TLSRPTv1;") {
			n++
			if f.Record == "" {
				f.Record = t
			}
		}
	}
	if n == 0 {
		if !hasMail {
			return nil
		}
		return f
	}
	for _, kv := range strings.Split(f.Record, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if strings.TrimSpace(k) != "rua" {
			continue
		}
		for _, u := range strings.Split(v, ",") {
			u = strings.TrimSpace(u)
			if strings.HasPrefix(u, "mailto:") || strings.HasPrefix(u, "https:") {
				f.RUA = append(f.RUA, u)
			}
		}
	}
	// RFC 8460 §3: exactly one record, with at least one mailto: or https: reporting URI.
	f.Valid = n == 1 && len(f.RUA) > 0
	return f
}

// tlsa looks up DANE records of the MX hosts (port 25) and XMPP SRV targets (their ports),
// in scope only.
func (r *run) tlsa(ctx context.Context, mx []model.MXRecord, srv []model.SRVRecord) []model.TLSAFacts {
	type want struct {
		host    string
		port    uint16
		service string
	}
	var wants []want
	seen := map[string]bool{}
	add := func(w want) {
		owner := fmt.Sprintf("_%d._tcp.%s", w.port, w.host)
		if w.host == "." || w.host == "" || w.port == 0 || seen[owner] || !r.scope.HasName(w.host) {
			return
		}
		seen[owner] = true
		wants = append(wants, w)
	}
	for _, m := range mx {
		add(want{m.Host, 25, "smtp"})
	}
	for _, s := range srv {
		if strings.HasPrefix(s.Service, "xmpp") {
			add(want{s.Target, s.Port, s.Service})
		}
	}
	var out []model.TLSAFacts
	for _, w := range wants {
		owner := fmt.Sprintf("_%d._tcp.%s", w.port, w.host)
		f := model.TLSAFacts{Owner: owner, Host: w.host, Port: w.port, Service: w.service}
		m, err := r.d.res.query(ctx, owner, dns.TypeTLSA, true)
		if err != nil {
			f.Error = err.Error()
			out = append(out, f)
			continue
		}
		owners := answerOwners(m, owner)
		for _, rr := range m.Answer {
			if t, ok := rr.(*dns.TLSA); ok && owners[canonical(t.Hdr.Name)] && len(f.Records) < maxRecords {
				f.Records = append(f.Records, model.TLSARecord{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: strings.ToLower(clip(t.Certificate, 4096))})
			}
		}
		if len(f.Records) == 0 {
			continue
		}
		f.Secure = m.AuthenticatedData
		out = append(out, f)
	}
	return out
}

// disagreements compares the A and AAAA answers of the domain's names across resolvers.
func (r *run) disagreements(ctx context.Context, names map[string]*nameResult) []model.ResolverDisagreement {
	if len(r.d.servers) < 2 {
		return nil
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	if len(list) > maxDisagreementNames {
		list = list[:maxDisagreementNames]
	}
	var out []model.ResolverDisagreement
	for _, name := range list {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			answers := map[string][]string{}
			distinct := map[string]bool{}
			for _, srv := range r.d.servers {
				var got []string
				m, err := r.d.res.queryServer(ctx, srv, name, qt, false)
				if err != nil {
					got = []string{"error: " + err.Error()}
				} else {
					for _, rr := range m.Answer {
						switch v := rr.(type) {
						case *dns.A:
							got = append(got, v.A.String())
						case *dns.AAAA:
							got = append(got, v.AAAA.String())
						}
					}
					sort.Strings(got)
					if len(got) == 0 {
						got = []string{dns.RcodeToString[m.Rcode]}
					}
				}
				answers[srv.String()] = got
				if err == nil {
					// A timeout is not an answer: only answers that differ are a disagreement.
					distinct[strings.Join(got, ",")] = true
				}
			}
			if len(distinct) > 1 {
				out = append(out, model.ResolverDisagreement{Name: name, Type: dns.TypeToString[qt], Answers: answers})
			}
		}
	}
	return out
}

// clip bounds a string taken from a server.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
