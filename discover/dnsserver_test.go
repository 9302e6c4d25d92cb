package discover

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zoneServer is an in-process authoritative DNS server for tests: it serves a set of records
// over UDP and TCP on one loopback port, follows CNAMEs inside its data, synthesises one-level
// wildcards, and lets a test take over any question with a hook (hostile answers).
type zoneServer struct {
	t       testing.TB
	Addr    string // ip:port
	mu      sync.Mutex
	records map[string][]dns.RR // owner (fqdn, lower case) → records
	// hook, when set, answers a question instead of the zone; it returns false to fall
	// through. Set it with SetHook.
	hook func(w dns.ResponseWriter, req *dns.Msg) bool
	// adOnDO sets the AD bit on answers to queries with DO=1 (a validating resolver's part).
	adOnDO  bool
	queries atomic.Int64
	perName sync.Map // "TYPE name" → *atomic.Int64
	servers []*dns.Server
}

// newZoneServer starts a server on ip (e.g. "127.0.0.53") with the records in zone text.
func newZoneServer(t testing.TB, ip string, zone string) *zoneServer {
	t.Helper()
	z := &zoneServer{t: t, records: map[string][]dns.RR{}}
	z.Add(zone)
	var lastErr error
	for try := 0; try < 20; try++ {
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			t.Fatalf("listen udp: %v", err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, port))
		if err != nil {
			pc.Close()
			lastErr = err
			continue
		}
		z.Addr = fmt.Sprintf("%s:%d", ip, port)
		for _, s := range []*dns.Server{{PacketConn: pc, Handler: z}, {Listener: ln, Handler: z}} {
			started := make(chan struct{})
			s.NotifyStartedFunc = func() { close(started) }
			go func() { _ = s.ActivateAndServe() }()
			<-started
			z.servers = append(z.servers, s)
		}
		t.Cleanup(z.Close)
		return z
	}
	t.Fatalf("no free port pair on %s: %v", ip, lastErr)
	return nil
}

// Close stops the server.
func (z *zoneServer) Close() {
	for _, s := range z.servers {
		_ = s.Shutdown()
	}
	z.servers = nil
}

// Resolver is the --resolver value of the server.
func (z *zoneServer) Resolver() string { return "udp:" + z.Addr }

// Add parses zone-file lines (absolute owners) and adds them.
func (z *zoneServer) Add(zone string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, line := range strings.Split(zone, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			z.t.Fatalf("bad test record %q: %v", line, err)
		}
		owner := strings.ToLower(rr.Header().Name)
		z.records[owner] = append(z.records[owner], rr)
	}
}

// SetHook installs a hook that may answer any question itself (hostile answers).
func (z *zoneServer) SetHook(h func(w dns.ResponseWriter, req *dns.Msg) bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.hook = h
}

// SetADOnDO makes the server set AD on answers to DO queries, like a validating resolver.
func (z *zoneServer) SetADOnDO(on bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.adOnDO = on
}

// Queries is the number of questions received.
func (z *zoneServer) Queries() int64 { return z.queries.Load() }

// QueriesFor is the number of questions for one type and name ("A", "x.example.test").
func (z *zoneServer) QueriesFor(qtype, name string) int64 {
	v, ok := z.perName.Load(qtype + " " + dns.Fqdn(name))
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (z *zoneServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	z.queries.Add(1)
	if len(req.Question) == 1 {
		key := dns.TypeToString[req.Question[0].Qtype] + " " + strings.ToLower(req.Question[0].Name)
		v, _ := z.perName.LoadOrStore(key, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	z.mu.Lock()
	hook := z.hook
	z.mu.Unlock()
	if hook != nil && hook(w, req) {
		return
	}
	m := z.answer(req)
	if w.LocalAddr().Network() == "udp" {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func (z *zoneServer) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.Compress = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := req.Question[0]
	z.mu.Lock()
	defer z.mu.Unlock()
	name := strings.ToLower(q.Name)
	for hop := 0; hop < 12; hop++ {
		rrs, exists := z.lookup(name)
		if !exists {
			m.Rcode = dns.RcodeNameError
			m.Ns = z.soa(name)
			break
		}
		var cname *dns.CNAME
		found := false
		for _, rr := range rrs {
			if c, ok := rr.(*dns.CNAME); ok && q.Qtype != dns.TypeCNAME {
				cname = c
			}
			if rr.Header().Rrtype == q.Qtype {
				found = true
				m.Answer = append(m.Answer, rr)
			}
		}
		if cname != nil && !found {
			m.Answer = append(m.Answer, cname)
			name = strings.ToLower(cname.Target)
			continue
		}
		if !found {
			m.Ns = z.soa(name)
		}
		break
	}
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
		if opt.Do() && z.adOnDO && m.Rcode == dns.RcodeSuccess {
			m.AuthenticatedData = true
		}
	}
	return m
}

// lookup finds the records of name, synthesising from "*.parent" when name does not exist
// and is not an empty non-terminal. The records are renamed to name, like a real wildcard.
func (z *zoneServer) lookup(name string) ([]dns.RR, bool) {
	if rrs, ok := z.records[name]; ok {
		return rrs, true
	}
	for owner := range z.records {
		if strings.HasSuffix(owner, "."+name) {
			return nil, true // empty non-terminal
		}
	}
	_, parent, ok := strings.Cut(name, ".")
	if !ok {
		return nil, false
	}
	wild, ok := z.records["*."+parent]
	if !ok {
		return nil, false
	}
	out := make([]dns.RR, len(wild))
	for i, rr := range wild {
		c := dns.Copy(rr)
		c.Header().Name = name
		out[i] = c
	}
	return out, true
}

func (z *zoneServer) soa(name string) []dns.RR {
	for n := name; n != ""; {
		for _, rr := range z.records[n] {
			if _, ok := rr.(*dns.SOA); ok {
				return []dns.RR{rr}
			}
		}
		_, rest, ok := strings.Cut(n, ".")
		if !ok {
			break
		}
		n = rest
	}
	return nil
}

// silent never answers (a slow or dead server).
func silentServer(t testing.TB, ip string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 2048)
		for {
			_ = pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if _, _, err := pc.ReadFrom(buf); err != nil {
				select {
				case <-done:
					return
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { close(done); pc.Close() })
	return "udp:" + pc.LocalAddr().String()
}
