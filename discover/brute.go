package discover

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/rampart-scan/rampart/model"
)

//go:embed wordlist.txt
var defaultWordlist string

// DefaultWordlist is the embedded messaging-oriented list of subdomain labels.
func DefaultWordlist() []string {
	words, _ := ReadWordlist(strings.NewReader(defaultWordlist))
	return words
}

// maxWords bounds a wordlist (a brute force larger than this is a mistake, not a scan).
const maxWords = 1 << 20

// ReadWordlist reads one label (or dotted label sequence) per line; blank lines and lines
// starting with # are skipped, entries are lower-cased and de-duplicated, and entries that
// cannot form a host name are an error naming the line.
func ReadWordlist(rd io.Reader) ([]string, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 4096), 4096)
	seen := map[string]bool{}
	var out []string
	for n := 1; sc.Scan(); n++ {
		w := strings.ToLower(strings.TrimSpace(sc.Text()))
		if w == "" || strings.HasPrefix(w, "#") {
			continue
		}
		w = strings.Trim(w, ".")
		if !validHostname(w) {
			return nil, fmt.Errorf("wordlist line %d: %q is not a host name label", n, w)
		}
		if seen[w] {
			continue
		}
		if len(out) >= maxWords {
			return nil, fmt.Errorf("wordlist longer than %d entries", maxWords)
		}
		seen[w] = true
		out = append(out, w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading wordlist: %w", err)
	}
	return out, nil
}

// wildSet is what random names at one level resolve to, per record type.
type wildSet struct {
	addrs  map[netip.Addr]bool
	cnames map[string]bool
	types  map[string][]string // for the facts
}

// wildcards detects wildcards lazily, once per level.
type wildcards struct {
	r    *run
	mu   sync.Mutex
	sets map[string]*wildEntry
}

type wildEntry struct {
	once sync.Once
	set  *wildSet
}

// wildcardProbes is the number of random names asked per level: CDN wildcards return
// changing address sets, so one probe is not enough.
const wildcardProbes = 3

func (w *wildcards) level(ctx context.Context, level string) *wildSet {
	w.mu.Lock()
	e, ok := w.sets[level]
	if !ok {
		e = &wildEntry{}
		w.sets[level] = e
	}
	w.mu.Unlock()
	e.once.Do(func() {
		set := &wildSet{addrs: map[netip.Addr]bool{}, cnames: map[string]bool{}, types: map[string][]string{}}
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			tname := dns.TypeToString[qt]
			seen := map[string]bool{}
			for i := 0; i < wildcardProbes; i++ {
				hops, addrs, _, err := w.r.d.chase(ctx, randomLabel()+"."+level, qt)
				if err != nil {
					continue
				}
				if len(hops) > 0 {
					set.cnames[hops[0].To] = true
					seen["CNAME "+hops[0].To] = true
				}
				for _, a := range addrs {
					set.addrs[a] = true
					seen[a.String()] = true
				}
			}
			if len(seen) > 0 {
				set.types[tname] = sortedKeys(seen)
			}
		}
		e.set = set
		if len(set.types) > 0 {
			w.r.mu.Lock()
			for _, t := range []string{"A", "AAAA"} {
				if ans, ok := set.types[t]; ok {
					w.r.wildcards = append(w.r.wildcards, model.WildcardFact{Level: level, Type: t, Answers: ans})
				}
			}
			w.r.mu.Unlock()
		}
	})
	return e.set
}

// isWildcard reports whether every answer of nr is what random names at some level between
// the name and the domain also get.
func (w *wildcards) isWildcard(ctx context.Context, nr *nameResult, dom string) bool {
	name := nr.Name
	var levels []string
	for l := name; l != dom && strings.Contains(l, "."); {
		l = l[strings.Index(l, ".")+1:]
		levels = append(levels, l)
		if !strings.HasSuffix(l, "."+dom) && l != dom {
			break
		}
	}
	addrs := map[netip.Addr]bool{}
	cnames := map[string]bool{}
	for _, l := range levels {
		s := w.level(ctx, l)
		for a := range s.addrs {
			addrs[a] = true
		}
		for c := range s.cnames {
			cnames[c] = true
		}
	}
	if len(nr.Hops) > 0 && cnames[nr.Hops[0].To] {
		return true
	}
	if len(nr.Addrs) == 0 {
		return false
	}
	for _, a := range nr.Addrs {
		if !addrs[a] {
			return false
		}
	}
	return true
}

// bruteForce resolves every word under dom and keeps the names that are not wildcard answers.
func (r *run) bruteForce(ctx context.Context, dom string, root []string) {
	wc := &wildcards{r: r, sets: map[string]*wildEntry{}}
	words := r.d.opts.Wordlist
	jobs := make(chan string)
	type hit struct {
		nr *nameResult
	}
	var (
		mu     sync.Mutex
		hits   []hit
		errs   int
		lastEr error
		wg     sync.WaitGroup
	)
	workers := r.d.opts.Concurrency
	if workers > len(words) {
		workers = len(words)
	}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				// An NXDOMAIN for A is an NXDOMAIN for every type: one packet per absent name.
				hops, addrs, rcode, err := r.d.chase(ctx, name, dns.TypeA)
				if err != nil {
					mu.Lock()
					errs++
					lastEr = err
					mu.Unlock()
					continue
				}
				if rcode == "NXDOMAIN" && len(hops) == 0 {
					continue
				}
				nr := r.d.resolveNameWith(ctx, name, &chaseResult{hops: hops, addrs: addrs, rcode: rcode})
				if nr.Err != nil || (len(nr.Addrs) == 0 && !nr.Dangling) {
					continue
				}
				if wc.isWildcard(ctx, nr, dom) {
					continue
				}
				mu.Lock()
				hits = append(hits, hit{nr})
				mu.Unlock()
			}
		}()
	}
feed:
	for _, w := range words {
		name := w + "." + dom
		if len(name) > 253 {
			continue
		}
		select {
		case jobs <- name:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if errs > 0 {
		r.note("error", dom, "brute force: %d of %d names failed to resolve (last: %v)", errs, len(words), lastEr)
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].nr.Name < hits[j].nr.Name })
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range hits {
		r.subdomains = append(r.subdomains, h.nr.Name)
		if r.names == nil {
			r.names = map[string]*nameResult{}
		}
		r.names[h.nr.Name] = h.nr
		if h.nr.Dangling {
			continue
		}
		if out := r.leavesScope(h.nr); out != "" {
			r.notes = append(r.notes, model.DiscoveryNote{Target: h.nr.Name, Source: r.t.Source, Kind: "skipped",
				Detail: fmt.Sprintf("found by brute force, but %s leads outside the scope; widen --scope to include it", out)})
			continue
		}
		origin := append(append([]string(nil), root...), "brute force: "+h.nr.Name)
		for _, hop := range h.nr.Hops {
			origin = append(origin, "CNAME "+hop.From+" → "+hop.To)
		}
		r.hosts = append(r.hosts, Host{Name: h.nr.Name, Addrs: h.nr.Addrs, Origin: origin, Source: r.t.Source})
	}
}

// leavesScope names the first alias of nr that leaves the scope ("" when none does, or when
// CIDRs are in scope and every address is inside them).
func (r *run) leavesScope(nr *nameResult) string {
	for _, h := range nr.Hops {
		if r.scope.HasName(h.To) {
			continue
		}
		if r.scope.hasPrefixes() {
			all := true
			for _, a := range nr.Addrs {
				all = all && r.scope.HasAddr(a)
			}
			if all {
				return ""
			}
		}
		return "CNAME " + h.From + " → " + h.To
	}
	return ""
}
