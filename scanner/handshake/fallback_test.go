package handshake

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

// TestNoFallback pins when the engine's facts settle the TLS_FALLBACK_SCSV probe.
func TestNoFallback(t *testing.T) {
	engine := func(mod func(vs []model.EngineVersion) []model.EngineVersion) *model.TLSEngineFacts {
		vs := []model.EngineVersion{
			{VersionID: 0x0002}, {VersionID: 0x0300}, {VersionID: 0x0301}, {VersionID: 0x0302},
			{VersionID: 0x0303, Supported: true}, {VersionID: 0x0304, Supported: true},
		}
		if mod != nil {
			vs = mod(vs)
		}
		return &model.TLSEngineFacts{Versions: vs}
	}
	set := func(id uint16, f func(*model.EngineVersion)) func([]model.EngineVersion) []model.EngineVersion {
		return func(vs []model.EngineVersion) []model.EngineVersion {
			for i := range vs {
				if vs[i].VersionID == id {
					f(&vs[i])
				}
			}
			return vs
		}
	}
	for _, tc := range []struct {
		name     string
		engine   *model.TLSEngineFacts
		maxVer   uint16
		sentinel string
		want     bool
	}{
		{"tls 1.2 and 1.3 with the sentinel", engine(nil), tls.VersionTLS13, "tls1.2", true},
		{"tls 1.2 and 1.3 without the sentinel", engine(nil), tls.VersionTLS13, "", false},
		{"tls 1.2 and 1.3 with the ≤1.1 sentinel on a 1.2 answer", engine(nil), tls.VersionTLS13, "tls1.1", false},
		{"tls 1.3 only", engine(set(0x0303, func(v *model.EngineVersion) { v.Supported = false })), tls.VersionTLS13, "", true},
		{"tls 1.2 only", engine(set(0x0304, func(v *model.EngineVersion) { v.Supported = false })), tls.VersionTLS12, "", true},
		{"tls 1.1 spoken", engine(set(0x0302, func(v *model.EngineVersion) { v.Supported = true })), tls.VersionTLS13, "tls1.2", false},
		{"ssl 3.0 spoken", engine(set(0x0300, func(v *model.EngineVersion) { v.Supported = true })), tls.VersionTLS12, "", false},
		{"ssl 2.0 ended in an error", engine(set(0x0002, func(v *model.EngineVersion) { v.Error = "timeout" })), tls.VersionTLS13, "tls1.2", false},
		{"tls 1.2 ended in an error", engine(set(0x0303, func(v *model.EngineVersion) { v.Error = "reset" })), tls.VersionTLS13, "tls1.2", false},
		{"tls 1.0 not probed", engine(func(vs []model.EngineVersion) []model.EngineVersion { return append(vs[:2], vs[3:]...) }), tls.VersionTLS13, "tls1.2", false},
		{"no engine", nil, tls.VersionTLS13, "tls1.2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &inspector{maxVer: tc.maxVer, f: &model.HandshakeFacts{}}
			if tc.engine != nil {
				e := tc.engine
				in.opts.Engine = func(context.Context) *model.TLSEngineFacts { return e }
			}
			if tc.maxVer == tls.VersionTLS13 && (tc.engine == nil || tc.engine.Versions[len(tc.engine.Versions)-2].Supported) {
				in.f.TLS12 = &model.TLS12Features{DowngradeSentinel: tc.sentinel}
			}
			why, got := in.noFallback(context.Background())
			if got != tc.want || (got && why == "") {
				t.Errorf("noFallback = %v (%q), want %v", got, why, tc.want)
			}
		})
	}
}

// TestSentinelParsed reads the downgrade marker from a ServerHello's random.
func TestSentinelParsed(t *testing.T) {
	for _, tc := range []struct {
		tail string
		want uint8
	}{{"DOWNGRD\x01", sentinelTLS12}, {"DOWNGRD\x00", sentinelTLS11}, {"DOWNGRD\x02", 0}, {"xOWNGRD\x01", 0}} {
		random := make([]byte, 32)
		copy(random[24:], tc.tail)
		msg := append([]byte{3, 3}, random...)
		msg = append(msg, 0, 0xc0, 0x2f, 0) // empty session ID, suite, null compression
		f := &flight{}
		if err := f.parseServerHello(msg); err != nil || f.sentinel != tc.want {
			t.Errorf("%q: sentinel %d (err %v), want %d", tc.tail, f.sentinel, err, tc.want)
		}
	}
}
