package scanner

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-scan/rampart/model"
)

func endpoints(n int) []model.Endpoint {
	var eps []model.Endpoint
	for i := range n {
		eps = append(eps, model.Endpoint{Name: fmt.Sprintf("h%d.example", i), Addr: netip.MustParseAddrPort(fmt.Sprintf("127.0.0.1:%d", 1000+i))})
	}
	return eps
}

func TestOrchestratorBoundsWorkers(t *testing.T) {
	var inFlight, peak atomic.Int64
	p := ProberFunc(func(ctx context.Context, ep model.Endpoint) model.Observation {
		n := inFlight.Add(1)
		for q := peak.Load(); n > q && !peak.CompareAndSwap(q, n); q = peak.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		inFlight.Add(-1)
		return model.Observation{Endpoint: ep, Status: model.StatusOK}
	})
	o := &Orchestrator{Prober: p, Workers: 4}
	seen := map[string]bool{}
	if err := o.Run(context.Background(), endpoints(40), func(obs model.Observation) {
		if seen[obs.Endpoint.ID()] {
			t.Errorf("endpoint %s emitted twice", obs.Endpoint.ID())
		}
		seen[obs.Endpoint.ID()] = true
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 40 {
		t.Fatalf("emitted %d endpoints, want 40", len(seen))
	}
	if got := peak.Load(); got != 4 {
		t.Fatalf("peak in-flight probes = %d, want exactly 4", got)
	}
}

func TestOrchestratorCancel(t *testing.T) {
	started := make(chan struct{}, 100)
	p := ProberFunc(func(ctx context.Context, ep model.Endpoint) model.Observation {
		started <- struct{}{}
		<-ctx.Done() // a probe stuck on the network until cancelled
		return model.Observation{Endpoint: ep, Status: model.StatusError, Error: "cancelled"}
	})
	ctx, cancel := context.WithCancel(context.Background())
	o := &Orchestrator{Prober: p, Workers: 3}
	go func() {
		for range 3 {
			<-started
		}
		cancel()
	}()
	var got []model.Observation
	start := time.Now()
	err := o.Run(ctx, endpoints(20), func(obs model.Observation) { got = append(got, obs) })
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Run took %s after cancel, want < 1s", el)
	}
	if err == nil {
		t.Fatal("Run returned nil after cancel")
	}
	if len(got) != 20 {
		t.Fatalf("emitted %d observations, want all 20", len(got))
	}
	for _, obs := range got {
		if obs.Status != model.StatusInterrupted {
			t.Errorf("%s: status %s, want interrupted", obs.Endpoint.ID(), obs.Status)
		}
	}
}

func TestOrchestratorKeepsFinishedOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	p := ProberFunc(func(pctx context.Context, ep model.Endpoint) model.Observation {
		if n.Add(1) == 5 {
			cancel()
		}
		if pctx.Err() != nil {
			return model.Observation{Endpoint: ep, Status: model.StatusError}
		}
		return model.Observation{Endpoint: ep, Status: model.StatusOK}
	})
	o := &Orchestrator{Prober: p, Workers: 1}
	ok, interrupted := 0, 0
	_ = o.Run(ctx, endpoints(10), func(obs model.Observation) {
		switch obs.Status {
		case model.StatusOK:
			ok++
		case model.StatusInterrupted:
			interrupted++
		}
	})
	if ok != 4 || interrupted != 6 {
		t.Fatalf("ok=%d interrupted=%d, want 4 finished and 6 interrupted", ok, interrupted)
	}
}
