package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// schema is one JSON Schema object.
type schema = map[string]any

// special is a type whose JSON form is not what its Go kind suggests (a marshaller, or an
// integer with a unit): its schema is given here and kept under its own $defs name.
type special struct {
	def    string
	schema schema
}

// generator builds JSON Schemas from Go types by reflection, following encoding/json's rules:
// json tags (names, "-", omitempty, omitzero, string), embedded structs, nil slices, maps and
// pointers written as null, []byte as base64, map keys as strings, and the marshallers it is
// told about in specials. It refuses any type it cannot describe faithfully, so a new field of
// an unknown kind stops the generation instead of producing a wrong schema.
type generator struct {
	docs     *sourceDocs
	specials map[reflect.Type]special
	// unions marks struct types that are tagged unions: the named string property says which
	// of the optional payload properties (the one with the same JSON name) is present.
	unions map[reflect.Type]string
	// consts pins properties of one struct type to a single value, by "Type.json_name".
	consts map[string]any
	// keys gives the schema of a map field's keys, by "Type.json_name".
	keys map[string]schema

	defs  map[string]any
	names map[reflect.Type]string
	taken map[string]reflect.Type
}

func newGenerator(docs *sourceDocs) *generator {
	return &generator{
		docs:     docs,
		specials: map[reflect.Type]special{},
		unions:   map[reflect.Type]string{},
		consts:   map[string]any{},
		keys:     map[string]schema{},
		defs:     map[string]any{},
		names:    map[reflect.Type]string{},
		taken:    map[string]reflect.Type{},
	}
}

// document is the whole schema for values of type root, a named struct.
func (g *generator) document(root reflect.Type, id, title, description string) ([]byte, error) {
	ref, err := g.typeSchema(root)
	if err != nil {
		return nil, err
	}
	r, ok := ref["$ref"].(string)
	if !ok {
		return nil, fmt.Errorf("the root type %s is not a named struct", root)
	}
	// A struct, not a map, so the header keywords come first in the file.
	doc := struct {
		Schema      string `json:"$schema"`
		ID          string `json:"$id"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Comment     string `json:"$comment"`
		Ref         string `json:"$ref"`
		Defs        schema `json:"$defs"`
	}{"https://json-schema.org/draft/2020-12/schema", id, title, description,
		"Generated from the Go types by `go generate ./reports` (reports/internal/jsonschemagen): do not edit.",
		r, g.defs}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding the schema: %w", err)
	}
	return buf.Bytes(), nil
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(iface))
}

// nilable reports whether encoding/json may write a value of type t as null.
func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return true
	}
	return false
}

// nullable lets s also be null: by widening its type when it is a plain typed schema (for
// clearer validation errors), else as an alternative.
func nullable(s schema) schema {
	if typ, ok := s["type"].(string); ok && s["enum"] == nil && s["const"] == nil {
		c := make(schema, len(s))
		for k, v := range s {
			c[k] = v
		}
		c["type"] = []string{typ, "null"}
		return c
	}
	return schema{"anyOf": []any{s, schema{"type": "null"}}}
}

// typeSchema describes the JSON of a non-nil value of type t.
func (g *generator) typeSchema(t reflect.Type) (schema, error) {
	if sp, ok := g.specials[t]; ok {
		if _, done := g.defs[sp.def]; !done {
			if prev, clash := g.taken[sp.def]; clash && prev != t {
				return nil, fmt.Errorf("$defs name %q used by %s and %s", sp.def, prev, t)
			}
			g.taken[sp.def] = t
			g.defs[sp.def] = sp.schema
		}
		return schema{"$ref": "#/$defs/" + sp.def}, nil
	}
	if t.Kind() == reflect.Pointer {
		return g.typeSchema(t.Elem())
	}
	if implements(t, jsonMarshaler) {
		return nil, fmt.Errorf("no schema for %s: it has its own MarshalJSON; describe it in the generator's specials", t)
	}
	if implements(t, textMarshaler) {
		// MarshalText output is a JSON string; its shape is the type's business.
		return g.named(t, func() (schema, error) {
			return schema{"type": "string"}, nil
		})
	}
	switch t.Kind() {
	case reflect.Bool:
		return schema{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return schema{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s := schema{"type": "integer", "minimum": 0}
		if t.Bits() < 64 {
			s["maximum"] = uint64(1)<<t.Bits() - 1
		}
		return s, nil
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}, nil
	case reflect.String:
		if t.PkgPath() == "" {
			return schema{"type": "string"}, nil
		}
		enum, err := g.docs.enum(t.PkgPath(), t.Name())
		if err != nil {
			return nil, err
		}
		if len(enum) == 0 {
			return schema{"type": "string"}, nil
		}
		return g.named(t, func() (schema, error) {
			return schema{"type": "string", "enum": enum}, nil
		})
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonMarshaler) && !implements(t.Elem(), textMarshaler) {
			return schema{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := g.elemSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return schema{"type": "array", "items": items}, nil
	case reflect.Array:
		items, err := g.elemSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return schema{"type": "array", "items": items, "minItems": t.Len(), "maxItems": t.Len()}, nil
	case reflect.Map:
		keys, err := g.keySchema(t.Key())
		if err != nil {
			return nil, err
		}
		vals, err := g.elemSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		s := schema{"type": "object", "additionalProperties": vals}
		if keys != nil {
			s["propertyNames"] = keys
		}
		return s, nil
	case reflect.Interface:
		return schema{}, nil // any JSON value
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.named(t, func() (schema, error) { return g.object(t) })
	}
	return nil, fmt.Errorf("no schema for %s: encoding/json cannot write a %s", t, t.Kind())
}

// elemSchema describes an element of a slice, array or map, which may be null when nilable.
func (g *generator) elemSchema(t reflect.Type) (schema, error) {
	s, err := g.typeSchema(t)
	if err != nil {
		return nil, err
	}
	if nilable(t) {
		return nullable(s), nil
	}
	return s, nil
}

// keySchema describes map keys as encoding/json writes them (nil: any string).
func (g *generator) keySchema(t reflect.Type) (schema, error) {
	switch {
	case t.Kind() == reflect.String:
		if t.PkgPath() == "" {
			return nil, nil
		}
		return g.typeSchema(t)
	case implements(t, textMarshaler):
		return g.typeSchema(t)
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return schema{"pattern": "^-?[0-9]+$"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return schema{"pattern": "^[0-9]+$"}, nil
	}
	return nil, fmt.Errorf("no schema for map keys of type %s", t)
}

// named keeps the schema of a named type under $defs and refers to it.
func (g *generator) named(t reflect.Type, build func() (schema, error)) (schema, error) {
	if name, ok := g.names[t]; ok {
		return schema{"$ref": "#/$defs/" + name}, nil
	}
	name := t.Name()
	if prev, clash := g.taken[name]; clash && prev != t {
		name = t.String() // package-qualified, e.g. "reports.ScanSummary"
		if prev, clash := g.taken[name]; clash && prev != t {
			return nil, fmt.Errorf("$defs name %q used by %s and %s", name, prev, t)
		}
	}
	g.names[t] = name
	g.taken[name] = t
	g.defs[name] = true // placeholder while a recursive type is being described
	s, err := build()
	if err != nil {
		return nil, err
	}
	d, err := g.docs.typeDoc(t.PkgPath(), t.Name())
	if err != nil {
		return nil, err
	}
	if d != "" {
		s["description"] = d
	}
	g.defs[name] = s
	return schema{"$ref": "#/$defs/" + name}, nil
}

// field is one JSON property of a struct, resolved as encoding/json resolves them.
type field struct {
	name      string
	tagged    bool
	depth     int
	index     []int
	typ       reflect.Type
	owner     reflect.Type // the struct that declares the field
	goName    string
	omitEmpty bool
	omitZero  bool
	quoted    bool
	viaPtr    bool // promoted through an embedded pointer: absent when that pointer is nil
}

// fields lists the JSON properties of struct type t in encoding order.
func fields(t reflect.Type) []field {
	var all []field
	var walk func(t reflect.Type, index []int, depth int, viaPtr bool, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, depth int, viaPtr bool, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			ft := sf.Type
			if sf.Anonymous {
				et, ptr := ft, false
				if et.Kind() == reflect.Pointer {
					et, ptr = et.Elem(), true
				}
				if !sf.IsExported() && et.Kind() != reflect.Struct {
					continue
				}
				if name == "" && et.Kind() == reflect.Struct && !implements(ft, jsonMarshaler) && !implements(ft, textMarshaler) {
					walk(et, idx, depth+1, viaPtr || ptr, seen)
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := field{name: name, tagged: name != "", depth: depth, index: idx, typ: ft, owner: t, goName: sf.Name, viaPtr: viaPtr}
			if f.name == "" {
				f.name = sf.Name
			}
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "omitempty":
					f.omitEmpty = true
				case "omitzero":
					f.omitZero = true
				case "string":
					f.quoted = true
				}
			}
			all = append(all, f)
		}
	}
	walk(t, nil, 0, false, map[reflect.Type]bool{})

	// Of several fields with one name, the shallowest wins, then the only tagged one; a tie
	// hides them all (encoding/json's dominance rule).
	byName := map[string][]field{}
	for _, f := range all {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []field
	for _, f := range all {
		group := byName[f.name]
		if dominant(group) == f.index2() {
			out = append(out, f)
		}
	}
	return out
}

func (f field) index2() string { return fmt.Sprint(f.index) }

// dominant returns the index key of the field that wins among fields of one name, "" if none.
func dominant(group []field) string {
	minDepth := group[0].depth
	for _, f := range group {
		minDepth = min(minDepth, f.depth)
	}
	var top []field
	for _, f := range group {
		if f.depth == minDepth {
			top = append(top, f)
		}
	}
	if len(top) == 1 {
		return top[0].index2()
	}
	var tagged []field
	for _, f := range top {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0].index2()
	}
	return ""
}

// omittable reports whether encoding/json may leave the field out.
func (f field) omittable() bool {
	if f.omitZero || f.viaPtr {
		return true
	}
	if !f.omitEmpty {
		return false
	}
	switch f.typ.Kind() {
	case reflect.Struct:
		return false // omitempty never omits a struct
	case reflect.Array:
		return f.typ.Len() == 0
	}
	return true
}

// object describes a struct as a closed object: every property it can have, the ones it
// always has as required, no others.
func (g *generator) object(t reflect.Type) (schema, error) {
	props := schema{}
	required := []string{}
	fs := fields(t)
	for _, f := range fs {
		s, err := g.fieldSchema(t, f)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.goName, err)
		}
		props[f.name] = s
		if !f.omittable() {
			required = append(required, f.name)
		}
	}
	out := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	if key, ok := g.unions[t]; ok {
		if err := g.union(out, t, key, fs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (g *generator) fieldSchema(owner reflect.Type, f field) (schema, error) {
	var s schema
	if c, ok := g.consts[owner.Name()+"."+f.name]; ok {
		s = schema{"const": c}
	} else {
		var err error
		s, err = g.typeSchema(f.typ)
		if err != nil {
			return nil, err
		}
		if k, ok := g.keys[owner.Name()+"."+f.name]; ok {
			if f.typ.Kind() != reflect.Map {
				return nil, fmt.Errorf("key schema given for a %s", f.typ.Kind())
			}
			s["propertyNames"] = k
		}
		if f.quoted {
			switch f.typ.Kind() {
			case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
				reflect.Float32, reflect.Float64, reflect.String:
				s = schema{"type": "string"} // the value, JSON-encoded inside a string
			}
		}
		if nilable(f.typ) && !f.omitEmpty && !f.omitZero {
			s = nullable(s)
		}
	}
	d, err := g.docs.fieldDoc(f.owner.PkgPath(), f.owner.Name(), f.goName)
	if err != nil {
		return nil, err
	}
	if d != "" {
		s["description"] = d
	}
	return s, nil
}

// union makes the discriminator property of a tagged-union struct an enumeration of the
// values the package's code writes into it, and requires with each value exactly the payload
// properties that code sets alongside it (read from the struct's literals in the source).
func (g *generator) union(obj schema, t reflect.Type, key string, fs []field) error {
	var disc *field
	jsonName := map[string]string{} // Go field name → property, for the optional payloads
	var payloads []string
	for i, f := range fs {
		switch {
		case f.name == key:
			if f.typ.Kind() != reflect.String || len(f.index) != 1 {
				return fmt.Errorf("%s: discriminator %q is not a string field of its own", t, key)
			}
			disc = &fs[i]
		case f.omittable() && nilable(f.typ) && len(f.index) == 1:
			jsonName[f.goName] = f.name
			payloads = append(payloads, f.name)
		}
	}
	if disc == nil || len(payloads) == 0 {
		return fmt.Errorf("%s: no discriminator %q or no optional payloads", t, key)
	}
	cases, err := g.docs.unionCases(t.PkgPath(), t.Name(), disc.goName)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		return fmt.Errorf("%s: no literal in its package sets %s", t, disc.goName)
	}
	var values []string
	var rules []any
	for _, c := range cases {
		values = append(values, c.value)
		present := map[string]bool{}
		var required []string
		for _, goName := range c.set {
			if name, ok := jsonName[goName]; ok {
				present[name] = true
				required = append(required, name)
			}
		}
		absent := schema{}
		for _, p := range payloads {
			if !present[p] {
				absent[p] = false
			}
		}
		then := schema{"properties": absent}
		if len(required) > 0 {
			then["required"] = required
		}
		rules = append(rules, schema{
			"if":   schema{"properties": schema{key: schema{"const": c.value}}, "required": []string{key}},
			"then": then,
		})
	}
	props := obj["properties"].(schema)
	props[key].(schema)["enum"] = values
	obj["allOf"] = rules
	return nil
}
