package handshake

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/certs/certtest"
	"github.com/rampart-scan/rampart/scanner/hello"
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
		want string
	}{{"DOWNGRD\x01", model.SentinelTLS12}, {"DOWNGRD\x00", model.SentinelTLS11}, {"DOWNGRD\x02", ""}, {"xOWNGRD\x01", ""}} {
		random := make([]byte, 32)
		copy(random[24:], tc.tail)
		msg := append([]byte{3, 3}, random...)
		msg = append(msg, 0, 0xc0, 0x2f, 0) // empty session ID, suite, null compression
		f := &flight{}
		if err := f.parseServerHello(msg); err != nil || f.sentinel != tc.want {
			t.Errorf("%q: sentinel %q (err %v), want %q", tc.tail, f.sentinel, err, tc.want)
		}
	}
}

// offersTLS13 reports whether a ClientHello record offers TLS 1.3 in supported_versions.
func offersTLS13(rec []byte) bool {
	if len(rec) < 5 {
		return false
	}
	s := cryptobyte.String(rec[5:])
	var typ uint8
	var body, sid, suites, comp, exts cryptobyte.String
	if !s.ReadUint8(&typ) || !s.ReadUint24LengthPrefixed(&body) || !body.Skip(2+32) ||
		!body.ReadUint8LengthPrefixed(&sid) || !body.ReadUint16LengthPrefixed(&suites) ||
		!body.ReadUint8LengthPrefixed(&comp) || !body.ReadUint16LengthPrefixed(&exts) {
		return false
	}
	for !exts.Empty() {
		var et uint16
		var ed cryptobyte.String
		if !exts.ReadUint16(&et) || !exts.ReadUint16LengthPrefixed(&ed) {
			return false
		}
		var list cryptobyte.String
		if et != 0x002b || !ed.ReadUint8LengthPrefixed(&list) {
			continue
		}
		for !list.Empty() {
			var v uint16
			if list.ReadUint16(&v) && v == tls.VersionTLS13 {
				return true
			}
		}
	}
	return false
}

// TestSplitStackNoSentinel puts a TLS 1.3 server and a TLS 1.2-only one behind one address,
// chosen by whether the ClientHello offers TLS 1.3 (as a proxy in front of two stacks
// would): the TLS 1.2 answers then carry no downgrade sentinel, so the fallback probe is not
// settled, even though nothing older than TLS 1.2 is spoken.
func TestSplitStackNoSentinel(t *testing.T) {
	l := newLab(t)
	rs := certtest.TLS(l.rsa, l.pki.Inter)
	new13 := serveTLS(t, "127.0.31.21", &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{rs}})
	old12 := serveTLS(t, "127.0.31.22", &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{rs}})
	ln := listen(t, "127.0.31.23")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				hdr := make([]byte, 5)
				if _, err := io.ReadFull(c, hdr); err != nil {
					return
				}
				rec := make([]byte, 5+(int(hdr[3])<<8|int(hdr[4])))
				copy(rec, hdr)
				if _, err := io.ReadFull(c, rec[5:]); err != nil {
					return
				}
				to := old12
				if offersTLS13(rec) {
					to = new13
				}
				b, err := net.Dial("tcp", to)
				if err != nil {
					return
				}
				defer b.Close()
				_ = b.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := b.Write(rec); err != nil {
					return
				}
				go func() { _, _ = io.Copy(b, c) }()
				_, _ = io.Copy(c, b)
			}()
		}
	}()
	addr := ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eng, err := hello.Scan(ctx, hello.DialFunc(dialer(addr)), hello.Options{ServerName: "chat.example.org", Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Inspect(ctx, dialer(addr), Options{ServerName: "chat.example.org", Timeout: 3 * time.Second, NoAnalysis: true,
		Engine: func(context.Context) *model.TLSEngineFacts { return eng }})
	if err != nil {
		t.Fatal(err)
	}
	logProbes(t, f.Probes)
	if f.MaxVersion != "TLS 1.3" || f.TLS12 == nil || f.TLS12.DowngradeSentinel != "" {
		t.Fatalf("max %q, TLS 1.2 features %+v: want TLS 1.3 and a TLS 1.2 answer without the sentinel", f.MaxVersion, f.TLS12)
	}
	// Without the sentinel the probe runs, and finds the downgrade: TLS 1.2 with
	// TLS_FALLBACK_SCSV reaches the stack that knows nothing newer.
	if f.Fallback != "accepted" {
		t.Errorf("fallback %q (%s): want the probe made, and the downgrade accepted", f.Fallback, f.FallbackDetail)
	}
	// And the same servers side by side prove the sentinel is there when one stack answers.
	g, err := Inspect(ctx, dialer(new13), Options{ServerName: "chat.example.org", Timeout: 3 * time.Second, NoAnalysis: true})
	if err != nil || g.TLS12 == nil || g.TLS12.DowngradeSentinel != "tls1.2" {
		t.Errorf("TLS 1.3 stack alone: TLS 1.2 features %+v (err %v), want the sentinel", g.TLS12, err)
	}
}
