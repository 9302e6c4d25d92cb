package discover

import (
	"context"
	"fmt"
	"sync"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

// srvProfile is one SRV name a domain is asked for, and the service its records lead to.
type srvProfile struct {
	label   string // "_xmpp-client._tcp"
	service string // registry name
	// domainName: the endpoint is reached under the service domain (XMPP RFC 6120 §13.7.2.1
	// and XEP-0368, SIP RFC 5922), not under the SRV target.
	domainName bool
	// group ties profiles whose fallback is decided together (XMPP client and server).
	group string
}

var srvProfiles = []srvProfile{
	{"_xmpp-client._tcp", "xmpp-client", true, "xmpp-client"},
	{"_xmpps-client._tcp", "xmpps-client", true, "xmpp-client"},
	{"_xmpp-server._tcp", "xmpp-server", true, "xmpp-server"},
	{"_xmpps-server._tcp", "xmpps-server", true, "xmpp-server"},
	{"_sips._tcp", "sips", true, ""},
	{"_sip._tcp", "sip", true, ""},
	{"_submission._tcp", "submission", false, ""},
	{"_submissions._tcp", "submissions", false, ""},
	{"_imap._tcp", "imap", false, ""},
	{"_imaps._tcp", "imaps", false, ""},
	{"_pop3._tcp", "pop3", false, ""},
	{"_pop3s._tcp", "pop3s", false, ""},
	{"_secure-mqtt._tcp", "mqtts", false, ""},
	{"_mqtt._tcp", "mqtt", false, ""},
	{"_ircs._tcp", "ircs", false, ""},
	{"_irc._tcp", "irc", false, ""},
}

// fallbackPorts are the services whose protocols prescribe an A/AAAA fallback on the
// domain itself when no SRV record exists (RFC 6120 §3.2.2).
var fallbackGroups = map[string]string{"xmpp-client": "xmpp-client", "xmpp-server": "xmpp-server"}

// domain runs every service profile, brute force and the hygiene pass for a domain target.
func (r *run) domain(ctx context.Context) {
	dom := canonical(r.t.Host)
	if !validHostname(dom) {
		r.note("error", r.t.Raw, "%q is not a valid domain name", r.t.Host)
		return
	}
	root := []string{r.targetOrigin()}
	wild := r.srvWildcard(ctx, dom)

	answers := make([]srvAnswer, len(srvProfiles))
	var wg sync.WaitGroup
	for i, p := range srvProfiles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = r.lookupSRV(ctx, p.label+"."+dom)
		}()
	}
	var naptrAns naptrAnswer
	wg.Add(1)
	go func() {
		defer wg.Done()
		naptrAns = r.lookupNAPTR(ctx, dom)
	}()
	var mxAns mxAnswer
	wg.Add(1)
	go func() {
		defer wg.Done()
		mxAns = r.lookupMX(ctx, dom)
	}()
	wg.Wait()
	if ctx.Err() != nil {
		return
	}

	// SIP over NAPTR first (RFC 3263 §4.1); the direct profiles skip the SRV owners it
	// followed, so their endpoints carry the NAPTR step in their origin.
	byOwner := make(map[string]srvAnswer, len(srvProfiles))
	for i, p := range srvProfiles {
		byOwner[p.label+"."+dom+" "+p.service] = answers[i]
	}
	viaNAPTR := r.naptr(ctx, dom, root, naptrAns, byOwner)

	seenInGroup := map[string]bool{} // group → some record (real or ".") exists
	for i, p := range srvProfiles {
		ans := answers[i]
		owner := p.label + "." + dom
		if viaNAPTR[owner+" "+p.service] {
			continue
		}
		if ans.err != nil {
			r.note("error", owner, "%v", ans.err)
		}
		if wild != nil && (ans.absent || len(ans.records) > 0) && wild.matches(ans) {
			r.note("skipped", owner, "SRV answer equals the wildcard answer under _tcp.%s: not a real record", dom)
			continue
		}
		r.addSRVFacts(owner, p.service, ans)
		if ans.absent {
			seenInGroup[p.group] = true
			r.note("empty", owner, "SRV %s has target \".\": the service is decidedly not available", owner)
			continue
		}
		if len(ans.records) > 0 {
			seenInGroup[p.group] = true
		}
		for _, s := range ans.records {
			tlsName := ""
			if p.domainName {
				tlsName = dom
			}
			if canonical(s.Target) == "" {
				r.note("error", owner, "SRV %s mixes a \".\" target with other records", owner)
				continue
			}
			r.emit(ctx, emitReq{host: s.Target, port: s.Port, service: p.service, tlsName: tlsName,
				origin: append(append([]string(nil), root...), srvOrigin(owner, s)), tags: []string{"srv"}})
		}
	}
	if !r.d.opts.NoFallback {
		for group, svc := range fallbackGroups {
			if seenInGroup[group] {
				continue
			}
			s, ok := r.d.opts.Services.ByName(svc)
			if !ok {
				continue
			}
			r.emit(ctx, emitReq{host: dom, port: s.Port, service: s.Name, quiet: true, tags: []string{"fallback"},
				origin: append(append([]string(nil), root...), fmt.Sprintf("fallback: no SRV for _%s._tcp.%s; A/AAAA on %d (RFC 6120 §3.2.2)", svc, dom, s.Port))})
		}
	}

	r.mail(ctx, dom, root, mxAns)
	r.matrix(ctx, dom, root)
	if s, ok := r.d.opts.Services.ByName("https"); ok {
		r.emit(ctx, emitReq{host: dom, port: s.Port, service: s.Name, quiet: true, tags: []string{"https"},
			origin: append(append([]string(nil), root...), fmt.Sprintf("HTTPS on the domain itself, port %d", s.Port))})
	}
	if len(r.d.opts.Wordlist) > 0 {
		r.bruteForce(ctx, dom, root)
	}
	if !r.d.opts.NoHygiene {
		r.hygiene(ctx, dom)
	}
}

// mxAnswer is the outcome of the MX lookup.
type mxAnswer struct {
	records []*dns.MX
	null    bool
	err     error
}

func (r *run) lookupMX(ctx context.Context, dom string) mxAnswer {
	var ans mxAnswer
	m, err := r.d.res.query(ctx, dom, dns.TypeMX, false)
	if err != nil {
		ans.err = err
		return ans
	}
	if m.Rcode != dns.RcodeSuccess {
		return ans
	}
	owners := answerOwners(m, dom)
	for _, rr := range m.Answer {
		mx, ok := rr.(*dns.MX)
		if !ok || !owners[canonical(mx.Hdr.Name)] {
			continue
		}
		if len(ans.records) >= maxRecords {
			ans.err = fmt.Errorf("MX %s: more than %d records; the rest were ignored", dom, maxRecords)
			break
		}
		ans.records = append(ans.records, mx)
	}
	if len(ans.records) == 1 && canonical(ans.records[0].Mx) == "" {
		ans.null = true
		ans.records = nil
	}
	sortMX(ans.records)
	return ans
}

func sortMX(rs []*dns.MX) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && (rs[j].Preference < rs[j-1].Preference || rs[j].Preference == rs[j-1].Preference && canonical(rs[j].Mx) < canonical(rs[j-1].Mx)); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// mail turns MX records into SMTP endpoints (or the RFC 5321 §5.1 implicit MX).
func (r *run) mail(ctx context.Context, dom string, root []string, ans mxAnswer) {
	if ans.err != nil {
		r.note("error", dom, "%v", ans.err)
	}
	smtp, ok := r.d.opts.Services.ByName("smtp")
	if !ok {
		return
	}
	if ans.null {
		r.mu.Lock()
		r.mx = []model.MXRecord{{Preference: 0, Host: "."}}
		r.mu.Unlock()
		r.note("empty", dom, "null MX (RFC 7505): %s accepts no mail", dom)
		return
	}
	r.mu.Lock()
	for _, mx := range ans.records {
		r.mx = append(r.mx, model.MXRecord{Preference: mx.Preference, Host: canonical(mx.Mx)})
	}
	r.mu.Unlock()
	for _, mx := range ans.records {
		r.emit(ctx, emitReq{host: mx.Mx, port: smtp.Port, service: smtp.Name, tags: []string{"mx"},
			origin: append(append([]string(nil), root...), fmt.Sprintf("MX %s → %s (preference %d)", dom, canonical(mx.Mx), mx.Preference))})
	}
	if len(ans.records) == 0 && ans.err == nil && !r.d.opts.NoFallback {
		r.emit(ctx, emitReq{host: dom, port: smtp.Port, service: smtp.Name, quiet: true, tags: []string{"fallback"},
			origin: append(append([]string(nil), root...), fmt.Sprintf("fallback: no MX for %s; implicit MX on the domain's A/AAAA (RFC 5321 §5.1)", dom))})
	}
}

// srvWild is the answer random SRV names under _tcp.<domain> get (a wildcard).
type srvWild struct{ targets map[string]bool }

func (w *srvWild) matches(ans srvAnswer) bool {
	if ans.absent {
		return w.targets["."]
	}
	for _, s := range ans.records {
		t := canonical(s.Target)
		if t == "" {
			t = "."
		}
		if !w.targets[fmt.Sprintf("%s:%d", t, s.Port)] {
			return false
		}
	}
	return true
}

// srvWildcard asks for a random SRV name next to the profiles; a wildcard answers it.
func (r *run) srvWildcard(ctx context.Context, dom string) *srvWild {
	ans := r.lookupSRV(ctx, "_"+randomLabel()+"._tcp."+dom)
	if ans.err != nil || (!ans.absent && len(ans.records) == 0) {
		return nil
	}
	w := &srvWild{targets: map[string]bool{}}
	if ans.absent {
		w.targets["."] = true
	}
	for _, s := range ans.records {
		w.targets[fmt.Sprintf("%s:%d", canonical(s.Target), s.Port)] = true
	}
	r.mu.Lock()
	r.wildcards = append(r.wildcards, model.WildcardFact{Level: "_tcp." + dom, Type: "SRV", Answers: sortedKeys(w.targets)})
	r.mu.Unlock()
	return w
}
