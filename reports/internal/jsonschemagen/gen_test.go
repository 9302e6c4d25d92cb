package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compile compiles a generated schema document; the compiler also checks it against the
// draft 2020-12 meta-schema. Formats (date-time) are asserted, not only annotated.
func compile(t *testing.T, id string, doc []byte) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("the schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	if err := c.AddResource(id, v); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// validate encodes v with encoding/json and validates the result.
func validate(s *jsonschema.Schema, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func testDocs(t *testing.T) *sourceDocs {
	t.Helper()
	d, err := newSourceDocs(".")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// schemaFor generates and compiles the schema of root's type.
func schemaFor(t *testing.T, root any) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	g := configured(testDocs(t))
	doc, err := g.document(reflect.TypeOf(root), "https://example.test/t.json", "t", "t")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	return compile(t, "https://example.test/t.json", doc), m
}

func def(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	d, ok := doc["$defs"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("no $defs/%s in %v", name, doc["$defs"])
	}
	return d
}

type inner struct {
	A string `json:"a"`
}

type Embedded struct {
	Promoted string `json:"promoted"`
	Shadowed int    `json:"shadowed"`
}

type EmbeddedPtr struct {
	ViaPointer int `json:"via_pointer"`
}

type kinds struct {
	Embedded
	*EmbeddedPtr
	Shadowed string `json:"shadowed"` // shallower: wins over Embedded.Shadowed
	Plain    string `json:"plain"`
	Untagged int    // named by the Go field
	Skipped  string `json:"-"`
	//lint:ignore U1000 proves unexported fields are left out
	unexported string
	Opt        string            `json:"opt,omitempty"`
	Ptr        *inner            `json:"ptr"`
	PtrOpt     *inner            `json:"ptr_opt,omitempty"`
	Slice      []int             `json:"slice"`
	SliceOpt   []int             `json:"slice_opt,omitempty"`
	Bytes      []byte            `json:"bytes"`
	BytesList  [][]byte          `json:"bytes_list,omitempty"`
	Array      [2]uint8          `json:"array"`
	Map        map[string]*inner `json:"map,omitempty"`
	IntKeys    map[int]bool      `json:"int_keys,omitempty"`
	U16        uint16            `json:"u16"`
	F          float64           `json:"f"`
	Quoted     int               `json:"quoted,string"`
	StructOmit inner             `json:"struct_omit,omitempty"` // omitempty never omits a struct
	ZeroOmit   inner             `json:"zero_omit,omitzero"`
	When       time.Time         `json:"when"`
	WhenOpt    time.Time         `json:"when_opt,omitzero"`
	Took       time.Duration     `json:"took_ns"`
	Addr       netip.AddrPort    `json:"addr"`
	Any        any               `json:"any,omitempty"`
	BoolPtr    *bool             `json:"bool_ptr,omitempty"`
	AnonStruct struct{ X int }   `json:"anon"`
}

func TestGeneratorFollowsEncodingJSON(t *testing.T) {
	s, doc := schemaFor(t, kinds{})
	k := def(t, doc, "kinds")
	props := k["properties"].(map[string]any)
	var names []string
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"addr", "anon", "any", "array", "bool_ptr", "bytes", "bytes_list", "f", "int_keys", "map",
		"opt", "plain", "promoted", "ptr", "ptr_opt", "quoted", "shadowed", "slice", "slice_opt", "struct_omit",
		"took_ns", "u16", "Untagged", "via_pointer", "when", "when_opt", "zero_omit"}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("properties\n got %v\nwant %v", names, want)
	}
	var req []string
	for _, r := range k["required"].([]any) {
		req = append(req, r.(string))
	}
	slices.Sort(req)
	wantReq := []string{"Untagged", "addr", "anon", "array", "bytes", "f", "plain", "promoted", "ptr", "quoted",
		"shadowed", "slice", "struct_omit", "took_ns", "u16", "when"}
	slices.Sort(wantReq)
	if !slices.Equal(req, wantReq) {
		t.Errorf("required\n got %v\nwant %v", req, wantReq)
	}
	if k["additionalProperties"] != false {
		t.Error("objects must be closed (additionalProperties false)")
	}
	if got := props["shadowed"].(map[string]any)["type"]; got != "string" {
		t.Errorf("shadowed resolved to the embedded int field: %v", props["shadowed"])
	}
	if got := props["bytes"].(map[string]any)["contentEncoding"]; got != "base64" {
		t.Errorf("[]byte is not a base64 string: %v", props["bytes"])
	}

	one := true
	full := kinds{
		Embedded: Embedded{Promoted: "p", Shadowed: 3}, EmbeddedPtr: &EmbeddedPtr{ViaPointer: 4},
		Shadowed: "s", Plain: "x", Untagged: 1, Opt: "o", Ptr: &inner{"a"}, PtrOpt: &inner{"b"},
		Slice: []int{1}, SliceOpt: []int{2}, Bytes: []byte{0, 255}, BytesList: [][]byte{nil, {1}}, Array: [2]uint8{1, 2},
		Map: map[string]*inner{"k": nil, "l": {"c"}}, IntKeys: map[int]bool{-3: true}, U16: 65535, F: 1.5, Quoted: 12,
		ZeroOmit: inner{"z"}, When: time.Date(2026, 11, 29, 4, 0, 0, 123, time.UTC), WhenOpt: time.Unix(1, 0),
		Took: 1500 * time.Millisecond, Addr: netip.MustParseAddrPort("[2001:db8::1]:443"), Any: []any{1, "x"}, BoolPtr: &one,
	}
	for name, v := range map[string]kinds{"zero": {}, "full": full} {
		if err := validate(s, v); err != nil {
			t.Errorf("%s value encoded by encoding/json fails its schema: %v", name, err)
		}
	}

	bad := map[string]func(m map[string]any){
		"unknown key":         func(m map[string]any) { m["plian"] = "x" },
		"missing required":    func(m map[string]any) { delete(m, "plain") },
		"string for int":      func(m map[string]any) { m["Untagged"] = "1" },
		"uint16 out of range": func(m map[string]any) { m["u16"] = 65536 },
		"bad date-time":       func(m map[string]any) { m["when"] = "yesterday" },
		"bad base64":          func(m map[string]any) { m["bytes"] = "***" },
		"null non-pointer":    func(m map[string]any) { m["plain"] = nil },
		"null omitempty ptr":  func(m map[string]any) { m["ptr_opt"] = nil },
		"array too long":      func(m map[string]any) { m["array"] = []any{1, 2, 3} },
		"int key not integer": func(m map[string]any) { m["int_keys"] = map[string]any{"x": true} },
		"unquoted string opt": func(m map[string]any) { m["quoted"] = 12 },
		"nested unknown key":  func(m map[string]any) { m["ptr"] = map[string]any{"a": "x", "b": 1} },
	}
	b, _ := json.Marshal(full)
	var control map[string]any
	if err := json.Unmarshal(b, &control); err != nil {
		t.Fatal(err)
	}
	if err := validate(s, control); err != nil {
		t.Fatalf("the unmutated value is rejected, so the cases below prove nothing: %v", err)
	}
	for name, mutate := range bad {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		if err := validate(s, m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type withChan struct {
	C chan int `json:"c"`
}

type marshals struct{}

func (marshals) MarshalJSON() ([]byte, error) { return []byte(`{}`), nil }

type withMarshaler struct {
	M marshals `json:"m"`
}

type withFunc struct {
	F func() `json:"f,omitempty"`
}

// TestGeneratorRefusesUnknownTypes: a type the generator cannot describe stops generation
// instead of producing a schema that disagrees with the encoder.
func TestGeneratorRefusesUnknownTypes(t *testing.T) {
	for _, v := range []any{withChan{}, withMarshaler{}, withFunc{}} {
		g := configured(testDocs(t))
		if _, err := g.document(reflect.TypeOf(v), "x", "x", "x"); err == nil {
			t.Errorf("%T: generated a schema", v)
		}
	}
}

type Node struct {
	Name     string  `json:"name"`
	Children []*Node `json:"children,omitempty"`
}

func TestRecursiveTypes(t *testing.T) {
	s, _ := schemaFor(t, Node{})
	tree := Node{Name: "a", Children: []*Node{{Name: "b", Children: []*Node{{Name: "c"}}}}}
	if err := validate(s, tree); err != nil {
		t.Fatal(err)
	}
	if err := validate(s, map[string]any{"name": "a", "children": []any{map[string]any{"nme": "b"}}}); err == nil {
		t.Fatal("a misspelt key deep in the tree was accepted")
	}
}

func TestStringConstantsBecomeEnums(t *testing.T) {
	docs := testDocs(t)
	got, err := docs.enum("github.com/rampart-scan/rampart/model", "ProbeStatus")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ok", "unreachable", "timeout", "error", "interrupted", "skipped"} {
		if !slices.Contains(got, want) {
			t.Errorf("ProbeStatus enum %v lacks %q", got, want)
		}
	}
	if got, _ := docs.enum("time", "Month"); got != nil {
		t.Errorf("standard library types have no source here, got %v", got)
	}
}

func TestDescriptionsComeFromDocComments(t *testing.T) {
	docs := testDocs(t)
	d, err := docs.fieldDoc("github.com/rampart-scan/rampart/model", "Finding", "Fingerprint")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d, "hash(rule, asset, detail)") {
		t.Errorf("Finding.Fingerprint description %q", d)
	}
	d, _ = docs.fieldDoc("github.com/rampart-scan/rampart/model", "Certificate", "SHA256")
	if d != "fingerprint of the DER" {
		t.Errorf("a line comment is the description when there is no doc comment: got %q", d)
	}
	d, _ = docs.typeDoc("github.com/rampart-scan/rampart/model", "ScanResult")
	if !strings.HasPrefix(d, "ScanResult is one whole scan") {
		t.Errorf("ScanResult doc %q", d)
	}
}

// TestUnionCasesFromLiterals: the JSON Lines record types and their payloads are read from
// the JSONLine literals the reports package writes, so a new record type needs no edit here.
func TestUnionCasesFromLiterals(t *testing.T) {
	cases, err := testDocs(t).unionCases("github.com/rampart-scan/rampart/reports", "JSONLine", "Type")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cases {
		got[c.value] = strings.Join(c.set, ",")
	}
	want := map[string]string{
		"endpoint": "Endpoint,SchemaVersion",
		"domain":   "Domain,SchemaVersion",
		"nodes":    "Nodes,SchemaVersion",
		"scan":     "Scan,SchemaVersion",
	}
	for v, set := range want {
		if got[v] != set {
			t.Errorf("type %q sets {%s}, want {%s} (all cases: %v)", v, got[v], set, got)
		}
	}
}
