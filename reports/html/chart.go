package html

import (
	"fmt"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// chart is the trend of active findings by severity, laid out for an inline SVG.
type chart struct {
	W, H                   int
	Left, Right, Top, Base float64
	Series                 []series
	YTicks                 []tick
	XTicks                 []tick
	Points                 int
}

type series struct {
	Name   string
	Points string // SVG polyline points
	Dots   []dot
}

type dot struct {
	X, Y  float64
	Label string
}

type tick struct {
	Pos    float64
	Label  string
	Anchor string // SVG text-anchor
}

// trendWithCurrent appends the current scan to the history unless it is already its last point.
func trendWithCurrent(trend []TrendPoint, s *model.ScanResult, counts map[model.Severity]int) []TrendPoint {
	out := append([]TrendPoint(nil), trend...)
	if n := len(out); n > 0 && ((s.ID != "" && out[n-1].ScanID == s.ID) || out[n-1].Time.Equal(s.Started)) {
		return out
	}
	if len(out) == 0 {
		return nil // no history: a one-point chart says nothing the summary does not
	}
	cur := map[model.Severity]int{}
	for k, v := range counts {
		cur[k] = v
	}
	return append(out, TrendPoint{Time: s.Started, ScanID: s.ID, Findings: cur})
}

func trendChart(points []TrendPoint) *chart {
	if len(points) == 0 {
		return nil
	}
	c := &chart{W: 760, H: 220, Left: 44, Right: 744, Top: 16, Base: 184, Points: len(points)}
	maxY := 1
	for _, p := range points {
		for _, n := range p.Findings {
			maxY = max(maxY, n)
		}
	}
	maxY = niceCeil(maxY)
	x := func(i int) float64 {
		if len(points) == 1 {
			return (c.Left + c.Right) / 2
		}
		return c.Left + (c.Right-c.Left)*float64(i)/float64(len(points)-1)
	}
	y := func(n int) float64 { return c.Base - (c.Base-c.Top)*float64(n)/float64(maxY) }
	for _, sev := range sevNames() {
		any := false
		for _, p := range points {
			if p.Findings[sev] > 0 {
				any = true
			}
		}
		if !any {
			continue
		}
		s := series{Name: sev.String()}
		var pts []string
		for i, p := range points {
			n := p.Findings[sev]
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(n)))
			label := fmt.Sprintf("%s: %d %s", fmtTime(p.Time), n, sev)
			if p.ScanID != "" {
				label += " (" + visible(p.ScanID) + ")"
			}
			s.Dots = append(s.Dots, dot{X: x(i), Y: y(n), Label: label})
		}
		s.Points = strings.Join(pts, " ")
		c.Series = append(c.Series, s)
	}
	for i := 0; i <= 4; i++ {
		n := maxY * i / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(n), Label: fmt.Sprint(n)})
	}
	idx := []int{0}
	if len(points) > 2 {
		idx = append(idx, len(points)/2)
	}
	if len(points) > 1 {
		idx = append(idx, len(points)-1)
	}
	for k, i := range idx {
		a := "middle"
		if len(idx) > 1 && k == 0 {
			a = "start"
		} else if len(idx) > 1 && k == len(idx)-1 {
			a = "end"
		}
		c.XTicks = append(c.XTicks, tick{Pos: x(i), Label: points[i].Time.UTC().Format("2006-01-02"), Anchor: a})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, divisible by 4 where possible.
func niceCeil(n int) int {
	for _, step := range []int{4, 8, 20, 40, 80, 200, 400, 800, 2000, 4000, 8000, 20000, 40000, 80000} {
		if n <= step {
			return step
		}
	}
	return (n/100000 + 1) * 100000
}
