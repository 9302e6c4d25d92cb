package hello

import (
	"context"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/scanner/netx"
)

// Every hostile server must end the scan within the timeout with an error fact on each
// version it broke, never a hang or a panic.
func TestScanHostileServers(t *testing.T) {
	readHello := func(c net.Conn) {
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Read(buf)
	}
	tests := []struct {
		name    string
		handle  func(net.Conn)
		wantErr string // substring of every version's error
	}{
		{"garbage", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		}, "not"},
		{"truncated-record", func(c net.Conn) {
			readHello(c)
			_, _ = c.Write([]byte{22, 3, 3, 0, 200, 2, 0, 0, 196, 3, 3})
		}, "middle of a record"},
		{"never-answers", func(c net.Conn) {
			readHello(c)
			time.Sleep(3 * time.Second)
		}, "timeout"},
		{"closes-mid-handshake", func(c net.Conn) {
			readHello(c)
			// A complete ServerHello header announcing 100 bytes, then 10 of them, then close.
			_, _ = c.Write([]byte{22, 3, 3, 0, 14, 2, 0, 0, 100, 3, 3, 1, 2, 3, 4, 5, 6, 7, 8})
		}, "middle of a record"},
		{"huge-handshake-message", func(c net.Conn) {
			readHello(c)
			// A 15 MiB ServerHello spread over full records.
			msg := []byte{2, 0xf0, 0, 0}
			for i := 0; i < 1000; i++ {
				rec := append([]byte{22, 3, 3, 0x40, 0}, make([]byte, 1<<14)...)
				if i == 0 {
					copy(rec[5:], msg)
				}
				if _, err := c.Write(rec); err != nil {
					return
				}
			}
		}, "larger than the read limit"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln := listen(t, "127.0.4."+string(rune('1'+i)))
			serve(t, ln, func(c net.Conn) { tc.handle(c) })
			d := &counter{addr: ln.Addr().String()}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			f, err := Scan(ctx, d.dial, Options{Timeout: time.Second, Parallel: 6})
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 8*time.Second {
				t.Errorf("scan took %v", el)
			}
			for _, ev := range f.Versions {
				if ev.Supported {
					t.Errorf("%s reported supported", ev.Version)
				}
				if ev.VersionID == VersionSSL20 && tc.name != "never-answers" {
					continue // an SSLv2 hello reads a two-byte header only: most of these look like refusals
				}
				if !strings.Contains(ev.Error, tc.wantErr) {
					t.Errorf("%s error = %q, want it to mention %q", ev.Version, ev.Error, tc.wantErr)
				}
			}
		})
	}
}

// A server that accepts and closes at once refuses every version without an error.
func TestScanClosingServerIsRefusal(t *testing.T) {
	ln := listen(t, "127.0.4.9")
	serve(t, ln, func(c net.Conn) { _, _ = io.CopyN(io.Discard, c, 5) })
	d := &counter{addr: ln.Addr().String()}
	f, err := Scan(context.Background(), d.dial, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range f.Versions {
		if ev.Supported || ev.Error != "" {
			t.Errorf("%s: supported=%v error=%q", ev.Version, ev.Supported, ev.Error)
		}
	}
}

func TestScanCancelled(t *testing.T) {
	ln := listen(t, "127.0.4.10")
	serve(t, ln, func(c net.Conn) { time.Sleep(5 * time.Second) })
	d := &counter{addr: ln.Addr().String()}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Scan(ctx, d.dial, Options{Timeout: 10 * time.Second}); err == nil {
		t.Error("Scan returned no error after its context ended")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("cancelled scan took %v", el)
	}
}

// A server whose certificate message announces megabytes: the suite is still found, the
// ServerKeyExchange is given up with an error fact, and the scan ends at once.
func TestScanHugeCertificateMessage(t *testing.T) {
	ln := listen(t, "127.0.4.11")
	suite := uint16(0xC02F) // ECDHE-RSA-AES128-GCM-SHA256
	serve(t, ln, func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		var hdr [5]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != recordHandshake {
			return
		}
		rec := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(c, rec); err != nil {
			return
		}
		h, ok := parseClientHello(rec)
		if !ok || len(h.versions) > 0 || h.version != VersionTLS12 || !slices.Contains(h.suites, suite) {
			_, _ = c.Write(alertRecord(alertProtocolVersion))
			return
		}
		flight := handshake(typeServerHello, serverHello(VersionTLS12, suite, nil, nil))
		flight = append(flight, typeCertificate, 0x50, 0, 0) // 5 MiB announced
		flight = append(flight, make([]byte, 8000)...)
		_, _ = c.Write(append([]byte{recordHandshake, 3, 3, byte(len(flight) >> 8), byte(len(flight))}, flight...))
		_, _ = io.Copy(io.Discard, c)
	})
	d := &counter{addr: ln.Addr().String()}
	start := time.Now()
	f, err := Scan(context.Background(), d.dial, Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("scan took %v", el)
	}
	ev := version(f, VersionTLS12)
	if !ev.Supported || len(ev.Suites) != 1 || ev.Suites[0].ID != suite || ev.Error != "" {
		t.Errorf("TLS 1.2 = %+v", ev)
	}
	if !strings.Contains(ev.KeyExchangeError, "larger than the read limit") {
		t.Errorf("key exchange error = %q", ev.KeyExchangeError)
	}
}

// A server that trickles its reply one byte at a time through a dialer whose connections reset
// their read deadline at every Read (netx's do) must still end within the probe timeout.
func TestScanTricklingServerThroughNetx(t *testing.T) {
	ln := listen(t, "127.0.4.12")
	serve(t, ln, func(c net.Conn) {
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(buf); err != nil {
			return
		}
		sh := handshake(typeServerHello, serverHello(VersionTLS12, 0xC02F, nil, nil))
		rec := append([]byte{recordHandshake, 3, 3, byte(len(sh) >> 8), byte(len(sh))}, sh...)
		for _, b := range rec {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	ap := netip.MustParseAddrPort(ln.Addr().String())
	d := netx.New(netx.Options{Timeout: time.Second, PerAddress: 6})
	start := time.Now()
	f, err := Scan(context.Background(), DialAddr(d, ap), Options{Timeout: 1500 * time.Millisecond, Parallel: 6,
		Versions: []uint16{VersionTLS12}, SkipGroups: true})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("scan took %v", el)
	}
	ev := version(f, VersionTLS12)
	if ev.Supported || !strings.Contains(ev.Error, "no complete answer within") {
		t.Errorf("TLS 1.2 = %+v", ev)
	}
}
