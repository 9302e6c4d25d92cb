package vuln

import (
	"context"
	"slices"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// earlyData reports on TLS 1.3 0-RTT. Deciding it needs a TLS 1.3 client that resumes a
// ticket carrying max_early_data and sends application data encrypted under the early
// traffic secret; neither crypto/tls nor the hello engine can, so the probe opens no
// connection and says so (inconclusive) on TLS 1.3 servers.
func (p *prober) earlyData(_ context.Context) *model.ProbeVerdict {
	if !slices.Contains(p.opts.Versions, hello.VersionTLS13) {
		return verdict(model.VerdictNotApplicable, "the server does not speak TLS 1.3, the only version with 0-RTT early data", 0, nil)
	}
	return verdict(model.VerdictInconclusive, "not tested: sending 0-RTT early data needs a TLS 1.3 client with early-data support, which this scanner does not have yet", 0, nil)
}
