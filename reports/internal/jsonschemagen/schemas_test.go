package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/rampart-scan/rampart/model"
	"github.com/rampart-scan/rampart/reports"
)

// generated returns the fresh schemas, compiled, by file name.
func generated(t *testing.T) (map[string]file, map[string]*jsonschema.Schema) {
	t.Helper()
	files, err := generate(".")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]file{}
	compiled := map[string]*jsonschema.Schema{}
	for _, f := range files {
		byName[f.name] = f
		compiled[f.name] = compile(t, f.id, f.data)
	}
	return byName, compiled
}

var (
	scanFile  = "scan-" + schemaMajor() + ".json"
	jsonlFile = "jsonl-" + schemaMajor() + ".json"
)

// TestSchemaFilesUpToDate fails when the committed schemas no longer match the Go types.
func TestSchemaFilesUpToDate(t *testing.T) {
	files, _ := generated(t)
	if len(files) != 2 || files[scanFile].data == nil || files[jsonlFile].data == nil {
		t.Fatalf("generated %d files, want %s and %s", len(files), scanFile, jsonlFile)
	}
	for name, f := range files {
		path := filepath.Join("..", "..", "..", "docs", "schema", name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v: run `go generate ./reports` and commit docs/schema", err)
		}
		if !bytes.Equal(got, f.data) {
			t.Errorf("docs/schema/%s is stale (the Go types changed): run `go generate ./reports` and commit it", name)
		}
		if !strings.Contains(f.id, schemaMajor()) {
			t.Errorf("$id %s does not carry the schema version %s", f.id, schemaMajor())
		}
	}
}

// fill sets every field reachable from v to a non-zero value the encoder accepts, so a
// document exercises every property the Go types can produce (new fact families included).
func fill(t *testing.T, docs *sourceDocs, v reflect.Value, depth int) {
	t.Helper()
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 11, 29, 4, 30, 0, 123456789, time.UTC)))
		return
	case reflect.TypeFor[netip.Addr]():
		v.Set(reflect.ValueOf(netip.MustParseAddr("2001:db8::7")))
		return
	case reflect.TypeFor[netip.AddrPort]():
		v.Set(reflect.ValueOf(netip.MustParseAddrPort("192.0.2.7:443")))
		return
	case reflect.TypeFor[netip.Prefix]():
		v.Set(reflect.ValueOf(netip.MustParsePrefix("192.0.2.0/28")))
		return
	case reflect.TypeFor[model.Severity]():
		v.Set(reflect.ValueOf(model.SeverityHigh))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 12 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, docs, v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(t, docs, v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{0x30, 0x82, 0xff})
			return
		}
		if depth > 12 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, docs, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(t, docs, k, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(t, docs, e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		s := "x"
		if v.Type().PkgPath() != "" {
			enum, err := docs.enum(v.Type().PkgPath(), v.Type().Name())
			if err != nil {
				t.Fatal(err)
			}
			if len(enum) > 0 {
				s = enum[len(enum)-1]
			}
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(0.25)
	case reflect.Interface:
	default:
		t.Fatalf("fill: unexpected %s", v.Type())
	}
}

func populated(t *testing.T) *model.ScanResult {
	t.Helper()
	var r model.ScanResult
	fill(t, testDocs(t), reflect.ValueOf(&r).Elem(), 0)
	r.SchemaVersion = model.SchemaVersion
	return &r
}

func instance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// jsonLines writes r as the JSON Lines stream and returns its lines.
func jsonLines(t *testing.T, r *model.ScanResult) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w := reports.NewJSONLWriter(&buf)
	for i := range r.Endpoints {
		if err := w.Endpoint(&r.Endpoints[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range r.Nodes {
		if err := w.Nodes(&r.Nodes[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range r.Domains {
		if err := w.Domain(&r.Domains[i]); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Endpoints) > 0 {
		if err := w.Revised(&r.Endpoints[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(r); err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

// TestEveryFieldValidates encodes a scan with every field of every type set and checks the
// document and each JSON Lines record against the fresh schemas.
func TestEveryFieldValidates(t *testing.T) {
	_, s := generated(t)
	r := populated(t)
	var doc bytes.Buffer
	if err := reports.WriteJSON(&doc, r); err != nil {
		t.Fatal(err)
	}
	if err := s[scanFile].Validate(instance(t, doc.Bytes())); err != nil {
		t.Fatalf("fully populated scan document: %v", err)
	}
	lines := jsonLines(t, r)
	if len(lines) != len(r.Endpoints)+len(r.Nodes)+len(r.Domains)+2 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		if err := s[jsonlFile].Validate(instance(t, l)); err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, l)
		}
	}
}

// TestMinimalDocumentValidates: nil slices are written as null and must be accepted.
func TestMinimalDocumentValidates(t *testing.T) {
	_, s := generated(t)
	r := &model.ScanResult{SchemaVersion: model.SchemaVersion, Status: model.ScanFailed, Error: "no targets"}
	var doc bytes.Buffer
	if err := reports.WriteJSON(&doc, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc.Bytes(), []byte(`"endpoints": null`)) {
		t.Fatalf("expected a null endpoints list in\n%s", doc.Bytes())
	}
	if err := s[scanFile].Validate(instance(t, doc.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, l := range jsonLines(t, r) {
		if err := s[jsonlFile].Validate(instance(t, l)); err != nil {
			t.Errorf("%v\n%s", err, l)
		}
	}
}

// TestSchemasRejectMistakes: the schemas are closed and typed, so a consumer validating a
// document learns about a misspelt key, a wrong type or a foreign version.
func TestSchemasRejectMistakes(t *testing.T) {
	_, s := generated(t)
	r := populated(t)
	docBytes, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	get := func(m map[string]any, path ...any) map[string]any {
		var cur any = m
		for _, p := range path {
			switch k := p.(type) {
			case string:
				cur = cur.(map[string]any)[k]
			case int:
				cur = cur.([]any)[k]
			}
		}
		return cur.(map[string]any)
	}
	scanCases := map[string]func(m map[string]any){
		"unchanged": nil,
		"misspelt top-level key": func(m map[string]any) {
			m["endpionts"] = m["endpoints"]
			delete(m, "endpoints")
		},
		"extra top-level key":     func(m map[string]any) { m["comment"] = "hi" },
		"wrong type":              func(m map[string]any) { m["targets"] = "example.org" },
		"number for timestamp":    func(m map[string]any) { m["started"] = 1764390600 },
		"bad timestamp":           func(m map[string]any) { m["finished"] = "29/11/2026" },
		"other schema version":    func(m map[string]any) { m["schema_version"] = "rampart.scan/v2" },
		"unknown status":          func(m map[string]any) { m["status"] = "done" },
		"missing required":        func(m map[string]any) { delete(m, "policy") },
		"unknown severity":        func(m map[string]any) { get(m, "endpoints", 0, "findings", 0)["severity"] = "severe" },
		"severity as number":      func(m map[string]any) { get(m, "endpoints", 0, "findings", 0)["severity"] = 3 },
		"misspelt fact family":    func(m map[string]any) { get(m, "endpoints", 0, "observation")["certificate"] = map[string]any{} },
		"duration as string":      func(m map[string]any) { get(m, "endpoints", 0, "observation")["duration_ns"] = "1.5s" },
		"port out of range":       func(m map[string]any) { get(m, "nodes", 0, "group")["port"] = 70000 },
		"unknown probe status":    func(m map[string]any) { get(m, "endpoints", 1, "observation")["status"] = "fine" },
		"string for boolean":      func(m map[string]any) { get(m, "endpoints", 0, "observation", "connect")["reachable"] = "yes" },
		"unknown key in a domain": func(m map[string]any) { get(m, "domains", 0, "observation")["dmarc"] = "v=DMARC1" },
		"number for a list":       func(m map[string]any) { get(m, "endpoints", 0, "observation", "tls", "engine")["versions"] = 5 },
	}
	for name, mutate := range scanCases {
		var m map[string]any
		if err := json.Unmarshal(docBytes, &m); err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(m)
		}
		err := validate(s[scanFile], m)
		if mutate == nil && err != nil {
			t.Fatalf("the unmutated document is rejected, so the cases prove nothing: %v", err)
		}
		if mutate != nil && err == nil {
			t.Errorf("scan document with %s: accepted", name)
		}
	}

	lines := jsonLines(t, r)
	first := lines[0] // an endpoint
	last := lines[len(lines)-1]
	lineCases := map[string]func(endpoint, scan map[string]any) map[string]any{
		"unchanged endpoint": func(e, _ map[string]any) map[string]any { return e },
		"unchanged scan":     func(_, s map[string]any) map[string]any { return s },
		"revised endpoint": func(e, _ map[string]any) map[string]any {
			e["type"] = "revised"
			return e
		},
		"revised without its endpoint": func(e, _ map[string]any) map[string]any {
			e["type"] = "revised"
			delete(e, "endpoint")
			return e
		},
		"type names another payload": func(e, _ map[string]any) map[string]any {
			e["type"] = "scan"
			return e
		},
		"two payloads": func(e, s map[string]any) map[string]any {
			e["scan"] = s["scan"]
			return e
		},
		"no payload": func(e, _ map[string]any) map[string]any {
			delete(e, "endpoint")
			return e
		},
		"unknown type": func(e, _ map[string]any) map[string]any {
			e["type"] = "host"
			return e
		},
		"severity count keyed by a non-severity": func(_, s map[string]any) map[string]any {
			s["scan"].(map[string]any)["findings"] = map[string]any{"severe": 2}
			return s
		},
		"misspelt summary key": func(_, s map[string]any) map[string]any {
			s["scan"].(map[string]any)["endpoint"] = 2
			return s
		},
	}
	for name, mutate := range lineCases {
		var e, sc map[string]any
		if err := json.Unmarshal(first, &e); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(last, &sc); err != nil {
			t.Fatal(err)
		}
		err := validate(s[jsonlFile], mutate(e, sc))
		if strings.HasPrefix(name, "unchanged") || name == "revised endpoint" {
			if err != nil {
				t.Fatalf("%s line is rejected, so the cases prove nothing: %v", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("JSON Lines record with %s: accepted", name)
		}
	}
}
