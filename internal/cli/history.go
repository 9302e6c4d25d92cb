package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/policies"
	"github.com/rampart-scan/rampart/reports/html"
	"github.com/rampart-scan/rampart/store"
)

// recorder writes a running scan into the store as endpoints finish. It implements
// pipeline.Sink. A nil *recorder (--no-store) does nothing.
type recorder struct {
	env *Env
	st  *store.Store
	id  string
	w   *store.Writer
	err error // the first store error, reported once
}

// startRecording opens the database and begins the scan row (status running).
func startRecording(ctx context.Context, env *Env, path string, pol *policies.Policy, ts []model.Target, started time.Time) (*recorder, error) {
	st, err := OpenScanStore(ctx, env, path)
	if err != nil {
		return nil, err
	}
	id, err := st.BeginScan(ctx, store.ScanMeta{
		Tool:   model.ToolInfo{Name: "rampart", Version: env.Version},
		Policy: pol.Identity(), PolicyHash: pol.Hash, Targets: ts, Started: started,
	})
	if err != nil {
		st.Close()
		return nil, &ExitError{Code: ExitFailed, Err: fmt.Errorf("recording the scan: %w", err)}
	}
	w, err := st.Writer(ctx, id)
	if err != nil {
		st.Close()
		return nil, &ExitError{Code: ExitFailed, Err: fmt.Errorf("recording the scan: %w", err)}
	}
	return &recorder{env: env, st: st, id: id, w: w}, nil
}

func (r *recorder) note(err error) {
	if err == nil || r.err != nil {
		return
	}
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintf(r.env.Err, "rampart: the scan database is busy; results are kept and written when it frees: %v\n", err)
		return
	}
	r.err = err
	fmt.Fprintf(r.env.Err, "rampart: recording the scan: %v\n", err)
}

func (r *recorder) Start(int) {}
func (r *recorder) Endpoint(er *model.EndpointResult) {
	if r != nil {
		r.note(r.w.Add(*er))
	}
}
func (r *recorder) Domain(dr *model.DomainResult) {
	if r != nil {
		r.note(r.w.AddDomain(*dr))
	}
}
func (r *recorder) Revised(er *model.EndpointResult) {
	if r != nil {
		r.note(r.w.Update(*er))
	}
}
func (r *recorder) Nodes(nr *model.NodeGroupResult) {
	if r != nil {
		r.note(r.w.AddNodes(*nr))
	}
}

// finish flushes what is buffered and records the final status, even when ctx was
// cancelled (Ctrl-C must still mark the scan interrupted).
func (r *recorder) finish(ctx context.Context, res *model.ScanResult) error {
	ctx = context.WithoutCancel(ctx)
	for _, n := range res.Discovery {
		r.note(r.w.AddNote(n))
	}
	r.note(r.w.Close())
	var scanErr error
	if res.Error != "" {
		scanErr = errors.New(res.Error)
	}
	if err := r.st.FinishScan(ctx, r.id, res.Status, scanErr); err != nil {
		r.note(err)
	}
	return r.err
}

// reportContext builds the drift since the previous complete scan of the same scope and the
// trend for the HTML report. Missing history is not an error: the first scan has none.
func (r *recorder) reportContext(ctx context.Context, rc reportContext) reportContext {
	return historyContext(ctx, r.st, r.id, rc)
}

func historyContext(ctx context.Context, st *store.Store, id string, rc reportContext) reportContext {
	if d, err := st.DriftSincePrevious(ctx, id); err == nil {
		rc.drift = d
	}
	if infos, err := st.Trend(ctx, id, 30); err == nil && len(infos) > 1 {
		// The HTML report adds the current scan itself as the last point.
		for _, in := range infos[:len(infos)-1] {
			tp := html.TrendPoint{Time: in.Started, ScanID: in.ID, Findings: map[model.Severity]int{}, Grades: in.Grades}
			for name, n := range in.Findings {
				if s, err := model.ParseSeverity(name); err == nil {
					tp.Findings[s] = n
				}
			}
			rc.trend = append(rc.trend, tp)
		}
	}
	return rc
}
