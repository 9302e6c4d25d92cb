package httpsec

import (
	"bufio"
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestParseHSTS(t *testing.T) {
	tests := []struct {
		in       string
		valid    bool
		maxAge   int64
		sub, pre bool
	}{
		{in: "max-age=31536000", valid: true, maxAge: 31536000},
		{in: "max-age=63072000; includeSubDomains; preload", valid: true, maxAge: 63072000, sub: true, pre: true},
		{in: " MAX-AGE = \"600\" ;INCLUDESUBDOMAINS", valid: true, maxAge: 600, sub: true},
		{in: "max-age=0", valid: true, maxAge: 0},
		{in: "max-age=10;;; unknown-directive=\"x;y\"", valid: true, maxAge: 10},
		{in: "max-age=10; unknown=\"x;y", valid: false, maxAge: -1},
		{in: "max-age=10; unknown=x", valid: true, maxAge: 10},
		{in: "max-age=99999999999999999999999", valid: true, maxAge: math.MaxInt64},
		{in: "includeSubDomains", valid: false, maxAge: -1},
		{in: "", valid: false, maxAge: -1},
		{in: "max-age=-1", valid: false, maxAge: -1},
		{in: "max-age=1e6", valid: false, maxAge: -1},
		{in: "max-age", valid: false, maxAge: -1},
		{in: "max-age=10; max-age=20", valid: false, maxAge: -1},
		{in: "max-age=10; includeSubDomains=yes", valid: false, maxAge: -1},
		{in: "max-age=10, includeSubDomains", valid: false, maxAge: -1},
		{in: `max-age="10`, valid: false, maxAge: -1},
		{in: `max-age="1\0"`, valid: true, maxAge: 10},
		{in: "max age=10", valid: false, maxAge: -1},
	}
	for _, tc := range tests {
		h := ParseHSTS(tc.in)
		if h.Valid != tc.valid || h.MaxAge != tc.maxAge || h.IncludeSubDomains != tc.sub || h.Preload != tc.pre {
			t.Errorf("%q: got %+v", tc.in, h)
		}
		if !h.Valid && len(h.Problems) == 0 {
			t.Errorf("%q: invalid without a problem", tc.in)
		}
	}
}

func FuzzParseHSTS(f *testing.F) {
	for _, s := range []string{"max-age=31536000; includeSubDomains; preload", `max-age="1\"0"`, "max-age=1;max-age=2", ";;;", strings.Repeat(";a", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := ParseHSTS(s)
		if h.Valid && h.MaxAge < 0 {
			t.Fatalf("valid with max-age %d", h.MaxAge)
		}
		if !h.Valid && (h.MaxAge != -1 || h.IncludeSubDomains || h.Preload || len(h.Problems) == 0) {
			t.Fatalf("invalid header with facts %+v", h)
		}
		if len(h.Problems) > 8 {
			t.Fatalf("%d problems", len(h.Problems))
		}
	})
}

func TestReadHead(t *testing.T) {
	tests := []struct {
		in     string
		status int
		ok     bool
		check  func(h map[string][]string) bool
	}{
		{in: "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", status: 200, ok: true, check: func(h map[string][]string) bool { return h["Server"][0] == "x" }},
		{in: "HTTP/1.0 301\nLocation: /a\n\n", status: 301, ok: true, check: func(h map[string][]string) bool { return h["Location"][0] == "/a" }},
		{in: "HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nbad line\r\nstrict-transport-security: max-age=1\r\n\r\n", status: 200, ok: true,
			check: func(h map[string][]string) bool {
				return h["X-A"][0] == "one two" && h["Strict-Transport-Security"][0] == "max-age=1" && len(h) == 2
			}},
		{in: "HTTP/2 200\r\n\r\n"},
		{in: "HTTP/1.1 2000 OK\r\n\r\n"},
		{in: "HTTP/1.1 099\r\n\r\n"},
		{in: "SSH-2.0-OpenSSH\r\n"},
		{in: "HTTP/1.1 200 OK\r\nServer: x\r\n"}, // ends before the empty line
	}
	for _, tc := range tests {
		status, h, err := readHead(bufio.NewReader(strings.NewReader(tc.in)))
		if (err == nil) != tc.ok || status != tc.status || (tc.check != nil && !tc.check(h)) {
			t.Errorf("%q: status %d header %v err %v", tc.in, status, h, err)
		}
	}
}

func FuzzReadHead(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nContent-Encoding: gzip, br\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 302 x\nLocation: \x00\xff\n\tfold\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lr := &limitReader{r: bytes.NewReader(b), n: 1024}
		status, h, err := readHead(bufio.NewReaderSize(lr, 64))
		if err != nil {
			return
		}
		if status < 100 || status > 999 {
			t.Fatalf("status %d", status)
		}
		n := 0
		for _, vs := range h {
			n += len(vs)
		}
		if n > maxFields {
			t.Fatalf("%d fields", n)
		}
		hstsFacts(h.Values("Strict-Transport-Security"))
		if e := contentEncoding(h); len(e) > 100+len("…") {
			t.Fatalf("encoding %q", e)
		}
	})
}
