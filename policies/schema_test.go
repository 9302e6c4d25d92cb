package policies

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSchemaFileUpToDate fails when policies/schema.json no longer matches the Go types.
func TestSchemaFileUpToDate(t *testing.T) {
	got, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, Schema()) {
		t.Fatal("policies/schema.json is stale: run `go generate ./policies` and commit it")
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the generated schema does not compile: %v", err)
	}
	return s
}

// instance converts a YAML policy into the JSON value an editor's schema validator sees.
func instance(t *testing.T, src []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaAcceptsEveryBuiltin(t *testing.T) {
	s := compileSchema(t)
	for _, name := range Builtins() {
		src, _ := BuiltinSource(name)
		if err := s.Validate(instance(t, src)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	full := `apiVersion: rampart.dev/v1
name: everything
extends: messaging-baseline
severities: {"cert/*": low}
disable: [tls/weak-suite]
enable: [cert/self-signed]
overrides:
  - selector: {hosts: ["*.example.org"], addresses: [10.0.0.0/8], services: [smtp], roles: [mail], ports: [25], tags: [prod]}
    thresholds: {tls: {min_version: TLS1.3, require_aead: true}}
    disable: [cert/expired]
waivers:
  - rule: cert/expired
    selector: {hosts: [a.example.org]}
    detail: "leaf*"
    reason: r
    owner: o
    ticket: T-1
    expires: 2030-01-01
`
	if err := s.Validate(instance(t, []byte(full))); err != nil {
		t.Errorf("full example: %v", err)
	}
	if _, err := Parse("full.yaml", []byte(full), Options{}); err != nil {
		t.Errorf("the loader must accept what the schema accepts: %v", err)
	}
}

func TestSchemaRejectsMistakes(t *testing.T) {
	s := compileSchema(t)
	for _, src := range []string{
		"apiVersion: rampart.dev/v1\nname: a\nthresholds:\n  tls:\n    min_verison: TLS1.2\n", // misspelt key
		"apiVersion: rampart.dev/v1\nname: a\ndescripton: x\n",
		"apiVersion: rampart.dev/v1\n", // missing name
		"apiVersion: rampart.dev/v1\nname: a\nthresholds: {tls: {min_version: TLS1.4}}\n",
		"apiVersion: rampart.dev/v1\nname: a\nwaivers: [{rule: cert/expired, reason: r, owner: o}]\n", // no expires
		"apiVersion: rampart.dev/v1\nname: a\noverrides: [{selector: {ports: [70000]}}]\n",
	} {
		if err := s.Validate(instance(t, []byte(src))); err == nil {
			t.Errorf("schema accepted:\n%s", src)
		}
		if _, err := Parse("bad.yaml", []byte(src), Options{}); err == nil {
			t.Errorf("loader accepted:\n%s", src)
		}
	}
}

// TestSchemaCoversEveryKey: every key the loader knows is in the schema with a description.
func TestSchemaCoversEveryKey(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(Schema(), &root); err != nil {
		t.Fatal(err)
	}
	text := string(Schema())
	for _, k := range SchemaKeys() {
		leaf := k[strings.LastIndexAny(k, ".]")+1:]
		if !strings.Contains(text, `"`+leaf+`": {`) {
			t.Errorf("key %s missing from the schema", k)
		}
	}
	if len(SchemaKeys()) < 50 {
		t.Errorf("only %d keys found", len(SchemaKeys()))
	}
	defs := root["$defs"].(map[string]any)
	for name, d := range defs {
		for key, prop := range d.(map[string]any)["properties"].(map[string]any) {
			if prop.(map[string]any)["description"] == nil {
				t.Errorf("%s.%s has no description", name, key)
			}
		}
	}
}
