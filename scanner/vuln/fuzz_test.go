package vuln

import (
	"bytes"
	"testing"
)

// FuzzReadFlight feeds arbitrary server bytes to the record reader and flight parser.
func FuzzReadFlight(f *testing.F) {
	f.Add([]byte{22, 3, 3, 0, 4, 14, 0, 0, 0})
	f.Add(plainRecord(recHandshake, 0x0303, []byte{2, 0, 0, 38, 3, 3}))
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Add([]byte{24, 3, 3, 0x48, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		rr := newRecordReader(bytes.NewReader(b), 1<<16)
		fl, err := readFlight(rr, false)
		if err == nil && (fl == nil || fl.hello == nil) {
			t.Fatal("flight without a server hello and without an error")
		}
		rr = newRecordReader(bytes.NewReader(b), 1<<16)
		for range 64 {
			if _, err := rr.next(); err != nil {
				break
			}
		}
	})
}

// FuzzJudges feeds arbitrary answers to the heartbeat and CCS judges: they always decide
// something and never panic.
func FuzzJudges(f *testing.F) {
	f.Add(plainRecord(recHeartbeat, 0x0303, append([]byte{2, 0x40, 0}, make([]byte, 100)...)))
	f.Add(plainRecord(recAlert, 0x0303, []byte{2, 20}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, why, _ := judgeHeartbeat(newRecordReader(bytes.NewReader(b), 1<<16), true, 35)
		if v == "" || why == "" {
			t.Fatal("heartbeat judge without verdict")
		}
		v, why = judgeCCS(newRecordReader(bytes.NewReader(b), 1<<16))
		if v == "" || why == "" {
			t.Fatal("CCS judge without verdict")
		}
	})
}

// FuzzServerMessages feeds arbitrary bodies to the Certificate and ECDHE key exchange parsers.
func FuzzServerMessages(f *testing.F) {
	f.Add([]byte{0, 0, 4, 0, 0, 1, 0x30})
	f.Add([]byte{3, 0, 29, 32})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 7, 0, 8, 0, 42, 0, 4, 0, 0, 0x40, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if certs, err := parseCertificates(b); err == nil {
			for _, c := range certs {
				if len(c) == 0 {
					t.Fatal("empty certificate accepted")
				}
			}
		}
		if _, p, err := parseECDHParams(b); err == nil && len(p) == 0 {
			t.Fatal("empty point accepted")
		}
		if tk, err := parseNewSessionTicket(b); err == nil && len(tk.ticket) == 0 {
			t.Fatal("empty ticket accepted")
		}
		_, _ = encryptedExtensionsHaveEarlyData(b)
		if sh, err := serverShare(b); err == nil && len(sh) == 0 {
			t.Fatal("empty key share accepted")
		}
	})
}

// FuzzRewriteHello checks that rewriting keeps a hello well formed or fails cleanly.
func FuzzRewriteHello(f *testing.F) {
	msg, err := buildHello(helloSpec{version: 0x0303, suites: []uint16{0x002f}, serverName: "a.test"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg, []byte{1, 0}, []byte{1})
	f.Fuzz(func(t *testing.T, msg, comp, ext []byte) {
		out, err := rewriteHello(msg, comp, []extension{{typ: extHeartbeat, data: ext}})
		if err != nil {
			return
		}
		if _, err := rewriteHello(out, nil, nil); err != nil {
			t.Fatalf("rewritten hello does not parse again: %v", err)
		}
	})
}
