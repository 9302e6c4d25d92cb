package hello

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Options tune a Scan. The zero value is usable.
type Options struct {
	// ServerName is sent as SNI; empty sends none.
	ServerName string
	// ALPN protocols to offer; empty offers none.
	ALPN []string
	// Parallel is how many connections the scan keeps open at once (protocol versions are
	// enumerated concurrently). Zero means 3; keep it within the dialer's per-address cap.
	Parallel int
	// Timeout bounds each connection from dial to the last byte read. Zero means 10s.
	Timeout time.Duration
	// MaxSuitesPerHello caps the suites offered in one ClientHello, for servers that reject
	// larger lists. Zero is adaptive: every candidate suite of a version in one hello, and
	// bundles of 127 (128 with the renegotiation SCSV) only if the server refuses that hello
	// (it may be the size). A fixed cap counts the SCSV too.
	MaxSuitesPerHello int
	// ReadLimit caps the bytes read before the ServerHello is complete. Zero means 64 KiB.
	ReadLimit int
	// FlightLimit caps the bytes read up to a ServerKeyExchange (certificates come first).
	// Zero means 256 KiB.
	FlightLimit int
	// Versions restricts the versions probed; empty probes SSLv2 through TLS 1.3.
	Versions []uint16
	// SkipGroups leaves key exchange group enumeration out.
	SkipGroups bool
	// SignatureAlgorithms enumerates the TLS 1.2 signature schemes the server signs with
	// (one connection per scheme accepted, so it is off by default).
	SignatureAlgorithms bool
	// Known, when set, holds what other handshakes with the same server and SNI proved it
	// accepts (see Known); the engine takes those answers instead of asking again where that
	// cannot change a result.
	Known *Known
	// Exhaustive probes every version on its own and enumerates TLS 1.0 and 1.1 suite by
	// suite, instead of settling them from TLS 1.2's and 1.3's results (see
	// model.EngineVersion.Inferred). It costs more connections and is slower.
	Exhaustive bool
}

// AllVersions lists every protocol version the engine probes, oldest first.
var AllVersions = []uint16{VersionSSL20, VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12, VersionTLS13}

type engine struct {
	dial  DialFunc
	opts  Options
	conns atomic.Int64
	sem   chan struct{}
	// bundle is how many suites one bundle offers: MaxSuitesPerHello (128 when adaptive) less
	// one for the renegotiation SCSV that TLS ≤ 1.2 hellos append.
	bundle int
	// bigOK is set once the server answered a hello with more than bundle suites.
	bigOK atomic.Bool

	// g13 carries TLS 1.3 group enumeration along the TLS 1.3 suite probes. Only the TLS 1.3
	// goroutine touches it.
	g13 groupRider

	refusedMu sync.Mutex
	refused   map[uint16]bool // versions refused outright (protocol_version …) on their first hello

	mu     sync.Mutex
	dh     []model.DHParams
	chains [][][]byte // distinct chains seen, by leaf
}

// Scan enumerates the protocol versions, cipher suites (with the server's order), key
// exchange groups and DHE parameters of one endpoint. Every connection comes from dial.
// It returns an error only when ctx ends; what went wrong per version is recorded in the
// facts.
func Scan(ctx context.Context, dial DialFunc, opts Options) (*model.TLSEngineFacts, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 3
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxSuitesPerHello < 0 {
		opts.MaxSuitesPerHello = 0
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = 64 << 10
	}
	if opts.FlightLimit <= 0 {
		opts.FlightLimit = 256 << 10
	}
	if len(opts.Versions) == 0 {
		opts.Versions = AllVersions
	}
	e := &engine{dial: dial, opts: opts, sem: make(chan struct{}, opts.Parallel), bundle: opts.MaxSuitesPerHello}
	e.g13 = groupRider{active: !opts.SkipGroups, all: groupIDs(func(g Group) bool { return g.TLS13 })}
	e.g13.remaining = slices.Clone(e.g13.all)
	if e.bundle == 0 {
		e.bundle = 128
	}
	e.bundle = max(1, e.bundle-1) // room for TLS_EMPTY_RENEGOTIATION_INFO_SCSV
	start := time.Now()
	facts := &model.TLSEngineFacts{}
	vers := make([]model.EngineVersion, len(opts.Versions))
	var groups13 []model.EngineGroup
	var groupsErr string
	// TLS 1.1 waits for TLS 1.2, whose suites let it be confirmed instead of enumerated; TLS
	// 1.0 and SSL 3.0 wait for TLS 1.1, and all three for TLS 1.3's suites: once the server
	// has shown a modern stack (TLS 1.2 or 1.3), an outright refusal of one version settles
	// every older one. SSL 2.0 waits for TLS 1.3's suites only. Everything else runs at once.
	var tls12 *model.EngineVersion
	var tls13ok bool
	tls12Done, tls11Done, tls13Done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	for v, ch := range map[uint16]chan struct{}{VersionTLS12: tls12Done, VersionTLS11: tls11Done, VersionTLS13: tls13Done} {
		if !slices.Contains(opts.Versions, v) || opts.Exhaustive {
			close(ch)
		}
	}
	// settled reports whether version v need not be probed: a modern server refused a newer
	// version outright.
	settled := func(v uint16) bool {
		modern := tls13ok || (tls12 != nil && tls12.Supported)
		if !modern {
			return false
		}
		for _, newer := range []uint16{VersionTLS12, VersionTLS11} {
			if newer > v && e.refusedVersion(newer) {
				return true
			}
		}
		return false
	}
	notProbed := func(v uint16) model.EngineVersion {
		return model.EngineVersion{Version: VersionName(v), VersionID: v, Inferred: true}
	}
	var wg sync.WaitGroup
	for i, v := range opts.Versions {
		wg.Go(func() {
			switch v {
			case VersionSSL20:
				// No TLS 1.3 implementation speaks SSL 2.0: OpenSSL removed it (1.1.0) before
				// adding TLS 1.3 (1.1.1), and GnuTLS, NSS, BoringSSL, LibreSSL, Go, Java,
				// Schannel and wolfSSL had none by then either. A server that answers TLS 1.3
				// settles it.
				<-tls13Done
				if tls13ok {
					vers[i] = notProbed(v)
				} else {
					vers[i] = e.enumSSLv2(ctx)
				}
			case VersionTLS13:
				vers[i] = e.enumTLS13(ctx)
				if !opts.Exhaustive {
					tls13ok = vers[i].Supported
					close(tls13Done)
				}
				if vers[i].Supported && !opts.SkipGroups {
					groups13, groupsErr = e.enumGroups13(ctx)
				}
			case VersionTLS12:
				vers[i] = e.enumTLS(ctx, v, nil)
				if !opts.Exhaustive {
					tls12 = &vers[i]
					close(tls12Done)
				}
			case VersionTLS11:
				<-tls12Done
				<-tls13Done
				if settled(v) {
					vers[i] = notProbed(v)
				} else {
					vers[i] = e.enumTLS(ctx, v, tls12)
				}
				if !opts.Exhaustive {
					close(tls11Done)
				}
			default: // TLS 1.0, SSL 3.0
				<-tls12Done
				<-tls13Done
				<-tls11Done
				if settled(v) {
					vers[i] = notProbed(v)
					return
				}
				base := tls12
				if v == VersionSSL30 {
					base = nil // rarely spoken: a direct refusal is cheaper than a confirmation
				}
				vers[i] = e.enumTLS(ctx, v, base)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	facts.Versions = vers
	switch {
	case groups13 != nil || groupsErr != "":
		facts.Groups, facts.GroupsError, facts.GroupsVersion = groups13, groupsErr, VersionName(VersionTLS13)
	case !opts.SkipGroups:
		// No TLS 1.3: enumerate the ECDHE curves of the newest version with an ECDHE suite.
		for i := len(vers) - 1; i >= 0; i-- {
			if g, gerr, ok := e.enumGroupsECDHE(ctx, vers[i]); ok {
				facts.Groups, facts.GroupsError, facts.GroupsVersion = g, gerr, vers[i].Version
				break
			}
		}
	}
	if opts.SignatureAlgorithms {
		for _, ev := range vers {
			if ev.VersionID == VersionTLS12 {
				facts.SignatureAlgorithms, facts.SignatureAlgorithmsError = e.enumSigAlgs(ctx, ev)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	facts.DH = e.dh
	facts.Chains = e.chains
	facts.Connections = int(e.conns.Load())
	facts.Duration = time.Since(start)
	return facts, nil
}

// acquire takes a connection slot.
func (e *engine) acquire(ctx context.Context) bool {
	select {
	case e.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *engine) release() { <-e.sem }

func (e *engine) probe(ctx context.Context, ch *ClientHello, wantKX bool) probeResult {
	if !e.acquire(ctx) {
		return probeResult{err: ctx.Err()}
	}
	defer e.release()
	r := e.probeTLS(ctx, ch, wantKX)
	if len(r.certs) > 0 {
		e.keepChain(r.certs)
	}
	return r
}

// keepChain records a chain the server sent, once per leaf, up to maxChains.
func (e *engine) keepChain(chain [][]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.chains {
		if bytes.Equal(c[0], chain[0]) {
			return
		}
	}
	if len(e.chains) < maxChains {
		e.chains = append(e.chains, chain)
	}
}

// baseHello returns a hello for version v (TLS 1.3 uses supported_versions) offering suites.
func (e *engine) baseHello(v uint16, suites []uint16) *ClientHello {
	ch := &ClientHello{Version: v, Suites: suites}
	_, _ = rand.Read(ch.Random[:])
	if v == VersionSSL30 {
		ch.NoExtensions = true
		ch.RenegotiationSCSV = true
		return ch
	}
	if net.ParseIP(e.opts.ServerName) == nil { // RFC 6066: SNI carries host names, never addresses
		ch.ServerName = e.opts.ServerName
	}
	ch.ALPN = e.opts.ALPN
	ch.RenegotiationSCSV = v <= VersionTLS12
	ch.Pad = true
	if v == VersionTLS13 {
		ch.Version = VersionTLS12
		ch.SessionID = make([]byte, 32)
		_, _ = rand.Read(ch.SessionID)
		ch.SupportedVersions = []uint16{VersionTLS13}
		ch.SendKeyShare = true // empty: the server answers HelloRetryRequest with its group
		ch.Groups = groupIDs(func(g Group) bool { return g.TLS13 })
		ch.SigSchemes = sigSchemeIDs(true)
		return ch
	}
	ch.Groups = groupIDs(func(g Group) bool { return g.Kind == "ec" || g.Kind == "ff" })
	ch.PointFormats = true
	if v == VersionTLS12 {
		ch.SigSchemes = sigSchemeIDs(false)
	}
	return ch
}

func groupIDs(keep func(Group) bool) []uint16 {
	var out []uint16
	for _, g := range preferredGroupOrder() {
		if keep(g) {
			out = append(out, g.ID)
		}
	}
	return out
}

// preferredGroupOrder lists the registry with the groups servers actually use first, so a
// server that follows the client's order still answers with a common group.
func preferredGroupOrder() []Group {
	gs := Groups()
	rank := func(g Group) int {
		switch g.Kind {
		case "hybrid":
			return 0
		case "ec":
			if g.TLS13 && g.ID <= 30 {
				return 1
			}
			return 3
		case "ff":
			return 2
		}
		return 4
	}
	sort.SliceStable(gs, func(i, j int) bool { return rank(gs[i]) < rank(gs[j]) })
	return gs
}

func sigSchemeIDs(tls13 bool) []uint16 {
	var out []uint16
	for _, s := range sigSchemes {
		if tls13 && (s.ID>>8 <= 0x03 || s.ID&0xff == 0x02 && s.ID>>8 < 0x07) {
			continue // TLS 1.3 hellos list no MD5, SHA-1 or SHA-224 schemes and no DSA
		}
		out = append(out, s.ID)
	}
	return out
}

// candidates returns the suites worth offering in version v, split into bundles of at most
// max suites: suites common servers implement first. Inside a bundle the weakest suites come
// first (highest code point first among equals), so that a server imposing its own
// (strong-first) order shows it at once.
func candidates(v uint16, max int) [][]uint16 {
	var all []Suite
	for _, s := range suites {
		switch {
		case v == VersionTLS13 && !s.TLS13():
			continue
		case v != VersionTLS13 && (s.TLS13() || s.MinVersion > v):
			continue
		case v == VersionSSL30 && s.MinVersion != VersionSSL30:
			continue
		case s.ID == 0x0000: // TLS_NULL_WITH_NULL_NULL is the initial state, never negotiable
			continue
		}
		all = append(all, s)
	}
	sort.SliceStable(all, func(i, j int) bool { return commonness(all[i]) < commonness(all[j]) })
	var bundles [][]uint16
	for len(all) > 0 {
		n := min(max, len(all))
		b := slices.Clone(all[:n])
		all = all[n:]
		// Weakest first, and within a class the highest code point first: both the opposite
		// of how servers usually rank suites, so a server imposing its own order shows it.
		sort.SliceStable(b, func(i, j int) bool {
			if strengthRank(b[i]) != strengthRank(b[j]) {
				return strengthRank(b[i]) < strengthRank(b[j])
			}
			return b[i].ID > b[j].ID
		})
		ids := make([]uint16, len(b))
		for i, s := range b {
			ids[i] = s.ID
		}
		// The suite servers most often accept goes last: a server following the client's
		// order that takes it has then refused every other suite offered, which ends the
		// enumeration without a final refused hello (see enumBundles).
		if i := slices.Index(ids, lastSuite); i >= 0 {
			ids = append(slices.Delete(ids, i, i+1), lastSuite)
		}
		bundles = append(bundles, ids)
	}
	return bundles
}

// lastSuite is TLS_RSA_WITH_AES_128_CBC_SHA, the suite TLS 1.2 makes mandatory to implement
// (RFC 5246, section 9) and the one TLS 1.0 to 1.2 servers most often accept.
const lastSuite = 0x002f

// commonness ranks suites by how likely a server is to implement them: 0 for the RSA, DHE and
// ECDHE suites with AES, ChaCha20, 3DES, RC4 or DES that every mainstream library has (or had),
// 1 for other ciphers and anonymous or DSS suites, 2 for PSK, SRP, Kerberos, GOST, static DH and
// draft code points.
func commonness(s Suite) int {
	if strings.HasSuffix(s.Name, "_OLD") || strings.Contains(s.Name, "FIPS") {
		return 2
	}
	switch s.Kx {
	case "RSA", "DHE", "ECDHE", "any":
	default:
		return 2
	}
	switch s.Auth {
	case "RSA", "ECDSA", "any":
	case "DSS", "anon":
		return 1
	default:
		return 2
	}
	switch s.Cipher {
	case "AES", "ChaCha20", "3DES", "RC4", "DES":
		return 0
	case "Camellia", "ARIA", "SEED", "IDEA", "RC2", "NULL":
		return 1
	}
	return 2
}

func strengthRank(s Suite) int {
	switch s.Strength {
	case StrengthInsecure:
		return 0
	case StrengthWeak:
		return 1
	case StrengthSecure:
		return 2
	}
	return 3
}

// pick is one suite the server chose during enumeration.
type pick struct {
	suite  uint16
	bundle int
	index  int // position in the offered bundle
	group  string
	dhBits int
}

// enumSuites runs the offer / remove-chosen loop for one version.
func (e *engine) enumSuites(ctx context.Context, v uint16, ev *model.EngineVersion) []pick {
	// A large hello is tried first, except for SSL 3.0 when the server has not yet shown it
	// reads large hellos: SSL 3.0 servers are old enough to choke on them, and modern servers
	// refuse SSL 3.0 with a handshake_failure that would prove nothing.
	if e.opts.MaxSuitesPerHello == 0 && (v != VersionSSL30 || e.bigOK.Load()) {
		if all := candidates(v, math.MaxInt); len(all[0]) > e.bundle {
			picks, definite := e.enumBundles(ctx, v, all, ev)
			if len(picks) > 0 || definite || ev.Error != "" || e.bigOK.Load() {
				// A server known to read large hellos refused this one for what it offers.
				return picks
			}
			// The server refused the large hello, perhaps only for its size: ask in bundles.
		}
	}
	picks, _ := e.enumBundles(ctx, v, candidates(v, e.bundle), ev)
	return picks
}

// enumBundles offers each bundle and removes the chosen suite until the server refuses.
// definite is true when the first answer proved the version is not spoken at all.
func (e *engine) enumBundles(ctx context.Context, v uint16, bundles [][]uint16, ev *model.EngineVersion) (_ []pick, definite bool) {
	var picks []pick
	// clientOrder is set once the server took a remaining suite over the first-taken one
	// (its favourite, were it imposing its own order): it follows the client's order, so a
	// suite it takes is the first of the offer it accepts and every one before it is refused.
	// Dropping those as well ends the enumeration without a final refused hello when the
	// last suite offered is accepted.
	clientOrder := false
	for bi, bundle := range bundles {
		remaining := slices.Clone(bundle)
		for len(remaining) > 0 {
			offer := remaining
			// While the server has taken our suites in our order (three or more: fewer are often
			// in our order by chance), append the last and the
			// first suite it took, in that order. A server following the client's order takes
			// a remaining suite if it accepts one, else the last-taken one: that both ends the
			// enumeration and proves client order, saving the separate preference probe. A
			// server with its own order takes the first-taken one, its favourite.
			var last, first uint16
			if len(bundles) == 1 && len(picks) >= 3 && ev.Preference == "" && ascending(picks) &&
				(e.opts.MaxSuitesPerHello == 0 || len(remaining)+2 <= e.bundle) {
				last, first = picks[len(picks)-1].suite, picks[0].suite
				offer = append(slices.Clone(remaining), last, first)
			}
			r := e.probeSuites(ctx, v, offer, ev)
			if r.sh != nil && last != 0 && r.sh.Version() == v {
				switch r.sh.Suite {
				case last:
					ev.Preference = "client"
					return picks, false // and nothing else is accepted
				case first:
					ev.Preference = "server"
					continue
				default:
					if slices.Contains(remaining, r.sh.Suite) {
						ev.Preference = "client"
						clientOrder = true
					}
				}
			}
			if r.err != nil {
				ev.Error = r.err.Error()
				return picks, false
			}
			if r.refused != nil {
				if len(picks) == 0 && versionRefusal(r) {
					e.markRefused(v)
					return nil, true // the version is not spoken
				}
				break
			}
			if len(remaining) > e.bundle {
				e.bigOK.Store(true)
			}
			sh := r.sh
			if got := sh.Version(); got != v {
				if len(picks) == 0 {
					return nil, true // the server answered with another version: v is not spoken
				}
				ev.Error = fmt.Sprintf("server answered %s after accepting %s", VersionName(got), VersionName(v))
				return picks, false
			}
			idx := slices.Index(remaining, sh.Suite)
			if idx < 0 {
				ev.Error = fmt.Sprintf("server chose suite 0x%04x that was not offered", sh.Suite)
				return picks, false
			}
			p := pick{suite: sh.Suite, bundle: bi, index: slices.Index(bundle, sh.Suite)}
			if sh.HelloRetryRequest || v == VersionTLS13 {
				if sh.KeyShareGroup != 0 {
					g, _ := LookupGroup(sh.KeyShareGroup)
					p.group = g.Name
				}
			}
			e.recordKX(v, sh.Suite, r, &p)
			if r.kxErr != nil && ev.KeyExchangeError == "" {
				ev.KeyExchangeError = r.kxErr.Error()
			}
			picks = append(picks, p)
			if clientOrder {
				remaining = slices.Delete(remaining, 0, idx+1) // the ones before it are refused
				// What other handshakes already saw accepted need not be asked again.
				remaining, picks = e.takeKnown(v, bi, bundle, remaining, picks)
			} else {
				remaining = slices.Delete(remaining, idx, idx+1)
			}
		}
	}
	return picks, false
}

// recordKX notes the key exchange parameters a ServerKeyExchange revealed.
func (e *engine) recordKX(v, suite uint16, r probeResult, p *pick) {
	if r.kx == nil {
		return
	}
	if r.kx.P != nil {
		p.dhBits = r.kx.P.BitLen()
		s, _ := LookupSuite(suite)
		d := model.DHParams{Version: VersionName(v), Suite: s.Name, PrimeBits: p.dhBits, Known: KnownPrime(r.kx.P)}
		if r.kx.G.IsInt64() {
			d.Generator = r.kx.G.Int64()
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, have := range e.dh {
			if have.PrimeBits == d.PrimeBits && have.Known == d.Known && have.Version == d.Version {
				return // one entry per distinct group and version is enough
			}
		}
		e.dh = append(e.dh, d)
		return
	}
	g, _ := LookupGroup(r.kx.Curve)
	p.group = g.Name
}

// ascending reports whether the server took the suites in the order we offered them (within
// each bundle): what a server following the client's order does.
func ascending(picks []pick) bool {
	for i := 1; i < len(picks); i++ {
		if picks[i].bundle == picks[i-1].bundle && picks[i].index < picks[i-1].index {
			return false
		}
	}
	return true
}

// strongestFirst orders the suites of a client-order server, whose order found is only ours.
func strongestFirst(picks []pick) []pick {
	sort.SliceStable(picks, func(i, j int) bool {
		a, _ := LookupSuite(picks[i].suite)
		b, _ := LookupSuite(picks[j].suite)
		if strengthRank(a) != strengthRank(b) {
			return strengthRank(a) > strengthRank(b)
		}
		return a.ID < b.ID
	})
	return picks
}

// order decides the server's preference and returns the suites in it. It may spend one more
// connection when the enumeration alone cannot tell server order from client order, and more
// when suites from several bundles must be ranked against each other.
func (e *engine) order(ctx context.Context, v uint16, picks []pick, ev *model.EngineVersion) []pick {
	if len(picks) < 2 {
		return picks
	}
	if ev.Preference == "client" {
		return strongestFirst(picks)
	}
	server := ev.Preference == "server" || !ascending(picks)
	if !server {
		// The server took our suites in our order: offer them reversed. A server with its
		// own order picks the same first suite again; one following ours picks the last.
		ids := make([]uint16, 0, len(picks))
		for i := len(picks) - 1; i >= 0 && len(ids) < e.bundle; i-- {
			ids = append(ids, picks[i].suite)
		}
		r := e.probeSuites(ctx, v, ids, ev)
		switch {
		case r.sh == nil:
			if r.err != nil {
				ev.Error = "preference probe: " + r.err.Error()
			}
			return picks
		case r.sh.Suite == ids[0]:
			ev.Preference = "client"
			return strongestFirst(picks)
		case r.sh.Suite == picks[0].suite:
			server = true
		default:
			return picks
		}
	}
	ev.Preference = "server"
	multi := false
	for _, p := range picks {
		if p.bundle != picks[0].bundle {
			multi = true
		}
	}
	if !multi || len(picks) > e.bundle || !server {
		return picks
	}
	// Suites came from several bundles: rank them all against each other.
	remaining := make([]uint16, len(picks))
	byID := map[uint16]pick{}
	for i, p := range picks {
		remaining[i] = p.suite
		byID[p.suite] = p
	}
	var out []pick
	for spansBundles(remaining, byID) {
		r := e.probeSuites(ctx, v, remaining, ev)
		if r.sh == nil || !slices.Contains(remaining, r.sh.Suite) {
			return picks
		}
		out = append(out, byID[r.sh.Suite])
		remaining = slices.DeleteFunc(remaining, func(id uint16) bool { return id == r.sh.Suite })
	}
	// What is left came from one bundle, whose order the enumeration already showed.
	for _, id := range remaining {
		out = append(out, byID[id])
	}
	return out
}

// spansBundles reports whether ids came from more than one bundle.
func spansBundles(ids []uint16, byID map[uint16]pick) bool {
	for _, id := range ids {
		if byID[id].bundle != byID[ids[0]].bundle {
			return true
		}
	}
	return false
}

func (e *engine) enumTLS(ctx context.Context, v uint16, base *model.EngineVersion) model.EngineVersion {
	ev := model.EngineVersion{Version: VersionName(v), VersionID: v}
	if base != nil && base.Supported && base.Error == "" {
		if done := e.confirm(ctx, v, *base, &ev); done {
			return ev
		}
		// The inference did not hold: enumerate this version suite by suite.
		conns := ev.Connections
		ev = model.EngineVersion{Version: VersionName(v), VersionID: v, Connections: conns}
	}
	picks := e.enumSuites(ctx, v, &ev)
	if len(picks) == 0 {
		return ev
	}
	ev.Supported = true
	picks = e.order(ctx, v, picks, &ev)
	ev.Suites = engineSuites(picks)
	return ev
}

// enumTLS13 enumerates TLS 1.3 suites (and, riding along, groups: see groupRider).
func (e *engine) enumTLS13(ctx context.Context) model.EngineVersion {
	ev := model.EngineVersion{Version: VersionName(VersionTLS13), VersionID: VersionTLS13}
	picks := e.enumSuites(ctx, VersionTLS13, &ev)
	if len(picks) == 0 {
		return ev
	}
	ev.Supported = true
	picks = e.order(ctx, VersionTLS13, picks, &ev)
	ev.Suites = engineSuites(picks)
	for i := range ev.Suites {
		ev.Suites[i].Group = "" // the group is a property of the connection, reported in Groups
	}
	return ev
}

func engineSuites(picks []pick) []model.EngineSuite {
	out := make([]model.EngineSuite, 0, len(picks))
	for _, p := range picks {
		s, _ := LookupSuite(p.suite)
		f := s.Facts()
		f.Group, f.DHBits = p.group, p.dhBits
		out = append(out, f)
	}
	return out
}

func engineGroup(id uint16) model.EngineGroup {
	g, _ := LookupGroup(id)
	return model.EngineGroup{ID: id, Name: g.Name, Hybrid: g.Kind == "hybrid", PostQuantum: g.Kind == "hybrid" || g.Kind == "pq", Bits: g.Bits}
}

// groupRider enumerates TLS 1.3 groups on the connections that enumerate TLS 1.3 suites:
// each HelloRetryRequest names a suite and a group, so every suite probe offers only the
// groups not yet seen. When such a probe is refused, it is asked again with every group: if
// that one is answered, the remaining groups were the cause and group enumeration is done.
type groupRider struct {
	active    bool
	all       []uint16
	remaining []uint16
	found     []uint16
	done      bool // no remaining group is accepted
	err       string
}

// offer returns the groups to offer and whether that is a partial list.
func (g *groupRider) offer() ([]uint16, bool) {
	if !g.active || g.done || len(g.remaining) == 0 || len(g.remaining) == len(g.all) {
		return g.all, false
	}
	return g.remaining, true
}

// saw records the group of a HelloRetryRequest answering an offer of offered.
func (g *groupRider) saw(id uint16, offered []uint16) {
	if !g.active || id == 0 {
		return
	}
	if !slices.Contains(offered, id) {
		g.err = fmt.Sprintf("server chose group 0x%04x that was not offered", id)
		return
	}
	if i := slices.Index(g.remaining, id); i >= 0 {
		g.found = append(g.found, id)
		g.remaining = slices.Delete(g.remaining, i, i+1)
	}
}

// probeSuites offers suites in version v and counts the connections in ev. TLS 1.3 probes
// carry the group enumeration.
func (e *engine) probeSuites(ctx context.Context, v uint16, suites []uint16, ev *model.EngineVersion) probeResult {
	ch := e.baseHello(v, suites)
	var partial bool
	if v == VersionTLS13 {
		ch.Groups, partial = e.g13.offer()
	}
	r := e.probe(ctx, ch, v <= VersionTLS12)
	ev.Connections++
	if partial && r.refused != nil {
		// No offered suite, or no offered group, is accepted. In TLS 1.3 the two are
		// independent: offer every suite with the same groups. An answer names one more group
		// and shows the suites were at fault; a refusal ends the groups, and the suites are
		// asked again with every group.
		cg := e.baseHello(v, candidates(VersionTLS13, math.MaxInt)[0])
		cg.Groups = e.g13.remaining
		rg := e.probe(ctx, cg, false)
		ev.Connections++
		switch {
		case rg.err != nil:
			e.g13.err = rg.err.Error()
		case rg.sh != nil:
			e.g13.saw(rg.sh.KeyShareGroup, cg.Groups)
			return r
		default:
			e.g13.done = true
		}
		ch = e.baseHello(v, suites)
		r = e.probe(ctx, ch, false)
		ev.Connections++
	}
	if v == VersionTLS13 && r.sh != nil {
		e.g13.saw(r.sh.KeyShareGroup, ch.Groups)
	}
	return r
}

// enumGroups13 finishes the TLS 1.3 group enumeration the suite probes started: with an
// empty key_share the server names its choice in a HelloRetryRequest; remove it and ask again
// until the server refuses.
func (e *engine) enumGroups13(ctx context.Context) ([]model.EngineGroup, string) {
	g := &e.g13
	suites13 := candidates(VersionTLS13, math.MaxInt)[0]
	for !g.done && g.err == "" && len(g.remaining) > 0 {
		ch := e.baseHello(VersionTLS13, suites13)
		ch.Groups = g.remaining
		r := e.probe(ctx, ch, false)
		if r.err != nil {
			g.err = r.err.Error()
			break
		}
		if r.sh == nil {
			break
		}
		if r.sh.Version() != VersionTLS13 {
			g.err = "server left TLS 1.3 during group enumeration"
			break
		}
		n := len(g.found)
		g.saw(r.sh.KeyShareGroup, ch.Groups)
		if len(g.found) == n && g.err == "" {
			g.err = "server named no new group"
		}
	}
	out := []model.EngineGroup{}
	for _, id := range g.found {
		out = append(out, engineGroup(id))
	}
	return out, g.err
}

// enumGroupsECDHE finds the ECDHE curves of a TLS ≤ 1.2 version by offering its accepted
// ECDHE suites and reading the curve from each ServerKeyExchange. ok is false when the version
// has no ECDHE suite.
func (e *engine) enumGroupsECDHE(ctx context.Context, ev model.EngineVersion) ([]model.EngineGroup, string, bool) {
	if !ev.Supported || ev.VersionID == VersionTLS13 || ev.VersionID == VersionSSL20 {
		return nil, "", false
	}
	var ecdhe []uint16
	for _, s := range ev.Suites {
		if s.KeyExchange == "ECDHE" {
			ecdhe = append(ecdhe, s.ID)
		}
	}
	if len(ecdhe) == 0 {
		return nil, "", false
	}
	remaining := groupIDs(func(g Group) bool { return g.Kind == "ec" })
	out := []model.EngineGroup{}
	for len(remaining) > 0 {
		ch := e.baseHello(ev.VersionID, ecdhe)
		ch.Groups = remaining
		r := e.probe(ctx, ch, true)
		if r.err != nil {
			return out, r.err.Error(), true
		}
		if r.sh == nil {
			break
		}
		if r.kx == nil {
			msg := "no server key exchange"
			if r.kxErr != nil {
				msg = r.kxErr.Error()
			}
			return out, msg, true
		}
		g := r.kx.Curve
		if !slices.Contains(remaining, g) {
			return out, fmt.Sprintf("server chose curve 0x%04x that was not offered", g), true
		}
		out = append(out, engineGroup(g))
		remaining = slices.DeleteFunc(remaining, func(id uint16) bool { return id == g })
	}
	return out, "", true
}

// enumSSLv2 sends one SSL 2.0 hello: the SERVER-HELLO lists every cipher kind at once.
func (e *engine) enumSSLv2(ctx context.Context) model.EngineVersion {
	ev := model.EngineVersion{Version: VersionName(VersionSSL20), VersionID: VersionSSL20}
	if !e.acquire(ctx) {
		ev.Error = ctx.Err().Error()
		return ev
	}
	sh, r := e.probeSSLv2(ctx)
	e.release()
	ev.Connections = 1
	if r.err != nil {
		ev.Error = r.err.Error()
		return ev
	}
	if sh == nil || sh.Version != VersionSSL20 || len(sh.Kinds) == 0 {
		return ev
	}
	ev.Supported = true
	for _, k := range sh.Kinds {
		s, ok := LookupSSLv2Suite(k)
		if !ok {
			s = SSLv2Suite{ID: k, Name: fmt.Sprintf("SSL_CK_0x%06x", k)}
		}
		// SSL 2.0 cipher kinds are three bytes wide and do not fit ID; the name identifies them.
		ev.Suites = append(ev.Suites, model.EngineSuite{
			Name: s.Name, OpenSSLName: s.OpenSSL, KeyExchange: "RSA", Auth: "RSA",
			Cipher: s.Cipher, Bits: s.Bits, Mode: s.Mode, MAC: s.MAC, Export: s.Export, Strength: string(StrengthInsecure),
		})
	}
	return ev
}

// enumSigAlgs finds the signature schemes a TLS 1.2 server signs its ServerKeyExchange with:
// offer its authenticated (EC)DHE suites, read the scheme it used, withdraw that scheme and
// ask again until it refuses. A server holding RSA and ECDSA certificates moves from one to
// the other as the schemes for the first run out.
func (e *engine) enumSigAlgs(ctx context.Context, ev model.EngineVersion) ([]string, string) {
	if !ev.Supported {
		return nil, ""
	}
	var kxSuites []uint16
	for _, s := range ev.Suites {
		if (s.KeyExchange == "ECDHE" || s.KeyExchange == "DHE") && (s.Auth == "RSA" || s.Auth == "ECDSA" || s.Auth == "DSS") {
			kxSuites = append(kxSuites, s.ID)
		}
	}
	if len(kxSuites) == 0 {
		return nil, ""
	}
	remaining := sigSchemeIDs(false)
	var out []string
	for len(remaining) > 0 {
		ch := e.baseHello(VersionTLS12, kxSuites)
		ch.SigSchemes = remaining
		r := e.probe(ctx, ch, true)
		if r.err != nil {
			return out, r.err.Error()
		}
		if r.sh == nil {
			break
		}
		if r.kx == nil {
			if r.kxErr != nil {
				return out, r.kxErr.Error()
			}
			return out, "no server key exchange"
		}
		sig := r.kx.SigScheme
		if !slices.Contains(remaining, sig) {
			return out, fmt.Sprintf("server signed with %s, which was not offered", SignatureSchemeName(sig))
		}
		out = append(out, SignatureSchemeName(sig))
		remaining = slices.DeleteFunc(remaining, func(id uint16) bool { return id == sig })
	}
	return out, ""
}

// markRefused records that the server refused version v outright.
func (e *engine) markRefused(v uint16) {
	e.refusedMu.Lock()
	defer e.refusedMu.Unlock()
	if e.refused == nil {
		e.refused = map[uint16]bool{}
	}
	e.refused[v] = true
}

func (e *engine) refusedVersion(v uint16) bool {
	e.refusedMu.Lock()
	defer e.refusedMu.Unlock()
	return e.refused[v]
}

// versionRefusal reports whether the server's refusal of the first hello for a version says
// the version itself is not spoken. protocol_version says so; OpenSSL answers internal_error
// when its configuration leaves no protocol ("no protocols available"); insufficient_security
// is a refusal of the whole offer. handshake_failure, a decode error or a silent close can
// also mean "no suite in common", or, for a large hello, "too many suites", so they do not.
func versionRefusal(r probeResult) bool {
	a := r.alert()
	if a == nil {
		return false
	}
	switch a.Description {
	case alertProtocolVersion:
		return true
	case alertInternalError, alertInsufficientSecure:
		return true
	}
	return false
}

// confirm tries to settle version v (TLS 1.0 or 1.1) from TLS 1.2's result in two
// connections instead of one per suite. Servers choose suites independently of the version
// apart from the versions a suite is defined for, so v should accept exactly base's suites
// that exist in v, in the same order. The engine checks the server's first choice among them
// and that none of the other candidates is accepted; if either check fails, it returns false
// and the caller enumerates v in full.
func (e *engine) confirm(ctx context.Context, v uint16, base model.EngineVersion, ev *model.EngineVersion) bool {
	var inferred []model.EngineSuite
	var ids []uint16
	for _, s := range base.Suites {
		if rs, ok := LookupSuite(s.ID); ok && rs.MinVersion <= v {
			s.Group, s.DHBits = "", 0
			inferred = append(inferred, s)
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 || len(ids) > e.bundle {
		return false
	}
	offer := slices.Clone(ids)
	slices.SortStableFunc(offer, func(a, b uint16) int { // our usual order: weakest first
		sa, _ := LookupSuite(a)
		sb, _ := LookupSuite(b)
		return strengthRank(sa) - strengthRank(sb)
	})
	r := e.probe(ctx, e.baseHello(v, offer), true)
	ev.Connections++
	switch {
	case r.err != nil:
		ev.Error = r.err.Error()
		return true
	case r.refused != nil:
		if versionRefusal(r) {
			e.markRefused(v)
			return true // v is not spoken
		}
		return false
	case r.sh.Version() != v:
		return true // the server answered an older version: v is not spoken
	}
	want := ids[0]
	if base.Preference == "client" {
		want = offer[0]
	}
	if r.sh.Suite != want {
		return false
	}
	p := pick{suite: r.sh.Suite}
	e.recordKX(v, r.sh.Suite, r, &p)
	// Every other candidate must be refused.
	var rest []uint16
	for _, b := range candidates(v, math.MaxInt) {
		for _, id := range b {
			if !slices.Contains(ids, id) {
				rest = append(rest, id)
			}
		}
	}
	size := e.bundle
	if e.bigOK.Load() && e.opts.MaxSuitesPerHello == 0 {
		size = len(rest)
	}
	for len(rest) > 0 {
		n := min(size, len(rest))
		r := e.probe(ctx, e.baseHello(v, rest[:n]), false)
		ev.Connections++
		if r.err != nil {
			ev.Error = r.err.Error()
			return true
		}
		if r.refused == nil {
			return false // v accepts a suite TLS 1.2 does not: enumerate it
		}
		rest = rest[n:]
	}
	ev.Supported = true
	ev.Inferred = true
	ev.Preference = base.Preference
	inferred[0].Group, inferred[0].DHBits = p.group, p.dhBits
	ev.Suites = inferred
	return true
}
