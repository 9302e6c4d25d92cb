package policies

import (
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// FuzzParse: the loader never panics or hangs on any input, and a policy it accepts renders
// to YAML that loads again to the same identity (what `policy show` prints is exact).
func FuzzParse(f *testing.F) {
	for _, name := range Builtins() {
		src, _ := BuiltinSource(name)
		f.Add(src)
	}
	f.Add([]byte(waiverPolicy))
	f.Add([]byte("apiVersion: rampart.dev/v1\nname: a\noverrides:\n  - selector: {hosts: ['*'], ports: [25]}\n    thresholds: {tls: {min_version: TLS1.3}}\n"))
	f.Add([]byte("apiVersion: rampart.dev/v1\nname: &a a\ndescription: *a\n"))
	f.Add([]byte("{a: [b, {c: d}], e: !!binary aGVsbG8=}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, Options{ReadFile: func(string) ([]byte, error) { return nil, errNoFiles }})
		if err != nil {
			return
		}
		out, err := p.YAML()
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		q, err := Parse("again.yaml", out, Options{})
		if err != nil {
			t.Fatalf("rendered policy does not load: %v\n%s", err, out)
		}
		if q.Hash != p.Hash {
			t.Fatalf("round trip changed the policy:\n%s", out)
		}
		ep := model.Endpoint{Name: "x.example.org", Service: "smtp"}
		_ = p.For(ep)
		_ = p.Apply(ep, []model.Finding{{RuleID: "cert/expired", Detail: "leaf"}}, time.Unix(0, 0))
	})
}

type noFiles struct{}

func (noFiles) Error() string { return "fuzzing reads no files" }

var errNoFiles error = noFiles{}
