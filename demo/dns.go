package demo

import (
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// zone is a tiny authoritative zone: records by owner name (FQDN, lower case).
type zone struct {
	origin string
	soa    dns.RR
	rrs    map[string][]dns.RR
}

func newZone(origin string) *zone {
	origin = dns.Fqdn(origin)
	soa, _ := dns.NewRR(fmt.Sprintf("%s 300 IN SOA ns.%s hostmaster.%s 1 3600 600 86400 300", origin, origin, origin))
	return &zone{origin: origin, soa: soa, rrs: map[string][]dns.RR{}}
}

// add parses and adds records in zone-file syntax; names are relative to the origin.
func (z *zone) add(lines ...string) error {
	for _, l := range lines {
		rr, err := dns.NewRR("$ORIGIN " + z.origin + "\n$TTL 300\n" + l)
		if err != nil {
			return fmt.Errorf("demo zone record %q: %w", l, err)
		}
		name := strings.ToLower(rr.Header().Name)
		z.rrs[name] = append(z.rrs[name], rr)
	}
	return nil
}

// lookup returns name's records, synthesised from a wildcard (RFC 4592) when name does not
// exist and "*.<parent>" does: the owner of a synthesised record is the name asked for.
func (z *zone) lookup(name string) []dns.RR {
	if rrs, ok := z.rrs[name]; ok || z.exists(name) {
		return rrs
	}
	labels := dns.SplitDomainName(name)
	if len(labels) < 2 {
		return nil
	}
	wild := "*." + strings.Join(labels[1:], ".") + "."
	var out []dns.RR
	for _, rr := range z.rrs[wild] {
		c := dns.Copy(rr)
		c.Header().Name = name
		out = append(out, c)
	}
	return out
}

// exists reports whether name owns records or has descendants (an empty non-terminal).
func (z *zone) exists(name string) bool {
	if _, ok := z.rrs[name]; ok || name == z.origin {
		return true
	}
	for n := range z.rrs {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

// ServeDNS answers authoritatively, following in-zone CNAMEs.
func (z *zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !dns.IsSubDomain(z.origin, name) {
		m.Rcode = dns.RcodeRefused
		_ = w.WriteMsg(m)
		return
	}
	for hops := 0; hops < 8; hops++ {
		var cname dns.RR
		found := false
		for _, rr := range z.lookup(name) {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
				found = true
			} else if rr.Header().Rrtype == dns.TypeCNAME {
				cname = rr
			}
		}
		if found || cname == nil || q.Qtype == dns.TypeCNAME {
			break
		}
		m.Answer = append(m.Answer, cname)
		name = strings.ToLower(cname.(*dns.CNAME).Target)
		if !dns.IsSubDomain(z.origin, name) {
			break
		}
	}
	if len(m.Answer) == 0 {
		if !z.exists(name) && len(z.lookup(name)) == 0 && !z.wildcardCovers(name) {
			m.Rcode = dns.RcodeNameError
		}
		m.Ns = []dns.RR{z.soa}
	}
	_ = w.WriteMsg(m)
}

// serveDNS starts UDP and TCP servers for z on addr; the returned func stops them.
func serveDNS(addr string, z *zone) (func(), error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo DNS on %s: %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("demo DNS on %s: %w", addr, err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: z}
	tcp := &dns.Server{Listener: ln, Handler: z}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	return func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	}, nil
}

// wildcardCovers reports whether a wildcard owns name's parent level (any type): then name
// exists by synthesis and a type it lacks is NODATA, not NXDOMAIN.
func (z *zone) wildcardCovers(name string) bool {
	labels := dns.SplitDomainName(name)
	if len(labels) < 2 {
		return false
	}
	_, ok := z.rrs["*."+strings.Join(labels[1:], ".")+"."]
	return ok
}
