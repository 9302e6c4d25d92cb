package policies

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// SchemaID is the $id of the policy JSON Schema.
const SchemaID = "https://rampart.dev/schemas/policy-v1.json"

// Schema returns the JSON Schema (draft 2020-12) of the policy language, generated from the
// same Go types the loader decodes into, so editors and the loader agree on every key. The
// loader is slightly more lenient than the schema: it accepts enumeration values in any case
// and a few aliases (TLSv1.2, prime256v1, sha256WithRSAEncryption) and stores them canonically.
func Schema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[File]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = SchemaID
	root["title"] = "Rampart policy"
	root["description"] = "A Rampart policy (" + APIVersion + "): thresholds, selectors, severity overrides, disabled rules and waivers. See docs/policies.md."
	root["$defs"] = g.defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		panic(err) // maps of strings, slices and bools always encode
	}
	return buf.Bytes()
}

type schemaGen struct {
	defs map[string]any
}

var patterns = map[reflect.Type]string{
	reflect.TypeFor[PolicyName]():   policyNameRE.String(),
	reflect.TypeFor[RulePattern]():  ruleFormRE.String(),
	reflect.TypeFor[SuitePattern](): suiteFormRE.String(),
	reflect.TypeFor[Date]():         `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`,
}

// object describes a struct type inline (used for the root).
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		key := yamlKey(f)
		if key == "" {
			continue
		}
		s := g.schema(f.Type)
		if d := f.Tag.Get("desc"); d != "" {
			s = withDescription(s, d)
		}
		props[key] = s
		if f.Tag.Get("policy") == "required" {
			required = append(required, key)
		}
	}
	out := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func withDescription(s map[string]any, d string) map[string]any {
	if _, isRef := s["$ref"]; isRef {
		// Sibling keywords next to $ref are allowed in 2020-12.
		c := map[string]any{"$ref": s["$ref"], "description": d}
		return c
	}
	c := make(map[string]any, len(s)+1)
	for k, v := range s {
		c[k] = v
	}
	c["description"] = d
	return c
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(scalarListType) {
		item := g.schema(t.Elem())
		return map[string]any{"anyOf": []any{item, map[string]any{"type": "array", "items": item}}}
	}
	switch t.Kind() {
	case reflect.Struct:
		name := t.Name()
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = true // placeholder against recursion
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "propertyNames": g.schema(t.Key()), "additionalProperties": g.schema(t.Elem())}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Uint16:
		return map[string]any{"type": "integer", "minimum": 1, "maximum": 65535}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.String:
		s := map[string]any{"type": "string"}
		if t.Implements(enumType) {
			s["enum"] = reflect.Zero(t).Interface().(enumerated).choices()
		}
		if p, ok := patterns[t]; ok {
			s["pattern"] = p
		}
		return s
	}
	panic("policies: no schema for " + t.String())
}

// SchemaKeys lists every key path the schema allows (for documentation and tests), such as
// "thresholds.tls.min_version" and "waivers[].expires".
func SchemaKeys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		if depth > 6 {
			return
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := range t.NumField() {
			f := t.Field(i)
			key := yamlKey(f)
			if key == "" {
				continue
			}
			p := prefix + key
			out = append(out, p)
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			switch {
			case ft.Kind() == reflect.Struct:
				walk(ft, p+".", depth+1)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), p+"[].", depth+1)
			}
		}
	}
	walk(reflect.TypeFor[File](), "", 0)
	return out
}
