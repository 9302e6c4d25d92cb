package starttls

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes a server string safe to store and print: invalid UTF-8 and control or other
// non-printing characters are escaped (\x1b, \u200b), and the result is cut to at most max
// bytes, marked with "…" when cut.
func clean(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\\':
			piece = `\\`
		case r < 0x80 && !unicode.IsPrint(r):
			piece = fmt.Sprintf(`\x%02x`, r)
		case !unicode.IsPrint(r) && r != ' ':
			piece = fmt.Sprintf(`\u%04x`, r)
		default:
			piece = s[i : i+size]
		}
		if b.Len()+len(piece) > max {
			b.WriteString("…")
			break
		}
		b.WriteString(piece)
		i += size
	}
	return b.String()
}

// clearTextMechs are SASL mechanisms that send a reusable secret (password or bearer token)
// without protecting it: PLAIN (RFC 4616 §4 says it needs a protected channel), LOGIN, and
// the OAuth bearer mechanisms (RFC 7628 §5.1: only over TLS).
var clearTextMechs = map[string]bool{
	"PLAIN": true, "LOGIN": true, "XOAUTH2": true, "X-OAUTH2": true, "OAUTHBEARER": true,
}

func normMech(m string) string { return strings.ToUpper(strings.TrimSpace(m)) }

func isClearTextMech(m string) bool { return clearTextMechs[normMech(m)] }

// knownSoftware are product names looked for (case-insensitively) in greetings and
// capability strings. The first match, in this order, is the hint.
var knownSoftware = []string{
	"Postfix", "Exim", "Sendmail", "OpenSMTPD", "Haraka", "qmail", "Microsoft ESMTP",
	"Exchange", "Zimbra", "hMailServer", "MDaemon", "Kerio", "IceWarp", "Dovecot", "Cyrus",
	"Courier", "Pigeonhole", "ProFTPD", "vsFTPd", "Pure-FTPd", "FileZilla", "INN", "Leafnode",
	"Prosody", "ejabberd", "Openfire", "Tigase", "MongooseIM", "Isode", "OpenLDAP",
	"UnrealIRCd", "InspIRCd", "Solanum", "Ergo",
}

// softwareHint returns the first known product named in texts.
func softwareHint(texts ...string) string {
	for _, name := range knownSoftware {
		ln := strings.ToLower(name)
		for _, t := range texts {
			if containsWord(strings.ToLower(t), ln) {
				return name
			}
		}
	}
	return ""
}

// containsWord reports whether word occurs in s not embedded in a longer alphanumeric word
// ("INN" must not match "winner").
func containsWord(s, word string) bool {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], word)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(word)
		if (start == 0 || !isAlnum(s[start-1])) && (end == len(s) || !isAlnum(s[end])) {
			return true
		}
		off = start + 1
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
