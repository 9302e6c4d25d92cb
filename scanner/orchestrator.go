// Package scanner runs probes over endpoints: a bounded pool of workers, each endpoint probed
// once, results streamed to the caller as they finish. Connection-level limits (global rate,
// per-address cap, timeouts) live in the netx.Dialer the probes share.
package scanner

import (
	"context"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// Prober records the facts of one endpoint. It must return when ctx ends.
type Prober interface {
	Probe(ctx context.Context, ep model.Endpoint) model.Observation
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, ep model.Endpoint) model.Observation

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, ep model.Endpoint) model.Observation {
	return f(ctx, ep)
}

// Orchestrator probes endpoints with at most Workers in flight.
type Orchestrator struct {
	Prober  Prober
	Workers int
	// Now is the clock (injectable for tests).
	Now func() time.Time
}

// Run probes every endpoint and calls emit once per endpoint, from one goroutine at a time, in
// completion order. When ctx is cancelled, probes in flight end promptly (their observation
// carries the interruption) and endpoints not yet started are emitted with
// StatusInterrupted, so the caller always sees every endpoint. Run returns ctx.Err() if the
// scan was interrupted.
func (o *Orchestrator) Run(ctx context.Context, eps []model.Endpoint, emit func(model.Observation)) error {
	workers := o.Workers
	if workers <= 0 {
		workers = 1
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	jobs := make(chan model.Endpoint)
	results := make(chan model.Observation)
	var wg sync.WaitGroup
	for range min(workers, max(len(eps), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ep := range jobs {
				obs := o.Prober.Probe(ctx, ep)
				if ctx.Err() != nil && obs.Status != model.StatusOK {
					obs.Status = model.StatusInterrupted
					if obs.Error == "" {
						obs.Error = "scan interrupted"
					}
				}
				results <- obs
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		for i, ep := range eps {
			select {
			case jobs <- ep:
			case <-ctx.Done():
				for _, rest := range eps[i:] {
					results <- model.Observation{Endpoint: rest, Started: now(), Status: model.StatusInterrupted, Error: "not probed: scan interrupted"}
				}
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for obs := range results {
		emit(obs)
	}
	return ctx.Err()
}
