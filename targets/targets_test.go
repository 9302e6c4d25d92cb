package targets

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/services"
)

func parser() *Parser { return &Parser{Services: services.Default()} }

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		kind    model.TargetKind
		host    string
		addr    string
		prefix  string
		port    uint16
		service string
	}{
		{in: "example.org", kind: model.TargetDomain, host: "example.org"},
		{in: "Example.ORG.", kind: model.TargetDomain, host: "example.org"},
		{in: "mail.example.org:25", kind: model.TargetHost, host: "mail.example.org", port: 25},
		{in: "smtp://mx.example.org", kind: model.TargetHost, host: "mx.example.org", service: "smtp"},
		{in: "xmpp://chat.example.org:5222", kind: model.TargetHost, host: "chat.example.org", port: 5222, service: "xmpp-client"},
		{in: "HTTPS://www.example.org/", kind: model.TargetHost, host: "www.example.org", service: "https"},
		{in: "192.0.2.7", kind: model.TargetIP, addr: "192.0.2.7"},
		{in: "192.0.2.7:993", kind: model.TargetIP, addr: "192.0.2.7", port: 993},
		{in: "::1", kind: model.TargetIP, addr: "::1"},
		{in: "[::1]:443", kind: model.TargetIP, addr: "::1", port: 443},
		{in: "[2001:db8::1]", kind: model.TargetIP, addr: "2001:db8::1"},
		{in: "imaps://[2001:db8::1]:10993", kind: model.TargetIP, addr: "2001:db8::1", port: 10993, service: "imaps"},
		{in: "192.0.2.0/30", kind: model.TargetCIDR, prefix: "192.0.2.0/30"},
		{in: "smtp://192.0.2.0/31", kind: model.TargetCIDR, prefix: "192.0.2.0/31", service: "smtp"},
		{in: "2001:db8::/120", kind: model.TargetCIDR, prefix: "2001:db8::/120"},
		{in: "_xmpp-client._tcp.example.org", kind: model.TargetDomain, host: "_xmpp-client._tcp.example.org"},
		{in: "::ffff:192.0.2.1", kind: model.TargetIP, addr: "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parser().Parse(tt.in, "args:1", "", 1)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Kind != tt.kind || got.Host != tt.host || got.Port != tt.port || got.Service != tt.service {
				t.Errorf("Parse(%q) = kind %s host %q port %d service %q; want %s %q %d %q",
					tt.in, got.Kind, got.Host, got.Port, got.Service, tt.kind, tt.host, tt.port, tt.service)
			}
			if tt.addr != "" && got.Addr != netip.MustParseAddr(tt.addr) {
				t.Errorf("addr = %v, want %s", got.Addr, tt.addr)
			}
			if tt.prefix != "" && got.Prefix != netip.MustParsePrefix(tt.prefix) {
				t.Errorf("prefix = %v, want %s", got.Prefix, tt.prefix)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty target"},
		{"host:0", "out of range"},
		{"host:65536", "out of range"},
		{"host:abc", "out of range"},
		{"host:", "empty port"},
		{"smtpp://mx.example.org", `did you mean "smtp"`},
		{"gopher://x.example", "unknown service"},
		{"https://x.example/path", "no path"},
		{"10.0.0.0/8", "at most 65536"},
		{"192.0.2.1/24", "host bits set"},
		{"[::1", "missing ']'"},
		{"[::1]x", "expected :port"},
		{"-bad.example", "hyphen"},
		{"bad..example", "empty label"},
		{"exa mple.org", "whitespace"},
		{"exa$mple.org", "invalid character"},
		{"1.2.3", "not a valid IPv4"},
		{"fe80::1%eth0", "zoned"},
		{strings.Repeat("a", 64) + ".org", "longer than 63"},
		{"1:2:3", "invalid IPv6"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := parser().Parse(tt.in, "targets.txt:7", "targets.txt", 7)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "targets.txt:7: ") {
				t.Errorf("Parse(%q) error = %q, want position and %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseReader(t *testing.T) {
	in := "# estate\nexample.org\n\n  smtp://mx.example.org:25   # primary MX\n[::1]:5223\n"
	ts, err := parser().ParseReader(strings.NewReader(in), "targets.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 {
		t.Fatalf("got %d targets, want 3", len(ts))
	}
	if ts[1].Source != "targets.txt:4" || ts[1].File != "targets.txt" || ts[1].Line != 4 || ts[1].Port != 25 {
		t.Errorf("second target = %+v", ts[1])
	}
	_, err = parser().ParseReader(strings.NewReader("ok.example\nbad:port\n"), "list")
	var pe *Error
	if !errors.As(err, &pe) || pe.Source != "list:2" {
		t.Fatalf("error = %v, want positioned at list:2", err)
	}
	_, err = parser().ParseReader(strings.NewReader(strings.Repeat("a", 5000)), "big")
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("overlong line: err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"example.org", "[::1]:443", "smtp://mx:25", "10.0.0.0/30", "a:b:c", "https://[::1]/", "x:0"} {
		f.Add(s)
	}
	p := parser()
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := p.Parse(s, "fuzz:1", "", 1)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not positioned", err)
			}
			return
		}
		switch tg.Kind {
		case model.TargetDomain, model.TargetHost:
			if _, err := NormalizeHostname(tg.Host); err != nil {
				t.Fatalf("accepted invalid host %q: %v", tg.Host, err)
			}
		case model.TargetIP:
			if !tg.Addr.IsValid() {
				t.Fatal("IP target without address")
			}
		case model.TargetCIDR:
			if tg.Prefix.Addr().BitLen()-tg.Prefix.Bits() > 16 {
				t.Fatalf("accepted oversized CIDR %v", tg.Prefix)
			}
		default:
			t.Fatalf("unknown kind %q", tg.Kind)
		}
	})
}
