// Package targets parses what a user asks Rampart to scan: command-line arguments, target files
// and standard input, one target a line. Parsing happens before any traffic, so a malformed
// line stops the run with an error that names the line.
package targets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/services"
)

// MaxCIDRAddresses bounds how many addresses one CIDR target may expand to.
const MaxCIDRAddresses = 1 << 16

// maxLine bounds one input line; longer lines are an error, not a silent truncation.
const maxLine = 4096

// Error is a parse error positioned at its input line.
type Error struct {
	Source string // "targets.txt:4", "args:2", "stdin:1"
	Input  string
	Reason string
}

func (e *Error) Error() string {
	in := e.Input
	if len(in) > 80 {
		in = in[:77] + "..."
	}
	return fmt.Sprintf("%s: %q: %s", e.Source, in, e.Reason)
}

// Parser parses target lines against a service registry.
type Parser struct {
	Services *services.Registry
}

// Parse parses one target. source names where it came from; file and line position it.
func (p *Parser) Parse(raw, source, file string, line int) (model.Target, error) {
	t := model.Target{Raw: raw, Source: source, File: file, Line: line}
	fail := func(format string, a ...any) (model.Target, error) {
		return model.Target{}, &Error{Source: source, Input: raw, Reason: fmt.Sprintf(format, a...)}
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return fail("empty target")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return fail("contains whitespace or a control character")
		}
	}
	if i := strings.Index(s, "://"); i >= 0 {
		scheme := strings.ToLower(s[:i])
		svc, ok := p.Services.ByName(scheme)
		if !ok {
			return fail("unknown service %q%s", scheme, p.suggest(scheme))
		}
		t.Service = svc.Name
		s = strings.TrimSuffix(s[i+3:], "/")
		if strings.ContainsAny(s, "/?#@") && !looksCIDR(s) {
			return fail("only scheme://host[:port] is accepted (no path, query or user)")
		}
	}
	if s == "" {
		return fail("missing host")
	}

	// CIDR: a.b.c.d/n or v6/n (optionally bracketed).
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(strings.Trim(s, "[]"))
		if err != nil {
			return fail("invalid CIDR: %v", unwrapNetip(err))
		}
		if pfx != pfx.Masked() {
			return fail("CIDR has host bits set (did you mean %s?)", pfx.Masked())
		}
		if bits := pfx.Addr().BitLen() - pfx.Bits(); bits > 16 {
			return fail("CIDR covers %s addresses; at most %d may be scanned in one block", addrCount(bits), MaxCIDRAddresses)
		}
		t.Kind, t.Prefix = model.TargetCIDR, pfx
		return t, nil
	}

	host, portStr, hasPort, err := splitHostPort(s)
	if err != nil {
		return fail("%v", err)
	}
	if hasPort {
		n, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || n == 0 {
			return fail("port %q out of range (1-65535)", portStr)
		}
		t.Port = uint16(n)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return fail("zoned IPv6 addresses are not supported")
		}
		t.Kind, t.Addr = model.TargetIP, a.Unmap()
		return t, nil
	}
	if strings.Contains(host, ":") {
		return fail("invalid IPv6 address (write [addr]:port for a port)")
	}
	name, err := NormalizeHostname(host)
	if err != nil {
		return fail("%v", err)
	}
	t.Host = name
	if hasPort || t.Service != "" {
		t.Kind = model.TargetHost
	} else {
		t.Kind = model.TargetDomain
	}
	return t, nil
}

func (p *Parser) suggest(scheme string) string {
	best, bestD := "", 3
	for _, s := range p.Services.All() {
		for _, n := range append([]string{s.Name}, s.Aliases...) {
			if d := levenshtein(scheme, n); d < bestD {
				best, bestD = n, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func looksCIDR(s string) bool {
	_, err := netip.ParsePrefix(strings.Trim(s, "[]"))
	return err == nil
}

func addrCount(bits int) string {
	if bits >= 63 {
		return fmt.Sprintf("2^%d", bits)
	}
	return strconv.FormatUint(1<<uint(bits), 10)
}

func unwrapNetip(err error) string {
	m := err.Error()
	if i := strings.LastIndex(m, ": "); i >= 0 {
		return m[i+2:]
	}
	return m
}

// splitHostPort splits host[:port], [v6][:port] and bare IPv6.
func splitHostPort(s string) (host, port string, hasPort bool, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", "", false, errors.New("missing ']' in IPv6 address")
		}
		host, rest := s[1:end], s[end+1:]
		if rest == "" {
			return host, "", false, nil
		}
		if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return "", "", false, errors.New("expected :port after ']'")
		}
		return host, rest[1:], true, nil
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", false, nil
	case 1:
		i := strings.IndexByte(s, ':')
		if i == len(s)-1 {
			return "", "", false, errors.New("empty port")
		}
		return s[:i], s[i+1:], true, nil
	default:
		return s, "", false, nil // bare IPv6; validated by the caller
	}
}

// NormalizeHostname lower-cases a DNS name, drops one trailing dot and checks its syntax
// (RFC 1123 labels; underscores allowed for service labels such as _xmpp-client).
func NormalizeHostname(h string) (string, error) {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "" {
		return "", errors.New("empty host name")
	}
	if len(h) > 253 {
		return "", errors.New("host name longer than 253 characters")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return "", errors.New("empty label in host name")
		}
		if len(label) > 63 {
			return "", fmt.Errorf("label %q longer than 63 characters", label[:20]+"…")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("invalid character %q in host name", c)
			}
		}
	}
	if allDigitsAndDots(h) {
		return "", errors.New("not a valid IPv4 address or host name")
	}
	return h, nil
}

func allDigitsAndDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// ParseArgs parses command-line arguments; the argument "-" is not handled here.
func (p *Parser) ParseArgs(args []string) ([]model.Target, error) {
	var out []model.Target
	for i, a := range args {
		t, err := p.Parse(a, fmt.Sprintf("args:%d", i+1), "", i+1)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseReader parses a target list: one target a line, blank lines and '#' comments (whole line
// or after the target) ignored. name is the file name used in positions ("stdin" for -).
func (p *Parser) ParseReader(r io.Reader, name string) ([]model.Target, error) {
	var out []model.Target
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxLine)
	line := 0
	file := name
	if name == "stdin" {
		file = ""
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		t, err := p.Parse(text, fmt.Sprintf("%s:%d", name, line), file, line)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &Error{Source: fmt.Sprintf("%s:%d", name, line+1), Reason: fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
