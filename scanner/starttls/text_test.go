package starttls

import "testing"

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Dovecot ready.", 512, "Dovecot ready."},
		{"a\x00b\x1b[0m\x7f", 512, `a\x00b\x1b[0m\x7f`},
		{"bad \xff\xfe utf8", 512, `bad \xff\xfe utf8`},
		{"back\\slash", 512, `back\\slash`},
		{"naïve ✓", 512, "naïve ✓"},
		{"rtl\u202eoverride\u200b", 512, `rtl\u202eoverride\u200b`},
		{"\u0085next line", 512, `\u0085next line`},
		{"abcdefghij", 4, "abcd…"},
		{"ab\x01cd", 5, `ab…`}, // an escape is never cut in half
		{"", 4, ""},
	}
	for _, tc := range tests {
		if got := clean(tc.in, tc.max); got != tc.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestSoftwareHint(t *testing.T) {
	tests := []struct {
		texts []string
		want  string
	}{
		{[]string{"mx.example.org ESMTP Postfix (Debian/GNU)"}, "Postfix"},
		{[]string{"imap.example.org Cyrus IMAP v3.6 server ready"}, "Cyrus"},
		{[]string{"mail ESMTP Exim 4.96 Sun, 29 Nov 2026"}, "Exim"},
		{[]string{"200 news.example InterNetNews NNRP server INN 2.7.1 ready"}, "INN"},
		{[]string{"the winner takes it all"}, ""}, // "inn" inside a word is no hint
		{[]string{"http://prosody.im"}, "Prosody"},
		{[]string{"ESMTP ready", "(vsFTPd 3.0.3)"}, "vsFTPd"},
		{[]string{"just a server"}, ""},
	}
	for _, tc := range tests {
		if got := softwareHint(tc.texts...); got != tc.want {
			t.Errorf("softwareHint(%q) = %q, want %q", tc.texts, got, tc.want)
		}
	}
}

func TestClearTextMechs(t *testing.T) {
	for m, want := range map[string]bool{"PLAIN": true, "login": true, " XOAUTH2 ": true, "OAUTHBEARER": true, "SCRAM-SHA-256": false, "CRAM-MD5": false, "EXTERNAL": false, "GSSAPI": false} {
		if got := isClearTextMech(m); got != want {
			t.Errorf("isClearTextMech(%q) = %v, want %v", m, got, want)
		}
	}
}
