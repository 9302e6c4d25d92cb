package vuln

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// hostile starts a server that reads the client's first bytes and then runs answer.
func hostile(t *testing.T, answer func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				answer(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// TestHostileServers: garbage, stalls and huge messages end every probe in a verdict
// (never vulnerable, never a hang) within the timeouts.
func TestHostileServers(t *testing.T) {
	huge := append([]byte{22, 3, 3, 0x40, 0}, bytes.Repeat([]byte{11, 0xff, 0xff, 0xff}, 0x1000)...)
	tests := []struct {
		name   string
		answer func(c net.Conn)
	}{
		{"garbage", func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) }},
		{"stall", func(c net.Conn) { time.Sleep(3 * time.Second) }},
		{"close", func(net.Conn) {}},
		{"huge handshake message", func(c net.Conn) {
			for range 40 {
				if _, err := c.Write(huge); err != nil {
					return
				}
			}
		}},
		{"endless records", func(c net.Conn) {
			rec := plainRecord(recApplicationData, 0x0303, make([]byte, 1<<14))
			for range 100 {
				if _, err := c.Write(rec); err != nil {
					return
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := hostile(t, tc.answer)
			start := time.Now()
			f := Run(context.Background(), dialTo(addr), Options{Versions: []uint16{0x0303, 0x0304}, Timeout: time.Second, Wait: 500 * time.Millisecond})
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
			for _, p := range []string{ProbeHeartbleed, ProbeCCSInjection, ProbeTicketbleed, ProbeROBOT, "secure-renegotiation", ProbeClientReneg, "compression", ProbeEarlyData} {
				v := pick(f, p)
				if v == nil || v.Verdict == model.VerdictVulnerable || v.Reason == "" {
					t.Errorf("%s: %+v", p, v)
				}
				if v != nil && v.Verdict == model.VerdictNotVulnerable {
					t.Errorf("%s: a server that never completed a hello was judged not vulnerable: %s", p, v.Reason)
				}
			}
		})
	}
}
