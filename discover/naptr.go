package discover

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

// maxNAPTR bounds how many NAPTR records of a domain are considered.
const maxNAPTR = 32

// naptrSIP maps the NAPTR services RFC 3263 §4.1 lets a TCP client follow to the service
// their SRV records lead to. UDP, SCTP and WebSocket services are recorded as facts only.
var naptrSIP = map[string]string{
	"SIPS+D2T": "sips",
	"SIP+D2T":  "sip",
}

// naptrAnswer is the outcome of the NAPTR lookup of a domain.
type naptrAnswer struct {
	records []*dns.NAPTR
	err     error
}

// lookupNAPTR asks for the NAPTR records of dom, keeps at most maxNAPTR of them and sorts
// them by order, then preference (RFC 3403 §4.1).
func (r *run) lookupNAPTR(ctx context.Context, dom string) naptrAnswer {
	var ans naptrAnswer
	m, err := r.d.res.query(ctx, dom, dns.TypeNAPTR, false)
	if err != nil {
		ans.err = err
		return ans
	}
	if m.Rcode != dns.RcodeSuccess {
		return ans
	}
	owners := answerOwners(m, dom)
	for _, rr := range m.Answer {
		n, ok := rr.(*dns.NAPTR)
		if !ok || !owners[canonical(n.Hdr.Name)] {
			continue
		}
		if len(ans.records) >= maxNAPTR {
			ans.err = fmt.Errorf("NAPTR %s: more than %d records; the rest were ignored", dom, maxNAPTR)
			break
		}
		ans.records = append(ans.records, n)
	}
	sort.SliceStable(ans.records, func(i, j int) bool {
		a, b := ans.records[i], ans.records[j]
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Preference < b.Preference
	})
	return ans
}

// naptr follows the SIP-over-TCP NAPTR records of dom (RFC 3263 §4.1) to their SRV owners
// and emits the endpoints those lead to. profileAnswers are the SRV answers already fetched
// for the direct profiles; a replacement naming one of them reuses it. It returns the
// "owner service" pairs it handled, which the direct profiles then leave alone.
func (r *run) naptr(ctx context.Context, dom string, root []string, ans naptrAnswer, profileAnswers map[string]srvAnswer) map[string]bool {
	handled := map[string]bool{}
	if ans.err != nil {
		r.note("error", dom, "%v", ans.err)
	}
	r.mu.Lock()
	for _, n := range ans.records {
		repl := canonical(n.Replacement)
		if repl == "" {
			repl = "."
		}
		r.naptrs = append(r.naptrs, model.NAPTRRecord{Order: n.Order, Preference: n.Preference, Flags: n.Flags,
			Service: n.Service, Regexp: n.Regexp, Replacement: repl})
	}
	r.mu.Unlock()
	for _, n := range ans.records {
		service, ok := naptrSIP[strings.ToUpper(n.Service)]
		if !ok {
			continue // not SIP over TCP or TLS: a fact only
		}
		if !strings.EqualFold(n.Flags, "s") {
			r.note("skipped", dom, "NAPTR %s %s has flags %q; only \"s\" (an SRV lookup, RFC 3263 §4.1) is followed", dom, n.Service, n.Flags)
			continue
		}
		owner := canonical(n.Replacement)
		if owner == "" || !validOwner(owner) {
			r.note("error", dom, "NAPTR %s %s has replacement %q, which is not a valid SRV owner name; not followed", dom, n.Service, n.Replacement)
			continue
		}
		key := owner + " " + service
		if handled[key] {
			continue // an earlier record already led there
		}
		origin := fmt.Sprintf("NAPTR %s → %s (order %d pref %d, %s)", dom, owner, n.Order, n.Preference, n.Service)
		if !r.scope.HasName(owner) && !r.scope.hasPrefixes() {
			r.note("skipped", owner, "%s is outside the scope (%s); not resolved or probed (from %s); widen --scope to include it", owner, strings.Join(r.scope.Strings(), ", "), origin)
			continue
		}
		handled[key] = true
		srv, ok := profileAnswers[key]
		if !ok {
			srv = r.lookupSRV(ctx, owner)
			if ctx.Err() != nil {
				return handled
			}
		}
		if srv.err != nil {
			r.note("error", owner, "%v", srv.err)
		}
		r.addSRVFacts(owner, service, srv)
		if srv.absent {
			r.note("empty", owner, "SRV %s has target \".\": the service is decidedly not available", owner)
			continue
		}
		if len(srv.records) == 0 && srv.err == nil {
			r.note("empty", owner, "NAPTR %s leads to %s, which has no SRV records", dom, owner)
			continue
		}
		for _, s := range srv.records {
			if canonical(s.Target) == "" {
				r.note("error", owner, "SRV %s mixes a \".\" target with other records", owner)
				continue
			}
			r.emit(ctx, emitReq{host: s.Target, port: s.Port, service: service, tlsName: dom, tags: []string{"naptr", "srv"},
				origin: append(append([]string(nil), root...), origin, srvOrigin(owner, s))})
		}
	}
	return handled
}
