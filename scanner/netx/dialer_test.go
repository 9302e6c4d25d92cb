package netx

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// holdServer accepts connections and keeps them open until closed, tracking the peak number
// of simultaneously open connections.
type holdServer struct {
	ln         net.Listener
	open, peak atomic.Int64
	mu         sync.Mutex
	conns      []net.Conn
}

func newHoldServer(t *testing.T, addr string) *holdServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &holdServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := s.open.Add(1)
			for {
				p := s.peak.Load()
				if n <= p || s.peak.CompareAndSwap(p, n) {
					break
				}
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go func() {
				buf := make([]byte, 1)
				_, _ = c.Read(buf) // returns when the client closes
				s.open.Add(-1)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	})
	return s
}

func (s *holdServer) addr() netip.AddrPort { return netip.MustParseAddrPort(s.ln.Addr().String()) }

func TestPerAddressCap(t *testing.T) {
	srv := newHoldServer(t, "127.0.0.1:0")
	d := New(Options{PerAddress: 3, Timeout: 2 * time.Second})
	ctx := context.Background()
	var wg sync.WaitGroup
	var open, peak atomic.Int64
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := d.Dial(ctx, srv.addr())
			if err != nil {
				t.Error(err)
				return
			}
			n := open.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			time.Sleep(30 * time.Millisecond)
			open.Add(-1)
			c.Close()
		}()
	}
	wg.Wait()
	// Counted on the client side between Dial and Close: the server only learns of a close
	// after the slot is already free, so its own count can briefly overlap.
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak connections held to one address = %d, want exactly the cap 3", p)
	}
	if got := d.Dials(); got != 12 {
		t.Fatalf("Dials() = %d, want 12", got)
	}
}

func TestPerAddressCapIsPerAddress(t *testing.T) {
	a := newHoldServer(t, "127.0.0.1:0")
	b := newHoldServer(t, "127.0.0.2:0")
	d := New(Options{PerAddress: 1, Timeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ca, err := d.Dial(ctx, a.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	// A different address has its own slot even while a's only slot is taken.
	cb, err := d.Dial(ctx, b.addr())
	if err != nil {
		t.Fatalf("dial to second address blocked by the first's cap: %v", err)
	}
	cb.Close()
	// The same address must wait; with a short deadline it gives up with ctx's error.
	sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer scancel()
	if _, err := d.Dial(sctx, a.addr()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second dial to a capped address: err = %v, want deadline exceeded", err)
	}
}

func TestRateLimit(t *testing.T) {
	srv := newHoldServer(t, "127.0.0.1:0")
	d := New(Options{Rate: 10, PerAddress: 64, Timeout: time.Second})
	start := time.Now()
	for range 15 {
		c, err := d.Dial(context.Background(), srv.addr())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	// Burst of 10, then 5 more at 10/s: at least ~0.5s. Only a lower bound is asserted.
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Fatalf("15 dials at 10/s took %s, want >= 400ms", el)
	}
}

func TestReadTimeoutAndCancel(t *testing.T) {
	srv := newHoldServer(t, "127.0.0.1:0")
	d := New(Options{Timeout: 150 * time.Millisecond})
	c, err := d.Dial(context.Background(), srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Read(make([]byte, 1))
	if !IsTimeout(err) {
		t.Fatalf("read from a silent server: err = %v, want timeout", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("read timeout took %s", el)
	}
	c.Close()

	// Cancelling the context closes a connection blocked in Read.
	d = New(Options{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	c, err = d.Dial(ctx, srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start = time.Now()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read succeeded after cancel")
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("cancel took %s to end a blocked read", el)
	}
}

func TestConnectTo(t *testing.T) {
	srv := newHoldServer(t, "127.0.0.1:0")
	d := New(Options{ConnectTo: map[string]string{"127.0.0.9:25": srv.addr().String()}})
	c, err := d.Dial(context.Background(), netip.MustParseAddrPort("127.0.0.9:25"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr().String() != srv.addr().String() {
		t.Fatalf("connected to %s, want %s", c.RemoteAddr(), srv.addr())
	}
}

func TestCloseWrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_, err = c.Read(make([]byte, 1)) // returns io.EOF once the client half-closes
		got <- err
	}()
	d := New(Options{Timeout: 5 * time.Second})
	c, err := d.Dial(context.Background(), netip.MustParseAddrPort(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("netx connections do not expose CloseWrite")
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("server read data, want end-of-stream")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the server did not see the half-close")
	}
}
