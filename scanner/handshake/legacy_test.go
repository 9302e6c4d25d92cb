package handshake

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/rampart-scan/rampart/model"
)

// legacyServer answers every ClientHello with a scripted TLS ≤1.2 first flight of an old
// stack: the client's own version (so TLS_FALLBACK_SCSV is ignored), DHE with a 1024-bit
// group when offered, DEFLATE when offered, the heartbeat extension, and neither
// renegotiation_info nor extended_master_secret. It never finishes a handshake.
func legacyServer(t *testing.T, addr string, certDER []byte) string {
	return hostile(t, addr, func(c net.Conn) {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		s := cryptobyte.String(body[4:])
		var vers uint16
		var sid, suites, comps cryptobyte.String
		if !s.ReadUint16(&vers) || !s.Skip(32) || !s.ReadUint8LengthPrefixed(&sid) || !s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comps) {
			return
		}
		if vers > 0x0303 {
			vers = 0x0303
		}
		suite, first := uint16(0), uint16(0)
		for !suites.Empty() {
			var id uint16
			suites.ReadUint16(&id)
			if first == 0 && id != 0x5600 && id != 0x00ff {
				first = id
			}
			if id == 0x0033 {
				suite = id
			}
		}
		if suite == 0 {
			suite = first
		}
		comp := uint8(0)
		for _, m := range comps {
			if m == 1 {
				comp = 1
			}
		}
		var b cryptobyte.Builder
		hs := func(typ uint8, f func(b *cryptobyte.Builder)) {
			b.AddUint8(typ)
			b.AddUint24LengthPrefixed(f)
		}
		hs(typeServerHello, func(b *cryptobyte.Builder) {
			b.AddUint16(vers)
			b.AddBytes(make([]byte, 32))
			b.AddUint8(0)
			b.AddUint16(suite)
			b.AddUint8(comp)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16(extHeartbeat)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) })
			})
		})
		hs(typeCertificate, func(b *cryptobyte.Builder) {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(certDER) })
			})
		})
		if isDHE(suite) {
			hs(typeServerKeyExchange, func(b *cryptobyte.Builder) {
				p := make([]byte, 128)
				p[0] = 0xff
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(p) })
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(2) })
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 128)) })
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 64)) })
			})
		}
		hs(typeServerHelloDone, func(*cryptobyte.Builder) {})
		flight := b.BytesOrPanic()
		// Split the flight over two records to exercise reassembly.
		half := len(flight) / 2
		for _, part := range [][]byte{flight[:half], flight[half:]} {
			rec := []byte{22, 3, byte(vers), byte(len(part) >> 8), byte(len(part))}
			if _, err := c.Write(append(rec, part...)); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, c)
	})
}

func TestInspectLegacyServer(t *testing.T) {
	l := newLab(t)
	addr := legacyServer(t, "127.0.35.1", l.rsa.DER)
	f, err := Inspect(context.Background(), dialer(addr), Options{ServerName: "chat.example.org", Timeout: 2 * time.Second, NoAnalysis: true})
	if err != nil {
		t.Fatal(err)
	}
	logProbes(t, f.Probes)
	want := model.TLS12Features{Version: "TLS 1.2", CipherSuite: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", SuiteID: 0x0033, Heartbeat: true, Compression: 1, Extensions: []uint16{extHeartbeat}}
	if got := f.TLS12; got == nil || got.Version != want.Version || got.CipherSuite != want.CipherSuite || got.SecureRenegotiation ||
		got.ExtendedMasterSecret || !got.Heartbeat || got.Compression != 1 || got.SessionTicket || got.EncryptThenMAC {
		t.Errorf("TLS 1.2 features %+v, want %+v", got, want)
	}
	if f.DHEBits != 1024 || !f.DHETested {
		t.Errorf("DHE bits %d tested %v", f.DHEBits, f.DHETested)
	}
	if f.Fallback != "accepted" {
		t.Errorf("fallback %q %s", f.Fallback, f.FallbackDetail)
	}
	if f.MaxVersion != "TLS 1.2" || len(f.Chains) == 0 || f.Chains[0].KeyType != "RSA" {
		t.Errorf("max %q chains %+v", f.MaxVersion, f.Chains)
	}
	if f.TicketResumption != "" || f.SessionIDResumption != "" {
		t.Errorf("resumption judged without a completed handshake: %q %q", f.TicketResumption, f.SessionIDResumption)
	}
	if f.Connections != len(f.Probes) {
		t.Errorf("connections %d probes %d", f.Connections, len(f.Probes))
	}
}
