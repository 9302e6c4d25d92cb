package exposure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/scanner/netx"
)

// closedPort returns a port on host that nothing listens on.
func closedPort(t *testing.T, host string) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParseAddrPort(ln.Addr().String()).Port()
	_ = ln.Close()
	return p
}

func TestScanStates(t *testing.T) {
	t.Parallel()
	ssh := serve(t, lineServer("SSH-2.0-dropbear_2022.83\r\n", func(string) string { return "" }))
	host := ssh.addr().Addr()
	// A second service on the same address.
	ln, err := net.Listen("tcp", host.String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.WriteString(c, "+OK ready\r\n")
				_, _ = io.Copy(io.Discard, io.LimitReader(c, 1024))
			}()
		}
	}()
	pop := netip.MustParseAddrPort(ln.Addr().String()).Port()
	closed := closedPort(t, host.String())

	s := New(testDialer(), Options{Workers: 8, Identify: true, Ident: fastIdent})
	res, err := s.ScanAll(context.Background(), []netip.Addr{host}, []uint16{ssh.addr().Port(), pop, closed})
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint16]Result{}
	for _, r := range res {
		got[r.Addr.Port()] = r
	}
	if len(got) != 3 {
		t.Fatalf("got %d results: %+v", len(got), res)
	}
	if r := got[ssh.addr().Port()]; r.State != model.PortOpen || r.Service == nil || r.Service.Service != model.SvcSSH || r.Service.Product != "dropbear" {
		t.Errorf("ssh port: %+v %+v", r, r.Service)
	}
	if r := got[pop]; r.State != model.PortOpen || r.Service == nil || r.Service.Service != model.SvcPOP3 {
		t.Errorf("pop3 port: %+v", r)
	}
	if r := got[closed]; r.State != model.PortClosed || r.Service != nil || r.Error == "" {
		t.Errorf("closed port: %+v", r)
	}
	obs := got[ssh.addr().Port()].Observation(model.Endpoint{Name: "h.test", Tags: []string{"role:mail"}}, time.Now())
	if obs.Endpoint.Service != model.SvcSSH || obs.Endpoint.Name != "h.test" || obs.Service == nil || obs.Connect == nil || !obs.Connect.Reachable {
		t.Errorf("observation: %+v", obs)
	}
}

func TestStateOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want model.PortState
	}{
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, model.PortClosed},
		{&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, model.PortFiltered},
		{context.DeadlineExceeded, model.PortFiltered},
		{errors.New("i/o timeout"), model.PortFiltered},
	}
	for _, tc := range cases {
		if got := StateOf(tc.err); got != tc.want {
			t.Errorf("StateOf(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// slowDialer counts dials and fails each with a timeout after a delay.
type slowDialer struct{ n atomic.Int64 }

func (d *slowDialer) Dial(ctx context.Context, _ netip.AddrPort) (net.Conn, error) {
	d.n.Add(1)
	select {
	case <-time.After(50 * time.Millisecond):
		return nil, fmt.Errorf("dial: %w", context.DeadlineExceeded)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestScanFilteredAndCancel(t *testing.T) {
	t.Parallel()
	d := &slowDialer{}
	s := New(d, Options{Workers: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	hosts := []netip.Addr{netip.MustParseAddr("127.0.0.9")}
	ports := make([]uint16, 1000)
	for i := range ports {
		ports[i] = uint16(i + 1)
	}
	start := time.Now()
	var n int
	err := s.Scan(ctx, hosts, ports, func(r Result) {
		n++
		if r.State != model.PortFiltered {
			t.Errorf("state %s, want filtered", r.State)
		}
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancelled scan took %v", took)
	}
	if n == 0 || n >= len(ports) {
		t.Errorf("%d results before cancel", n)
	}
}

// countingDialer tracks how many connections it handed out are open at once.
type countingDialer struct {
	d         *netx.Dialer
	cur, peak atomic.Int64
}

func (c *countingDialer) Dial(ctx context.Context, a netip.AddrPort) (net.Conn, error) {
	conn, err := c.d.Dial(ctx, a)
	if err != nil {
		return nil, err
	}
	n := c.cur.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &countedConn{Conn: conn, c: c}, nil
}

type countedConn struct {
	net.Conn
	c    *countingDialer
	once atomic.Bool
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	if c.once.CompareAndSwap(false, true) {
		c.c.cur.Add(-1)
	}
	return err
}

// TestScanPerAddressCap: open ports that never speak hold their connection during
// identification; the dialer's per-address cap bounds how many are open at once, and every
// connection is closed at the end.
func TestScanPerAddressCap(t *testing.T) {
	t.Parallel()
	handle := func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }
	var ports []uint16
	first := serve(t, handle)
	host := first.addr().Addr()
	ports = append(ports, first.addr().Port())
	for range 5 {
		ln, err := net.Listen("tcp", host.String()+":0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); handle(c) }()
			}
		}()
		ports = append(ports, netip.MustParseAddrPort(ln.Addr().String()).Port())
	}
	d := &countingDialer{d: netx.New(netx.Options{Timeout: 2 * time.Second, PerAddress: 2})}
	s := New(d, Options{Workers: 16, Identify: true, Ident: IdentifyOptions{BannerWait: 200 * time.Millisecond, ProbeWait: 50 * time.Millisecond, Budget: 400 * time.Millisecond}})
	res, err := s.ScanAll(context.Background(), []netip.Addr{host}, ports)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ports) {
		t.Fatalf("%d results", len(res))
	}
	if p := d.peak.Load(); p != 2 {
		t.Errorf("peak concurrent connections %d, want the cap (2)", p)
	}
	if n := d.cur.Load(); n != 0 {
		t.Errorf("%d connections left open", n)
	}
}

// TestScanNames: the name given for an address reaches the server as the HTTP Host.
func TestScanNames(t *testing.T) {
	t.Parallel()
	hostSeen := make(chan string, 4)
	srv := serve(t, func(c net.Conn) {
		buf := make([]byte, 2048)
		n, _ := c.Read(buf)
		for _, line := range strings.Split(string(buf[:n]), "\r\n") {
			if h, ok := strings.CutPrefix(line, "Host: "); ok {
				hostSeen <- h
				_, _ = io.WriteString(c, httpResp("200 OK", "Server: test/1\r\n", "ok"))
				return
			}
		}
	})
	a := srv.addr()
	s := New(testDialer(), Options{Identify: true, Ident: fastIdent, Names: map[netip.Addr]string{a.Addr(): "www.example.test"}})
	res, err := s.ScanAll(context.Background(), []netip.Addr{a.Addr()}, []uint16{a.Port()})
	if err != nil || len(res) != 1 || res[0].Service == nil || res[0].Service.Service != model.SvcHTTP {
		t.Fatalf("scan: %v %+v", err, res)
	}
	if h := <-hostSeen; h != "www.example.test" {
		t.Fatalf("Host header %q", h)
	}
}
