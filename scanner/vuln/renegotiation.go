package vuln

import (
	"context"
	"fmt"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// renegotiationAndCompression reads one ServerHello (one connection, newest supported
// version up to TLS 1.2) for two facts: whether the server supports RFC 5746 secure
// renegotiation (its hello carries renegotiation_info in answer to the SCSV the client
// offers), and whether it picks DEFLATE when the client offers DEFLATE and null compression
// (CRIME). Both verdicts share the connection: Connections is 1 on the first, 0 on the second.
func (p *prober) renegotiationAndCompression(ctx context.Context) (reneg, comp *model.ProbeVerdict) {
	v := p.opts.highestLegacy()
	if v == 0 {
		na := "the server speaks only TLS 1.3, which has neither renegotiation nor compression"
		return verdict(model.VerdictNotApplicable, na, 0, nil), verdict(model.VerdictNotApplicable, na, 0, nil)
	}
	detail := map[string]string{"version": hello.VersionName(v)}
	spec := helloSpec{version: v, suites: p.suitesFor(v, nil), serverName: p.opts.ServerName, compression: []byte{1, 0}}
	s, f, _, err := p.start(ctx, spec, true)
	if err != nil {
		conns := 1
		if s == nil && f == nil {
			conns = 0
		}
		why := refusal(err)
		if a, ok := alertOf(err); ok && conns == 1 {
			// Some stacks refuse a hello that offers compression at all.
			why = fmt.Sprintf("the server refused a hello offering DEFLATE and null compression with %s", a.Error())
			return verdict(model.VerdictInconclusive, why, conns, detail),
				verdict(model.VerdictNotVulnerable, why+"; it does not negotiate compression", 0, detail)
		}
		return verdict(model.VerdictInconclusive, why, conns, detail), verdict(model.VerdictInconclusive, why, 0, detail)
	}
	s.Close()
	sh := f.hello
	detail["negotiated_version"] = hello.VersionName(sh.Version())
	detail["compression_method"] = fmt.Sprint(sh.Compression)
	if sh.SecureRenegotiation {
		reneg = verdict(model.VerdictNotVulnerable, "the server hello carries renegotiation_info: RFC 5746 secure renegotiation is supported", 1, detail)
	} else {
		reneg = verdict(model.VerdictVulnerable, "the server hello carries no renegotiation_info in answer to TLS_EMPTY_RENEGOTIATION_INFO_SCSV: the server does not support RFC 5746 secure renegotiation", 1, detail)
	}
	switch sh.Compression {
	case 0:
		comp = verdict(model.VerdictNotVulnerable, "offered DEFLATE and null compression, the server chose null", 0, detail)
	case 1:
		comp = verdict(model.VerdictVulnerable, "offered DEFLATE and null compression, the server chose DEFLATE", 0, detail)
	default:
		comp = verdict(model.VerdictInconclusive, fmt.Sprintf("the server chose compression method %d, which was not offered", sh.Compression), 0, detail)
	}
	return reneg, comp
}
