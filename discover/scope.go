package discover

import (
	"fmt"
	"net/netip"
	"strings"
)

// Scope is the set of domains and address blocks discovery may lead to. A name is inside when
// it equals a scope domain or is below it; an address is inside when a scope CIDR holds it.
type Scope struct {
	domains  []string
	prefixes []netip.Prefix
}

// ParseScope reads --scope values: domains ("example.org") and CIDRs ("192.0.2.0/24") or
// single addresses.
func ParseScope(entries []string) (*Scope, error) {
	s := &Scope{}
	for _, e := range entries {
		if err := s.Add(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add adds one domain, CIDR or address.
func (s *Scope) Add(e string) error {
	e = strings.TrimSpace(e)
	if e == "" {
		return fmt.Errorf("empty scope entry")
	}
	if p, err := netip.ParsePrefix(e); err == nil {
		s.prefixes = append(s.prefixes, p.Masked())
		return nil
	}
	if a, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
		s.prefixes = append(s.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		return nil
	}
	name := canonical(strings.TrimPrefix(e, "*."))
	if !validHostname(name) {
		return fmt.Errorf("scope entry %q is neither a domain nor a CIDR", e)
	}
	s.domains = append(s.domains, name)
	return nil
}

// HasName reports whether name is a scope domain or below one.
func (s *Scope) HasName(name string) bool {
	name = canonical(name)
	for _, d := range s.domains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// HasAddr reports whether a scope CIDR holds a.
func (s *Scope) HasAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hasPrefixes reports whether any CIDR was given.
func (s *Scope) hasPrefixes() bool { return len(s.prefixes) > 0 }

// Strings lists the scope, domains first.
func (s *Scope) Strings() []string {
	out := append([]string(nil), s.domains...)
	for _, p := range s.prefixes {
		out = append(out, p.String())
	}
	return out
}

// canonical lower-cases a DNS name and drops the trailing dot.
func canonical(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// validHostname reports whether name is a host name that may be connected to: letters,
// digits and hyphens in labels of 1-63 octets that neither start nor end with a hyphen,
// at most 253 octets in all, at least one label (RFC 1123 §2.1). Names that carry escapes,
// underscores or binary octets are records, not hosts.
func validHostname(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validOwner is validHostname that also allows underscores (SRV/TLSA owners, CNAMEs to them).
func validOwner(name string) bool {
	return validHostname(strings.ReplaceAll(name, "_", "x"))
}
