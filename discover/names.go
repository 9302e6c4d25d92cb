package discover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// maxRecords bounds how many records of one answer are looked at; answers beyond it are
// reported as truncated, never processed (a hostile server may send thousands).
const maxRecords = 256

// cnameHop is one alias followed while resolving a name.
type cnameHop struct{ From, To string }

// nameResult is what resolving one host name gave: the alias chain and the addresses of the
// name at its end.
type nameResult struct {
	Name     string
	Final    string
	Hops     []cnameHop
	Addrs    []netip.Addr
	Dropped  int    // addresses beyond the per-name cap
	Dangling bool   // the chain ends in NXDOMAIN
	Rcode    string // rcode of the final name's answers ("NOERROR", "NXDOMAIN")
	Err      error  // lookup failed (both types, or a malformed chain)
	Partial  error  // one type failed while the other answered
}

// origin renders the chain and one address as Origin lines.
func (n *nameResult) origin(a netip.Addr) []string {
	out := make([]string, 0, len(n.Hops)+1)
	for _, h := range n.Hops {
		out = append(out, "CNAME "+h.From+" → "+h.To)
	}
	t := "A"
	if a.Is6() {
		t = "AAAA"
	}
	return append(out, t+" "+n.Final+" → "+a.String())
}

// nameCache resolves each name once per Discoverer run.
type nameCache struct {
	mu sync.Mutex
	m  map[string]*nameEntry
}

type nameEntry struct {
	done chan struct{}
	res  *nameResult
}

func (d *Discoverer) resolveName(ctx context.Context, name string) *nameResult {
	return d.resolveNameWith(ctx, name, nil)
}

// chaseResult is the outcome of chasing one type.
type chaseResult struct {
	hops  []cnameHop
	addrs []netip.Addr
	rcode string
	err   error
}

// resolveNameWith is resolveName reusing an A answer already chased (brute force asks A first).
func (d *Discoverer) resolveNameWith(ctx context.Context, name string, preA *chaseResult) *nameResult {
	name = canonical(name)
	d.cache.mu.Lock()
	if d.cache.m == nil {
		d.cache.m = map[string]*nameEntry{}
	}
	e, ok := d.cache.m[name]
	if !ok {
		e = &nameEntry{done: make(chan struct{})}
		d.cache.m[name] = e
	}
	d.cache.mu.Unlock()
	if ok {
		select {
		case <-e.done:
			return e.res
		case <-ctx.Done():
			return &nameResult{Name: name, Final: name, Err: ctx.Err()}
		}
	}
	e.res = d.doResolve(ctx, name, preA)
	close(e.done)
	return e.res
}

func (d *Discoverer) doResolve(ctx context.Context, name string, preA *chaseResult) *nameResult {
	res := &nameResult{Name: name, Final: name}
	var errs []string
	answered := false
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		var hops []cnameHop
		var addrs []netip.Addr
		var rcode string
		var err error
		if qt == dns.TypeA && preA != nil {
			hops, addrs, rcode, err = preA.hops, preA.addrs, preA.rcode, preA.err
		} else {
			hops, addrs, rcode, err = d.chase(ctx, name, qt)
		}
		if err != nil {
			errs = append(errs, err.Error())
			var fe *formatError
			if errors.As(err, &fe) || ctx.Err() != nil {
				res.Err = err
				return res
			}
			continue
		}
		answered = true
		if len(hops) > len(res.Hops) {
			res.Hops = hops
		}
		res.Rcode = rcode
		for _, a := range addrs {
			if len(res.Addrs) >= d.opts.MaxAddrsPerName {
				res.Dropped++
				continue
			}
			res.Addrs = append(res.Addrs, a)
		}
	}
	if len(res.Hops) > 0 {
		res.Final = res.Hops[len(res.Hops)-1].To
		res.Dangling = res.Rcode == "NXDOMAIN" && len(res.Addrs) == 0
	}
	switch {
	case !answered || (len(errs) > 0 && len(res.Addrs) == 0):
		res.Err = fmt.Errorf("resolving %s: %s", name, strings.Join(errs, "; "))
	case len(errs) > 0:
		res.Partial = fmt.Errorf("resolving %s: %s", name, strings.Join(errs, "; "))
	}
	return res
}

// chase resolves one type, following CNAMEs within answers and across queries, with loop
// detection and a depth cap.
func (d *Discoverer) chase(ctx context.Context, name string, qt uint16) ([]cnameHop, []netip.Addr, string, error) {
	cur := canonical(name)
	seen := map[string]bool{cur: true}
	var hops []cnameHop
	for {
		m, err := d.res.lookupAddr(ctx, cur, qt)
		if err != nil {
			return hops, nil, "", err
		}
		rcode := dns.RcodeToString[m.Rcode]
		if rcode == "" {
			rcode = fmt.Sprintf("RCODE%d", m.Rcode)
		}
		if len(m.Answer) > 4*maxRecords {
			return hops, nil, rcode, &formatError{fmt.Sprintf("%s %s: %d answer records (more than %d)", dns.TypeToString[qt], cur, len(m.Answer), 4*maxRecords)}
		}
		before := len(hops)
		var addrs []netip.Addr
		cur, hops, addrs, err = walkAnswer(m, qt, cur, seen, hops, d.opts.MaxCNAMEDepth)
		if err != nil {
			return hops, nil, rcode, err
		}
		added := len(hops) - before
		// A resolver follows the chain itself; an authoritative server stops at the edge of
		// its zone. Ask again for the new end of the chain only in that case.
		if len(addrs) > 0 || added == 0 || m.Rcode != dns.RcodeSuccess {
			return hops, addrs, rcode, nil
		}
	}
}

// walkAnswer follows the CNAMEs of one answer from cur and collects the addresses of qtype
// owned by the end of the chain. seen and hops carry the chain across answers; the chain may
// not revisit a name nor grow beyond maxDepth. Names in the answer are never trusted to be
// valid: a target that is not a DNS name is an error.
func walkAnswer(m *dns.Msg, qt uint16, cur string, seen map[string]bool, hops []cnameHop, maxDepth int) (string, []cnameHop, []netip.Addr, error) {
	for {
		next := ""
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && canonical(c.Hdr.Name) == cur {
				next = canonical(c.Target)
				break
			}
		}
		if next == "" {
			break
		}
		if !validOwner(next) {
			return cur, hops, nil, &formatError{fmt.Sprintf("CNAME %s → %q: not a valid name", cur, next)}
		}
		if seen[next] {
			return cur, hops, nil, &formatError{fmt.Sprintf("CNAME loop: %s → %s was already followed", cur, next)}
		}
		if len(hops) >= maxDepth {
			return cur, hops, nil, &formatError{fmt.Sprintf("CNAME chain longer than %d at %s → %s", maxDepth, cur, next)}
		}
		seen[next] = true
		hops = append(hops, cnameHop{From: cur, To: next})
		cur = next
	}
	var addrs []netip.Addr
	for _, rr := range m.Answer {
		if canonical(rr.Header().Name) != cur {
			continue
		}
		var ip []byte
		switch v := rr.(type) {
		case *dns.A:
			if qt == dns.TypeA {
				ip = v.A.To4()
			}
		case *dns.AAAA:
			if qt == dns.TypeAAAA {
				ip = v.AAAA.To16()
			}
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if qt == dns.TypeA {
			a = a.Unmap()
		}
		if !containsAddr(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	return cur, hops, addrs, nil
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, b := range as {
		if a == b {
			return true
		}
	}
	return false
}
