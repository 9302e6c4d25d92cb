package hello

import (
	"context"
	"crypto/tls"
	"slices"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func suiteNames(ev model.EngineVersion) []string {
	var out []string
	for _, s := range ev.Suites {
		out = append(out, s.Name)
	}
	return out
}

func version(f *model.TLSEngineFacts, v uint16) model.EngineVersion {
	for _, ev := range f.Versions {
		if ev.VersionID == v {
			return ev
		}
	}
	return model.EngineVersion{}
}

func groupNames(f *model.TLSEngineFacts) []string {
	var out []string
	for _, g := range f.Groups {
		out = append(out, g.Name)
	}
	return out
}

func TestScanGoServer(t *testing.T) {
	rsaCert := testCert(t, 2048)
	ecCert := testCert(t, 0)
	tests := []struct {
		name       string
		cfg        *tls.Config
		versions   map[uint16][]string // supported versions and their suites as a set
		groups     []string
		groupsVers string
	}{
		{
			name: "tls12-and-13-rsa",
			cfg: &tls.Config{Certificates: []tls.Certificate{rsaCert}, MinVersion: tls.VersionTLS12,
				CipherSuites:     []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
				CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}},
			versions: map[uint16][]string{
				VersionTLS12: {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
				VersionTLS13: {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"},
			},
			groups:     []string{"x25519", "secp256r1"},
			groupsVers: "TLS 1.3",
		},
		{
			name: "tls10-12-ecdsa-legacy",
			cfg: &tls.Config{Certificates: []tls.Certificate{ecCert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA,
					tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
				CurvePreferences: []tls.CurveID{tls.CurveP384}},
			versions: map[uint16][]string{
				VersionTLS10: {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
				VersionTLS11: {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
				VersionTLS12: {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
			},
			groups:     []string{"secp384r1"},
			groupsVers: "TLS 1.2",
		},
		{
			name: "tls13-only",
			cfg: &tls.Config{Certificates: []tls.Certificate{ecCert}, MinVersion: tls.VersionTLS13,
				CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.CurveP521}},
			versions: map[uint16][]string{
				VersionTLS13: {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"},
			},
			groups:     []string{"X25519MLKEM768", "secp521r1"},
			groupsVers: "TLS 1.3",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := goTLSServer(t, "127.0.3."+string(rune('1'+i)), tc.cfg)
			// The default, fixed small bundles, and every version on its own must agree.
			for _, opts := range []Options{{}, {MaxSuitesPerHello: 64}, {Exhaustive: true}} {
				opts.ServerName, opts.Timeout = "localhost", 3*time.Second
				checkGoServer(t, addr, opts, tc.versions, tc.groups, tc.groupsVers)
			}
		})
	}
}

// checkGoServer scans addr with opts and compares versions, suites (as sets) and groups.
func checkGoServer(t *testing.T, addr string, opts Options, versions map[uint16][]string, groups []string, groupsVers string) {
	t.Helper()
	d := &counter{addr: addr}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, err := Scan(ctx, d.dial, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range AllVersions {
		ev := version(f, v)
		want, ok := versions[v]
		if ev.Supported != ok {
			t.Errorf("%s supported = %v, want %v (error %q)", VersionName(v), ev.Supported, ok, ev.Error)
		}
		if ev.Error != "" {
			t.Errorf("%s error: %s", VersionName(v), ev.Error)
		}
		if got, w := slices.Sorted(slices.Values(suiteNames(ev))), slices.Sorted(slices.Values(want)); !slices.Equal(got, w) {
			t.Errorf("%s suites = %v, want %v", VersionName(v), got, w)
		}
	}
	gs, wg := slices.Sorted(slices.Values(groupNames(f))), slices.Sorted(slices.Values(groups))
	if !slices.Equal(gs, wg) || f.GroupsVersion != groupsVers || f.GroupsError != "" {
		t.Errorf("groups = %v via %s (err %q), want %v via %s", gs, f.GroupsVersion, f.GroupsError, wg, groupsVers)
	}
	if int64(f.Connections) != d.n.Load() {
		t.Errorf("facts count %d connections, dialer saw %d", f.Connections, d.n.Load())
	}
	t.Logf("MaxSuitesPerHello=%d Exhaustive=%v: %d connections in %v", opts.MaxSuitesPerHello, opts.Exhaustive, f.Connections, f.Duration)
}
