package exposure

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePorts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		spec    string
		want    []uint16 // nil: check only len
		wantLen int
		err     string
	}{
		{spec: "22", want: []uint16{22}},
		{spec: " 80 , 443,80 ", want: []uint16{80, 443}},
		{spec: "8000-8003,8002", want: []uint16{8000, 8001, 8002, 8003}},
		{spec: "mail", want: []uint16{24, 25, 110, 143, 465, 587, 993, 995, 2525, 4190}},
		{spec: "MAIL,25", wantLen: 10},
		{spec: "top-100", wantLen: 100},
		{spec: "1-65535", wantLen: 65535},
		{spec: "", err: "empty specification"},
		{spec: "80,,443", err: "item 2 is empty"},
		{spec: "0", err: "out of range"},
		{spec: "65536", err: "out of range"},
		{spec: "90-80", err: "below its start"},
		{spec: "80-", err: "range end: missing port"},
		{spec: "-80", err: "range start: missing port"},
		{spec: "mails", err: "not a port, range or set name (sets: admin, databases, mail, messaging, top-100, web)"},
		{spec: "8a", err: "not a port"},
		{spec: "1-x", err: `"x" is not a number`},
	}
	for _, tc := range cases {
		got, err := ParsePorts(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePorts(%q) error = %v, want containing %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePorts(%q): %v", tc.spec, err)
			continue
		}
		if tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("ParsePorts(%q) = %v, want %v", tc.spec, got, tc.want)
		}
		if tc.wantLen != 0 && len(got) != tc.wantLen {
			t.Errorf("ParsePorts(%q) has %d ports, want %d", tc.spec, len(got), tc.wantLen)
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("ParsePorts(%q) not sorted and unique: %v", tc.spec, got)
		}
	}
}

func TestNamedSetsUnion(t *testing.T) {
	t.Parallel()
	var all []uint16
	for _, n := range SetNames() {
		ps, err := ParsePorts(n)
		if err != nil || len(ps) == 0 {
			t.Errorf("set %s: %v (%d ports)", n, err, len(ps))
		}
		all = append(all, ps...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	got, err := ParsePorts(strings.Join(SetNames(), ",") + ",22,443")
	if err != nil || !slices.Equal(got, all) {
		t.Fatalf("union of every set = %d ports (%v), want %d", len(got), err, len(all))
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"messaging,8000-8100,9999", "1-65535", "a-b", ",", "0-0", "top-100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParsePorts(s)
		if err == nil && (len(ps) == 0 || !slices.IsSorted(ps) || ps[0] == 0) {
			t.Fatalf("ParsePorts(%q) = %v without error", s, ps)
		}
	})
}
