package hello

import (
	"slices"
	"sync"
)

// Known gathers what handshakes made outside the engine with the same server and SNI (the
// audit's modern handshake, the handshake inspection's probes) proved the server accepts: a
// TLS ≤ 1.2 suite it chose, with the group its ServerKeyExchange named, and the TLS 1.3
// groups it chose. Every such handshake is one ServerHello the engine need not ask for again.
//
// The engine counts a known suite or group as found, instead of offering it, only where that
// cannot change a result: once the server has been shown to follow the client's order (so
// its order is ours, and the place of what is known in it does not matter), and a suite only
// when its key exchange facts are the ones the engine itself would record (no DHE: the prime
// is recorded; ECDHE only with the group the engine's own ECDHE answers named). Safe for
// concurrent use; a nil *Known knows nothing.
type Known struct {
	mu     sync.Mutex
	suites map[uint16]map[uint16]uint16 // version → suite → group of its ServerKeyExchange (0: none)
	groups map[uint16]bool              // TLS 1.3 groups
}

// NewKnown returns an empty Known.
func NewKnown() *Known {
	return &Known{suites: map[uint16]map[uint16]uint16{}, groups: map[uint16]bool{}}
}

// AddSuite records that the server chose suite in version (TLS ≤ 1.2), naming group in its
// ServerKeyExchange (0 when the suite has none or it was not read).
func (k *Known) AddSuite(version, suite, group uint16) {
	if k == nil || version > VersionTLS12 || version < VersionSSL30 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.suites[version] == nil {
		k.suites[version] = map[uint16]uint16{}
	}
	k.suites[version][suite] = group
}

// Suite returns the group recorded with a known suite of version, and whether it is known.
func (k *Known) Suite(version, suite uint16) (group uint16, ok bool) {
	if k == nil {
		return 0, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	group, ok = k.suites[version][suite]
	return group, ok
}

// takeKnown moves the known suites of remaining into picks (as found in bundle bi), for a
// server shown to follow the client's order. A suite is taken only when the engine would
// record the same facts for it: RSA key exchange (nothing to record) or ECDHE with a group
// the engine's own ECDHE answers in this version named.
func (e *engine) takeKnown(v uint16, bi int, bundle []uint16, remaining []uint16, picks []pick) ([]uint16, []pick) {
	if e.opts.Known == nil {
		return remaining, picks
	}
	ecdheGroups := map[string]bool{}
	for _, p := range picks {
		if s, _ := LookupSuite(p.suite); s.Kx == "ECDHE" && p.group != "" {
			ecdheGroups[p.group] = true
		}
	}
	out := remaining[:0:0]
	for _, id := range remaining {
		g, ok := e.opts.Known.Suite(v, id)
		s, found := LookupSuite(id)
		take := false
		if ok && found && !s.Export {
			switch s.Kx {
			case "RSA":
				take = g == 0
			case "ECDHE":
				gr, _ := LookupGroup(g)
				take = g != 0 && ecdheGroups[gr.Name]
			}
		}
		if !take {
			out = append(out, id)
			continue
		}
		p := pick{suite: id, bundle: bi, index: slices.Index(bundle, id)}
		if s.Kx == "ECDHE" {
			gr, _ := LookupGroup(g)
			p.group = gr.Name
		}
		picks = append(picks, p)
	}
	return out, picks
}

// TLS12Groups is the supported_groups list of the engine's TLS ≤ 1.2 hellos. A handshake
// made elsewhere that offers the same list in the same order gets the same ECDHE group from
// a server that follows the client's order, so its answer can go into Known.
func TLS12Groups() []uint16 {
	return groupIDs(func(g Group) bool { return g.Kind == "ec" || g.Kind == "ff" })
}
