package policies

import (
	"os"
	"regexp"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

// TestDocsExamplesLoad keeps docs/policies.md honest: its complete example policy loads and
// behaves as the text says.
func TestDocsExamplesLoad(t *testing.T) {
	doc, err := os.ReadFile("../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## A first policy\n\n```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("example not found in docs/policies.md")
	}
	p, err := Parse("docs/policies.md", m[1], Options{KnownRules: append(catalogue, "cert/untrusted")})
	if err != nil {
		t.Fatal(err)
	}
	mx := endpoint("mx.example.org", "192.0.2.1:25", "smtp")
	web := endpoint("chat.example.org", "192.0.2.2:443", "https")
	if th := p.For(mx); len(th.AllowedSuites) != 0 || th.MinProtocol != 0x0303 {
		t.Errorf("allowed_suites: [] must clear the inherited allow-list: %v", th.AllowedSuites)
	}
	if th := p.For(web); len(th.AllowedSuites) != 9 || th.ExpiryWarningDays != 21 || !th.RequireSTARTTLS {
		t.Errorf("web thresholds: %+v", th)
	}
	if st := p.State(web, "cert/expiring-soon", model.SeverityMedium); st.Severity != model.SeverityHigh {
		t.Errorf("severity: %+v", st)
	}
}
