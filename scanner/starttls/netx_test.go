package starttls

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
)

// TestNetxTimeouts runs Negotiate on connections from the scan's dialer: a good dialogue goes
// through, and a server that stalls mid-reply ends on the dialer's per-read timeout even when
// the context has no deadline.
func TestNetxTimeouts(t *testing.T) {
	d := netx.New(netx.Options{Timeout: 300 * time.Millisecond})
	dialFake := func(script []step, host string) (*model.StartTLSFacts, error) {
		addr, _ := fakeServer(t, host, script)
		conn, err := d.Dial(context.Background(), netip.MustParseAddrPort(addr))
		if err != nil {
			t.Fatalf("netx dial: %v", err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		f, err := Negotiate(context.Background(), conn, "pop3", Options{})
		if err == nil {
			proveEcho(t, conn)
		}
		return f, err
	}

	f, err := dialFake([]step{send("+OK hi\r\n"), expect("CAPA"), send("+OK\r\nSTLS\r\n.\r\n"), expect("STLS"), send("+OK go\r\n"), tlsUp}, "127.0.83.253")
	if err != nil || f.Outcome != model.StartTLSAccepted {
		t.Fatalf("good dialogue through netx: %v, %+v", err, f)
	}

	start := time.Now()
	f, err = dialFake([]step{send("+OK hi\r\n"), expect("CAPA"), send("+OK\r\nSTL"), stall}, "127.0.83.254")
	if !netx.IsTimeout(err) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("stall took %v to end", el)
	}
	wantEq(t, f.Outcome, model.StartTLSFailed)
}
