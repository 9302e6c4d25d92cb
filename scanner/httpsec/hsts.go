package httpsec

import (
	"math"
	"strconv"
	"strings"
)

// HSTS is one Strict-Transport-Security header value parsed by the rules of RFC 6797 §6.1.
type HSTS struct {
	// Valid is true when a browser honours the value: it conforms to the grammar, every
	// directive appears once and max-age is present.
	Valid bool
	// MaxAge is the max-age in seconds, -1 when missing or unparsable. A value too large for
	// int64 saturates at math.MaxInt64 (browsers clamp it too).
	MaxAge            int64
	IncludeSubDomains bool
	Preload           bool
	// Problems says what is wrong, one sentence each.
	Problems []string
}

// maxDirectives bounds the work on a hostile header.
const maxDirectives = 32

// ParseHSTS parses one Strict-Transport-Security header value:
//
//	[ directive ] *( ";" [ directive ] )
//	directive = directive-name [ "=" directive-value ]   ; value: token or quoted-string
//
// Directive names are case-insensitive; unknown directives are ignored (§6.1 item 2); a
// directive given twice, or a value that is neither a token nor a quoted-string, makes the
// whole header invalid (§6.1 items 3 and 4, §8.1).
func ParseHSTS(v string) HSTS {
	h := HSTS{MaxAge: -1, Valid: true}
	fail := func(p string) {
		h.Valid = false
		if len(h.Problems) < 8 {
			h.Problems = append(h.Problems, p)
		}
	}
	seen := map[string]bool{}
	parts := splitDirectives(v)
	if len(parts) > maxDirectives {
		fail("more than " + strconv.Itoa(maxDirectives) + " directives")
		parts = parts[:maxDirectives]
	}
	for _, part := range parts {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		name, value, hasValue := strings.Cut(part, "=")
		name = strings.TrimRight(name, " \t")
		value = strings.TrimLeft(value, " \t")
		if !isToken(name) {
			fail("malformed directive " + strconv.Quote(clip(part, 40)))
			continue
		}
		lname := strings.ToLower(name)
		if seen[lname] {
			fail("directive " + lname + " appears more than once")
			continue
		}
		seen[lname] = true
		if hasValue {
			uq, ok := directiveValue(value)
			if !ok {
				fail("malformed value of " + lname + ": " + strconv.Quote(clip(value, 40)))
				continue
			}
			value = uq
		}
		switch lname {
		case "max-age":
			if !hasValue {
				fail("max-age has no value")
				continue
			}
			n, ok := deltaSeconds(value)
			if !ok {
				fail("max-age is not a number of seconds: " + strconv.Quote(clip(value, 40)))
				continue
			}
			h.MaxAge = n
		case "includesubdomains":
			if hasValue {
				fail("includeSubDomains takes no value")
				continue
			}
			h.IncludeSubDomains = true
		case "preload":
			h.Preload = true
		}
	}
	if !seen["max-age"] {
		fail("max-age is missing")
	}
	if !h.Valid {
		h.MaxAge = -1
		h.IncludeSubDomains, h.Preload = false, false
	}
	return h
}

// splitDirectives splits at the semicolons outside quoted-strings.
func splitDirectives(v string) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ';':
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

// deltaSeconds reads 1*DIGIT, saturating at math.MaxInt64.
func deltaSeconds(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
			continue
		}
		n = n*10 + d
	}
	return n, true
}

// directiveValue unquotes a token or quoted-string (RFC 9110 §5.6.4).
func directiveValue(s string) (string, bool) {
	if isToken(s) {
		return s, true
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", false
	}
	var b strings.Builder
	in := s[1 : len(s)-1]
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c == '\\':
			if i+1 >= len(in) || !isQDText(in[i+1]) && in[i+1] != '"' && in[i+1] != '\\' {
				return "", false
			}
			i++
			b.WriteByte(in[i])
		case c == '"':
			return "", false
		case isQDText(c):
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	return b.String(), true
}

func isQDText(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
