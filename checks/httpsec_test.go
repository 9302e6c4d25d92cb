package checks

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
)

// goodHTTP is what a well-configured HTTPS front end answers.
func goodHTTP() *model.HTTPSecurityFacts {
	return &model.HTTPSecurityFacts{
		Host: "chat.example.org", Path: "/", Connections: 1, Status: 200, Server: "nginx", ContentType: "text/html",
		HSTS: &model.HSTSFacts{Values: []string{"max-age=63072000; includeSubDomains"}, Valid: true, MaxAge: 63072000, IncludeSubDomains: true},
		Headers: map[string]string{
			"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
			"Referrer-Policy": "no-referrer", "Permissions-Policy": "camera=()", "Cross-Origin-Opener-Policy": "same-origin",
		},
		Compression: &model.HTTPCompressionFacts{Offered: "gzip, deflate, br"},
	}
}

func TestHTTPSecurityRules(t *testing.T) {
	cat, err := NewCatalogue([]Check{httpSecurityCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	requireHSTS := func(minAge int) *policies.Policy {
		p := policies.Default()
		p.Thresholds.RequireHSTS, p.Thresholds.HSTSMinAgeSeconds = true, minAge
		return p
	}
	noHSTS := policies.Default()
	noHSTS.Thresholds.RequireHSTS = false
	tests := []struct {
		name    string
		mutate  func(f *model.HTTPSecurityFacts)
		policy  *policies.Policy
		want    []string
		details []string // details of http/missing-security-headers findings, in order
		msg     string   // a substring of some finding's message
	}{
		{name: "good front end raises nothing", mutate: func(*model.HTTPSecurityFacts) {}, policy: requireHSTS(0)},
		{name: "no HSTS, required", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS = nil }, policy: requireHSTS(0), want: []string{"http/no-hsts"}},
		{name: "no HSTS, not required", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS = nil }, policy: noHSTS},
		{name: "max-age=0 removes HSTS", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS.MaxAge = 0 }, policy: requireHSTS(0),
			want: []string{"http/no-hsts"}, msg: "max-age=0"},
		{name: "malformed HSTS, whatever the policy", mutate: func(f *model.HTTPSecurityFacts) {
			f.HSTS = &model.HSTSFacts{Values: []string{"max-age=1; max-age=2"}, MaxAge: -1, Problems: []string{"directive max-age appears more than once"}}
		}, want: []string{"http/hsts-invalid"}, msg: "appears more than once"},
		{name: "short max-age under the default 180 days", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS.MaxAge = 86400 * 30 },
			want: []string{"http/hsts-short-max-age"}, msg: "30 days"},
		{name: "policy minimum", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS.MaxAge = 31536000 }, policy: requireHSTS(63072000),
			want: []string{"http/hsts-short-max-age"}},
		{name: "policy minimum met", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS.MaxAge = 63072000 }, policy: requireHSTS(63072000)},
		{name: "no includeSubDomains", mutate: func(f *model.HTTPSecurityFacts) { f.HSTS.IncludeSubDomains = false }, want: []string{"http/hsts-no-subdomains"}},
		{name: "missing headers, one finding each", mutate: func(f *model.HTTPSecurityFacts) {
			delete(f.Headers, "Referrer-Policy")
			delete(f.Headers, "Cross-Origin-Opener-Policy")
		}, want: []string{"http/missing-security-headers", "http/missing-security-headers"}, details: []string{"Cross-Origin-Opener-Policy", "Referrer-Policy"}},
		{name: "frame-ancestors replaces X-Frame-Options", mutate: func(f *model.HTTPSecurityFacts) {
			delete(f.Headers, "X-Frame-Options")
			f.Headers["Content-Security-Policy"] = "default-src 'self';  Frame-Ancestors 'none'"
		}},
		{name: "X-Frame-Options without frame-ancestors", mutate: func(f *model.HTTPSecurityFacts) { delete(f.Headers, "X-Frame-Options") },
			want: []string{"http/missing-security-headers"}, details: []string{"X-Frame-Options"}},
		{name: "X-Frame-Options ALLOW-FROM is ignored by browsers", mutate: func(f *model.HTTPSecurityFacts) { f.Headers["X-Frame-Options"] = "ALLOW-FROM https://a" },
			want: []string{"http/missing-security-headers"}, details: []string{"X-Frame-Options"}, msg: "ALLOW-FROM"},
		{name: "X-Content-Type-Options not nosniff", mutate: func(f *model.HTTPSecurityFacts) { f.Headers["X-Content-Type-Options"] = "yes" },
			want: []string{"http/missing-security-headers"}, details: []string{"X-Content-Type-Options"}},
		{name: "redirects are not asked for page headers", mutate: func(f *model.HTTPSecurityFacts) {
			f.Status, f.Location, f.Headers = 301, "https://chat.example.org/web/", nil
		}},
		{name: "compression: BREACH", mutate: func(f *model.HTTPSecurityFacts) {
			f.Compression.Encoding, f.Compression.Compared = "gzip", true
		}, want: []string{"vuln/breach"}, msg: "potentially vulnerable"},
		{name: "compression even when not asked", mutate: func(f *model.HTTPSecurityFacts) {
			f.Compression.Encoding, f.Compression.Compared, f.Compression.WithoutOffer = "br", true, "br"
		}, want: []string{"vuln/breach"}, msg: "even when asked not to"},
		{name: "no response: inconclusive, nothing else", mutate: func(f *model.HTTPSecurityFacts) {
			*f = model.HTTPSecurityFacts{Path: "/", Connections: 1, Error: "TLS handshake: timed out"}
		}, policy: requireHSTS(0), want: []string{"http/inconclusive"}, msg: "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := healthy()
			obs.Endpoint = model.Endpoint{Name: "chat.example.org", Addr: netip.MustParseAddrPort("192.0.2.7:443"), Service: "https"}
			obs.HTTP = goodHTTP()
			tt.mutate(obs.HTTP)
			p := tt.policy
			if p == nil {
				p = policies.Default()
			}
			got := cat.Evaluate(&obs, p, now)
			assertRules(t, got, dedupe(tt.want))
			if len(got) != len(tt.want) {
				t.Errorf("%d findings, want %d: %+v", len(got), len(tt.want), got)
			}
			var details []string
			found := tt.msg == ""
			for _, f := range got {
				if f.RuleID == "http/missing-security-headers" {
					details = append(details, f.Detail)
				}
				found = found || strings.Contains(f.Message, tt.msg)
			}
			if strings.Join(details, ",") != strings.Join(tt.details, ",") {
				t.Errorf("details %v, want %v", details, tt.details)
			}
			if !found {
				t.Errorf("no message mentions %q: %+v", tt.msg, got)
			}
		})
	}
}

func TestHTTPSecurityNotForOtherEndpoints(t *testing.T) {
	cat, err := NewCatalogue([]Check{httpSecurityCheck()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := policies.Default()
	p.Thresholds.RequireHSTS = true
	obs := healthy() // an XMPP endpoint: no HTTP facts were collected
	assertRules(t, cat.Evaluate(&obs, p, now), nil)
}
