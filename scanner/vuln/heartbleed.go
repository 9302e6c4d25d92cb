package vuln

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/hello"
)

// heartbeatClaim is the payload length the request claims; heartbeatPayload is what it
// really carries. A server that answers with more than heartbeatPayload bytes of payload
// copied memory past the request: that is Heartbleed.
const (
	heartbeatClaim   = 0x4000
	heartbeatPayload = 16
)

// heartbleed sends, in each supported version from SSL 3.0 to TLS 1.2 (one connection
// each), a hello offering the heartbeat extension and, after ServerHelloDone, a heartbeat
// request claiming 16384 bytes of payload while carrying 16, followed by a close_notify
// alert so that a server which discards the request answers at once by closing.
func (p *prober) heartbleed(ctx context.Context) *model.ProbeVerdict {
	versions := p.opts.legacyVersions()
	if len(versions) == 0 {
		return verdict(model.VerdictNotApplicable, "the server speaks no protocol version that has heartbeats (SSL 3.0 to TLS 1.2)", 0, nil)
	}
	type result struct {
		verdict, why string
		conns        int
	}
	results := make([]result, len(versions))
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, why, n := p.heartbleedOnce(ctx, v)
			results[i] = result{res, why, n}
		}()
	}
	wg.Wait()
	detail := map[string]string{}
	conns, vulnerable, inconclusive := 0, []string{}, []string{}
	for i, v := range versions {
		r := results[i]
		conns += r.conns
		name := hello.VersionName(v)
		detail[name] = r.verdict + ": " + r.why
		switch r.verdict {
		case model.VerdictVulnerable:
			vulnerable = append(vulnerable, name)
		case model.VerdictInconclusive:
			inconclusive = append(inconclusive, name)
		}
	}
	switch {
	case len(vulnerable) > 0:
		return verdict(model.VerdictVulnerable, fmt.Sprintf("the server answered an over-long heartbeat request with memory past the request in %v", vulnerable), conns, detail)
	case len(inconclusive) > 0:
		return verdict(model.VerdictInconclusive, fmt.Sprintf("no leak seen, but the probe could not complete in %v", inconclusive), conns, detail)
	}
	return verdict(model.VerdictNotVulnerable, "every supported version ignored or refused the over-long heartbeat request", conns, detail)
}

// heartbleedOnce probes one version; it returns a verdict, its reason and the connections used.
func (p *prober) heartbleedOnce(ctx context.Context, v uint16) (string, string, int) {
	spec := helloSpec{
		version: v, suites: p.suitesFor(v, nil), serverName: p.opts.ServerName,
		extra: []extension{{typ: extHeartbeat, data: []byte{1}}}, // peer_allowed_to_send
	}
	s, f, _, err := p.start(ctx, spec, false)
	if err != nil {
		if s == nil && f == nil {
			return model.VerdictInconclusive, err.Error(), 0
		}
		return model.VerdictInconclusive, refusal(err), 1
	}
	defer s.Close()
	if got := f.hello.Version(); got != v {
		return model.VerdictInconclusive, fmt.Sprintf("the server answered with %s instead", hello.VersionName(got)), 1
	}
	req := make([]byte, 3+heartbeatPayload+16)
	req[0] = 1 // heartbeat_request
	req[1], req[2] = heartbeatClaim>>8, heartbeatClaim&0xff
	if _, err := rand.Read(req[3:]); err != nil {
		return model.VerdictInconclusive, "random payload: " + err.Error(), 1
	}
	out := plainRecord(recHeartbeat, v, req)
	out = append(out, plainRecord(recAlert, v, []byte{1, 0})...) // close_notify: a fence
	if err := s.write(out); err != nil {
		return model.VerdictInconclusive, err.Error(), 1
	}
	return judgeHeartbeat(s.rr, f.hello.Heartbeat, len(req))
}

// judgeHeartbeat reads the server's answer to the heartbeat request of sent bytes.
func judgeHeartbeat(rr *recordReader, negotiated bool, sent int) (string, string, int) {
	ext := "the server did not negotiate the heartbeat extension"
	if negotiated {
		ext = "the server negotiated the heartbeat extension"
	}
	for {
		rec, err := rr.next()
		if err != nil {
			switch how := classify(err); how {
			case "closed", "reset":
				return model.VerdictNotVulnerable, ext + " and closed the connection without answering the over-long heartbeat request", 1
			case "timeout":
				return model.VerdictInconclusive, ext + " and sent nothing, not even a close, after the heartbeat request and close_notify", 1
			default:
				return model.VerdictInconclusive, ext + "; reading its answer failed: " + how, 1
			}
		}
		switch rec.typ {
		case recHeartbeat:
			if len(rec.body) >= 1 && rec.body[0] == 2 && len(rec.body) > sent {
				return model.VerdictVulnerable, fmt.Sprintf("a %d-byte heartbeat request claiming %d bytes got a %d-byte response", sent, heartbeatClaim, len(rec.body)), 1
			}
			return model.VerdictNotVulnerable, fmt.Sprintf("%s and answered the heartbeat with %d bytes, no more than sent", ext, len(rec.body)), 1
		case recAlert:
			if len(rec.body) >= 2 && rec.body[1] == 0 {
				return model.VerdictNotVulnerable, ext + " and answered only the close_notify", 1
			}
			if len(rec.body) >= 2 {
				return model.VerdictNotVulnerable, fmt.Sprintf("%s and refused the heartbeat request with %s", ext, alertText(rec.body[0], rec.body[1])), 1
			}
			return model.VerdictNotVulnerable, ext + " and answered with a malformed alert", 1
		}
		// Anything else (late handshake records) is skipped; the reader's limit bounds it.
	}
}
