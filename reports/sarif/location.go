package sarif

import (
	"net/netip"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampart-scan/rampart/model"
)

// DefaultTargetsFile is the repository-relative path findings point at when the target that
// brought their endpoint in did not come from a file inside the repository (command-line
// arguments, stdin, a file outside the checkout). See docs/sarif.md.
const DefaultTargetsFile = "rampart-targets.txt"

// anchor is where a finding points: a repository-relative file, a line, and what is there.
type anchor struct {
	uri       string
	line      int
	endColumn int
	// via names the input that brought the asset in, for the location message.
	via string
}

// locator maps assets (endpoint IDs, "domain:<name>") to anchors in repository files.
type locator struct {
	opts      Options
	bySource  map[string]model.Target
	byHost    map[string]model.Target
	endpoints map[string]model.Endpoint
}

func newLocator(scan *model.ScanResult, opts Options) *locator {
	l := &locator{
		opts:      opts,
		bySource:  map[string]model.Target{},
		byHost:    map[string]model.Target{},
		endpoints: map[string]model.Endpoint{},
	}
	for _, t := range scan.Targets {
		if t.Source != "" {
			l.bySource[t.Source] = t
		}
		if t.Host != "" {
			if _, seen := l.byHost[t.Host]; !seen {
				l.byHost[t.Host] = t
			}
		}
	}
	for _, er := range scan.Endpoints {
		e := er.Observation.Endpoint
		l.endpoints[e.ID()] = e
	}
	// A node group (the addresses behind one name) is located where its first member was
	// brought in: the same target line as the name's endpoints.
	for _, n := range scan.Nodes {
		for _, id := range n.Group.Endpoints {
			if e, ok := l.endpoints[id]; ok {
				l.endpoints[n.Group.ID()] = e
				break
			}
		}
	}
	return l
}

// assetTarget finds the target that brought an asset in, if any, and the source string.
func (l *locator) assetTarget(asset string) (model.Target, string, bool) {
	if name, ok := strings.CutPrefix(asset, "domain:"); ok {
		t, found := l.byHost[name]
		return t, t.Source, found
	}
	e, ok := l.endpoints[asset]
	if !ok {
		_, host, _ := splitAsset(asset)
		t, found := l.byHost[host]
		return t, t.Source, found
	}
	if e.Source != "" {
		if t, found := l.bySource[e.Source]; found {
			return t, e.Source, true
		}
		if file, line, ok := splitSource(e.Source); ok {
			return model.Target{Source: e.Source, File: file, Line: line}, e.Source, true
		}
	}
	if e.Name != "" {
		if t, found := l.byHost[e.Name]; found {
			return t, t.Source, true
		}
	}
	for _, t := range l.bySource {
		if (t.Kind == model.TargetIP && t.Addr == e.Addr.Addr()) ||
			(t.Kind == model.TargetCIDR && t.Prefix.IsValid() && t.Prefix.Contains(e.Addr.Addr())) {
			return t, t.Source, true
		}
	}
	return model.Target{}, e.Source, false
}

// locate returns the anchor of an asset.
func (l *locator) locate(asset string) anchor {
	t, via, ok := l.assetTarget(asset)
	a := anchor{uri: l.fallbackURI(), line: 1, endColumn: 1, via: via}
	if !ok {
		return a
	}
	if t.Line > 0 {
		a.line = t.Line
	}
	if n := utf8.RuneCountInString(t.Raw); n > 0 {
		a.endColumn = n + 1
	}
	if t.File == "" {
		// Command-line arguments and stdin: line N of the fallback file is target N.
		return a
	}
	if uri, ok := l.repoURI(t.File); ok {
		a.uri = uri
		return a
	}
	return a
}

// fallbackURI is the repository-relative path used when no input file can be pointed at.
func (l *locator) fallbackURI() string {
	f := l.opts.TargetsFile
	if f == "" {
		f = DefaultTargetsFile
	}
	if uri, ok := l.repoURI(f); ok {
		return uri
	}
	return DefaultTargetsFile
}

// repoURI turns a file name as the user gave it into a repository-relative URI reference,
// or reports that it lies outside the repository.
func (l *locator) repoURI(file string) (string, bool) {
	p := filepath.FromSlash(file)
	if !filepath.IsAbs(p) && l.opts.WorkDir != "" && l.opts.RepoRoot != "" {
		p = filepath.Join(l.opts.WorkDir, p)
	}
	if filepath.IsAbs(p) {
		if l.opts.RepoRoot == "" {
			return "", false
		}
		rel, err := filepath.Rel(l.opts.RepoRoot, p)
		if err != nil {
			return "", false
		}
		p = rel
	}
	p = path.Clean(filepath.ToSlash(p))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", false
	}
	// url.URL escapes spaces and '%', and prefixes "./" when the first segment holds a colon
	// (which would otherwise read as a scheme, e.g. "mail.example.org:465/…").
	return (&url.URL{Path: p}).String(), true
}

// splitSource splits "file:line" into its parts; "args:2" and "stdin:3" are not files.
func splitSource(src string) (string, int, bool) {
	i := strings.LastIndexByte(src, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(src[i+1:])
	if err != nil || n < 1 {
		return "", 0, false
	}
	file := src[:i]
	if file == "args" || file == "stdin" || file == "-" {
		return "", n, false
	}
	return file, n, true
}

// splitAsset splits an endpoint ID "service://host@addr:port" (see model.Endpoint.ID) or a
// domain asset "domain:<name>" into service, host and address.
func splitAsset(asset string) (service, host, addr string) {
	if name, ok := strings.CutPrefix(asset, "domain:"); ok {
		return "", name, ""
	}
	service, rest, ok := strings.Cut(asset, "://")
	if !ok {
		return "", asset, ""
	}
	host, addr, _ = strings.Cut(rest, "@")
	return service, host, addr
}

// logical names the asset for SARIF consumers that show logical locations.
func (l *locator) logical(asset string) logicalLocation {
	if name, ok := strings.CutPrefix(asset, "domain:"); ok {
		return logicalLocation{Name: name, FullyQualifiedName: asset, Kind: "namespace"}
	}
	if e, ok := l.endpoints[asset]; ok {
		return logicalLocation{Name: e.HostPort(), FullyQualifiedName: asset, Kind: "resource"}
	}
	_, host, addr := splitAsset(asset)
	name := host
	if ap, err := netip.ParseAddrPort(addr); err == nil && host != "" {
		name = host + ":" + strconv.Itoa(int(ap.Port()))
	}
	return logicalLocation{Name: name, FullyQualifiedName: asset, Kind: "resource"}
}

// describe is the human name of an asset used in messages: "mail.example.org:465 (smtp, 192.0.2.7)".
func (l *locator) describe(asset string) string {
	if name, ok := strings.CutPrefix(asset, "domain:"); ok {
		return "domain " + name
	}
	if e, ok := l.endpoints[asset]; ok {
		svc := e.Service
		if svc == "" {
			svc = "tcp"
		}
		if e.Name != "" {
			return e.HostPort() + " (" + svc + ", " + e.Addr.Addr().String() + ")"
		}
		return e.HostPort() + " (" + svc + ")"
	}
	return l.logical(asset).Name
}
