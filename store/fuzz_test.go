package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/rampart-scan/rampart/model"
)

// FuzzRoundTrip stores results carrying hostile server-supplied strings and bytes (names,
// certificate subjects, DER, finding text) and checks they come back exactly as JSON encodes
// them, and that history and drift queries keyed by them work.
func FuzzRoundTrip(f *testing.F) {
	f.Add("web.example.org", "CN=web", "message", "TLS 1.0", []byte{0x30, 0x82})
	f.Add("\x00\xff\x1b[31m", "\u2028\u2029", "'; DROP TABLE scans; --", "%s%n", []byte(nil))
	f.Add("", `{"der":"x"}`, `"der":`, "\\", []byte{0})
	st := openTemp(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name, subject, message, detail string, der []byte) {
		r := result("", t0, model.ScanComplete, epSpec{name: name, addr: "192.0.2.1:443", leaf: "aa", version: "TLS 1.3",
			findings: []string{"fuzz/rule|" + detail}})
		o := &r.Endpoints[0].Observation
		o.Certificates.Chain[0].Subject = subject
		o.Certificates.Chain[0].DER = der
		o.Certificates.Chain[1].DER = der
		o.Error = message
		r.Endpoints[0].Findings[0].Message = message
		r.Endpoints[0].Findings[0].Evidence = map[string]string{subject: detail}
		id, err := st.SaveScan(ctx, r, "")
		if err != nil {
			t.Fatal(err)
		}
		r.ID = id
		got, err := st.LoadScan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Invalid UTF-8 becomes U+FFFD when encoded: compare the canonical encodings.
		jsonEqual(t, canonical(t, r), canonical(t, got))
		if _, err := st.History(ctx, name+" ", 1); err != nil && name != "" {
			t.Fatal(err)
		}
		prev, err := st.PreviousComplete(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if prev != "" {
			if _, err := st.Diff(ctx, prev, id); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func canonical(t *testing.T, v any) any {
	t.Helper()
	var out any
	if err := json.Unmarshal(mustJSON(t, v), &out); err != nil {
		t.Fatal(err)
	}
	return out
}
