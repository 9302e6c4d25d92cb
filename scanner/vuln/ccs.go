package vuln

import (
	"context"
	"fmt"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// ccsInjection sends, after the server's first flight in the newest supported version up to
// TLS 1.2 (one connection), two ChangeCipherSpec records before any key exchange. A patched
// server refuses the first with unexpected_message; a vulnerable one (OpenSSL before
// 0.9.8za/1.0.0m/1.0.1h) accepts it, switches to keys derived from an empty master secret,
// and fails to decrypt the second: bad_record_mac or decryption_failed.
func (p *prober) ccsInjection(ctx context.Context) *model.ProbeVerdict {
	v := p.opts.highestLegacy()
	if v == 0 {
		return verdict(model.VerdictNotApplicable, "the server speaks no protocol version with ChangeCipherSpec before the key exchange (SSL 3.0 to TLS 1.2)", 0, nil)
	}
	detail := map[string]string{"version": hello.VersionName(v)}
	s, f, _, err := p.start(ctx, helloSpec{version: v, suites: p.suitesFor(v, nil), serverName: p.opts.ServerName}, false)
	if err != nil {
		conns := 1
		if s == nil && f == nil {
			conns = 0
		}
		return verdict(model.VerdictInconclusive, refusal(err), conns, detail)
	}
	defer s.Close()
	ccs := plainRecord(recChangeCipherSpec, f.hello.Version(), []byte{1})
	if err := s.write(append(ccs, ccs...)); err != nil {
		return verdict(model.VerdictInconclusive, "sending the early ChangeCipherSpec: "+err.Error(), 1, detail)
	}
	v2, why := judgeCCS(s.rr)
	detail["answer"] = why
	return verdict(v2, why, 1, detail)
}

// judgeCCS reads the answer to two early ChangeCipherSpec records.
func judgeCCS(rr *recordReader) (string, string) {
	for {
		rec, err := rr.next()
		if err != nil {
			switch how := classify(err); how {
			case "closed", "reset":
				return model.VerdictNotVulnerable, "the server closed the connection at the early ChangeCipherSpec without an alert (" + how + ")"
			case "timeout":
				return model.VerdictInconclusive, "the server answered neither early ChangeCipherSpec within the timeout"
			default:
				return model.VerdictInconclusive, "reading the answer failed: " + how
			}
		}
		if rec.typ != recAlert {
			continue // a late handshake record: keep reading (bounded by the reader's limit)
		}
		if len(rec.body) < 2 {
			return model.VerdictInconclusive, "the server answered with a malformed alert"
		}
		a := alertError{rec.body[0], rec.body[1]}
		switch a.desc {
		case 20, 21: // bad_record_mac, decryption_failed
			return model.VerdictVulnerable, fmt.Sprintf("the server accepted the early ChangeCipherSpec and then failed to decrypt the next record (%s)", a.Error())
		case 0:
			return model.VerdictInconclusive, "the server answered with close_notify, which does not say whether it accepted the early ChangeCipherSpec"
		}
		return model.VerdictNotVulnerable, fmt.Sprintf("the server refused the early ChangeCipherSpec with %s", a.Error())
	}
}
