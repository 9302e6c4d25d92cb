package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rampart-scan/rampart/model"
)

// progress draws "endpoints done / total, ETA" on a terminal's stderr. It implements
// pipeline.Sink; a nil *progress is a no-op so callers need no conditionals.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	total   int
	done    int
	start   time.Time
	now     func() time.Time
	lastLen int
}

func newProgress(w io.Writer, now func() time.Time) *progress {
	return &progress{w: w, now: now}
}

func (p *progress) Start(total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.start = total, p.now()
	p.draw()
}

func (p *progress) Endpoint(*model.EndpointResult) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.draw()
}

func (p *progress) Domain(*model.DomainResult) {}

func (p *progress) Nodes(*model.NodeGroupResult) {}

func (p *progress) Revised(*model.EndpointResult) {}

// Finish clears the bar.
func (p *progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.lastLen))
}

func (p *progress) draw() {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = width * p.done / p.total
	}
	eta := "--"
	if p.done > 0 && p.done < p.total {
		el := p.now().Sub(p.start)
		rem := time.Duration(float64(el) / float64(p.done) * float64(p.total-p.done))
		eta = rem.Round(time.Second).String()
	} else if p.done >= p.total {
		eta = "0s"
	}
	line := fmt.Sprintf("[%s%s] %d/%d endpoints  ETA %s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.done, p.total, eta)
	pad := ""
	if n := p.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.lastLen = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}
