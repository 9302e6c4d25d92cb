package policies

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// maxPolicyBytes bounds a policy file. Real policies are a few kilobytes.
const maxPolicyBytes = 1 << 20

// decoder turns a YAML syntax tree into the spec types by reflection, keeping every node's
// position so that each problem is reported at file:line:column. Unknown keys, duplicate keys,
// wrong kinds and invalid values are all errors; decoding continues after one so a single run
// reports every problem (up to maxErrors).
type decoder struct {
	file string
	opts *Options
	errs ErrorList
	pos  map[string]position // where → position of the value, for later errors (extends)
}

// position is a 1-based line and column.
type position struct{ line, col int }

// decodeFile parses data as one YAML document into a File.
func (d *decoder) decodeFile(data []byte) (*File, error) {
	file := d.file
	if len(data) > maxPolicyBytes {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf("policy file is %d bytes; the limit is %d", len(data), maxPolicyBytes)}}
	}
	if line, depth := flowDepth(data); depth > maxFlowDepth {
		return nil, ErrorList{{File: file, Line: line, Column: 1, Msg: fmt.Sprintf("brackets nested more than %d deep", maxFlowDepth)}}
	}
	f, err := parseYAML(data)
	if err != nil {
		d.syntaxError(err)
		return nil, d.errs
	}
	var body ast.Node
	docs := 0
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		docs++
		if docs == 2 {
			d.errAt(doc.Body, "a policy file holds one YAML document; found a second one (remove the '---' separator)", "")
			return nil, d.errs
		}
		body = doc.Body
	}
	if body != nil {
		if _, null := d.unwrap(body).(*ast.NullNode); null {
			body = nil
		}
	}
	if body == nil {
		return nil, ErrorList{{File: file, Line: 1, Column: 1, Msg: "policy file is empty: it needs at least apiVersion and name"}}
	}
	out := &File{}
	d.decode(body, reflect.ValueOf(out).Elem(), "")
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return out, nil
}

// maxFlowDepth bounds [ ] and { } nesting: the YAML parser slows down sharply on deep flow
// nesting, and no policy needs more than a few levels.
const maxFlowDepth = 32

// flowDepth returns the deepest [ / { nesting outside comments, and its line. Brackets inside
// quoted strings are counted too, so it may overcount but never undercounts real nesting.
func flowDepth(data []byte) (line, maxDepth int) {
	depth, ln := 0, 1
	comment := false
	for i, c := range data {
		switch {
		case c == '\n':
			ln++
			comment = false
		case comment:
		case c == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n'):
			comment = true
		case c == '[' || c == '{':
			depth++
			if depth > maxDepth {
				maxDepth, line = depth, ln
			}
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return line, maxDepth
}

// parseYAML runs the YAML parser, turning a panic on pathological input into an error.
func parseYAML(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// syntaxError records a YAML syntax error with the parser's position.
func (d *decoder) syntaxError(err error) {
	type positioned interface {
		GetToken() *token.Token
		GetMessage() string
	}
	var pe positioned
	if errors.As(err, &pe) && pe.GetToken() != nil {
		p := pe.GetToken().Position
		d.errs = append(d.errs, &Error{File: d.file, Line: p.Line, Column: p.Column, Msg: "YAML syntax error: " + pe.GetMessage()})
		return
	}
	d.errs = append(d.errs, &Error{File: d.file, Msg: "YAML syntax error: " + err.Error()})
}

func (d *decoder) errAt(n ast.Node, msg, suggest string) {
	if len(d.errs) >= maxErrors {
		return
	}
	e := &Error{File: d.file, Msg: msg, Suggestion: suggest}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
		n = m.Values[0].Key // a mapping's own token is its first ':'; point at its first key
	}
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
		}
	}
	d.errs = append(d.errs, e)
}

// unwrap removes anchors and tags; aliases are refused (they would let one waiver or override
// silently appear in several places).
func (d *decoder) unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		case *ast.TagNode:
			if v.Value == nil {
				return n
			}
			n = v.Value
		case *ast.AliasNode:
			d.errAt(n, "YAML aliases (*name) are not supported in policies: write the value out, or use extends and overrides", "")
			return nil
		default:
			return n
		}
	}
}

var (
	checkerType    = reflect.TypeFor[checker]()
	enumType       = reflect.TypeFor[enumerated]()
	scalarListType = reflect.TypeFor[interface{ acceptsScalar() }]()
)

// decode fills v from n. where names the key path for messages ("thresholds.tls").
func (d *decoder) decode(n ast.Node, v reflect.Value, where string) {
	if n = d.unwrap(n); n == nil {
		return
	}
	if d.pos != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			d.pos[where] = position{tk.Position.Line, tk.Position.Column}
		}
	}
	if _, isNull := n.(*ast.NullNode); isNull {
		return // an explicit null leaves the value unset
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		d.decode(n, nv.Elem(), where)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(n, v, where)
	case reflect.Slice:
		d.decodeSlice(n, v, where)
	case reflect.Map:
		d.decodeMap(n, v, where)
	default:
		d.decodeScalar(n, v, where)
	}
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, where string) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errAt(n, fmt.Sprintf("%s must be a mapping of keys to values, not %s", describeWhere(where), kindOf(n)), "")
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		key := yamlKey(t.Field(i))
		if key == "" {
			continue
		}
		fields[key] = i
		names = append(names, key)
	}
	seen := map[string]bool{}
	for _, mv := range m.Values {
		keyNode := d.unwrap(mv.Key)
		if keyNode == nil {
			continue
		}
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			d.errAt(mv.Key, "YAML merge keys (<<) are not supported in policies: use extends", "")
			continue
		}
		key, ok := scalarText(keyNode)
		if !ok {
			d.errAt(keyNode, "keys must be plain strings", "")
			continue
		}
		i, ok := fields[key]
		if !ok {
			msg := fmt.Sprintf("unknown key %q in %s", key, describeWhere(where))
			sug := nearest(key, names)
			if sug == "" {
				msg += " (valid keys: " + strings.Join(names, ", ") + ")"
			}
			d.errAt(keyNode, msg, sug)
			continue
		}
		if seen[key] {
			d.errAt(keyNode, fmt.Sprintf("duplicate key %q in %s", key, describeWhere(where)), "")
			continue
		}
		seen[key] = true
		val := d.unwrap(mv.Value)
		if val == nil {
			continue
		}
		if _, null := val.(*ast.NullNode); null && t.Field(i).Tag.Get("policy") == "required" {
			d.errAt(keyNode, fmt.Sprintf("%s needs a value", join(where, key)), "")
			continue
		}
		before := len(d.errs)
		d.decode(val, v.Field(i), join(where, key))
		if fv := v.Field(i); len(d.errs) == before && fv.Kind() == reflect.String && fv.String() == "" && t.Field(i).Tag.Get("policy") == "required" {
			d.errAt(keyNode, fmt.Sprintf("%s must not be empty", join(where, key)), "")
		}
	}
	var at ast.Node = m
	if len(m.Values) > 0 {
		at = m.Values[0].Key
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("policy") == "required" && !seen[yamlKey(f)] {
			d.errAt(at, fmt.Sprintf("%s is missing the required key %q", describeWhere(where), yamlKey(f)), "")
		}
	}
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value, where string) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		if v.Type().Implements(scalarListType) {
			if _, isScalar := n.(ast.ScalarNode); isScalar {
				elem := reflect.New(v.Type().Elem()).Elem()
				d.decode(n, elem, where)
				v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), elem))
				return
			}
		}
		sug := ""
		if s, ok := scalarText(n); ok {
			sug = "[" + s + "]"
		}
		d.errAt(n, fmt.Sprintf("%s must be a list, not %s", describeWhere(where), kindOf(n)), sug)
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(seq.Values))
	for i, item := range seq.Values {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(item, elem, fmt.Sprintf("%s[%d]", where, i))
		out = reflect.Append(out, elem)
	}
	v.Set(out)
}

func (d *decoder) decodeMap(n ast.Node, v reflect.Value, where string) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errAt(n, fmt.Sprintf("%s must be a mapping, not %s", describeWhere(where), kindOf(n)), "")
		return
	}
	t := v.Type()
	out := reflect.MakeMapWithSize(t, len(m.Values))
	for _, mv := range m.Values {
		keyNode := d.unwrap(mv.Key)
		if keyNode == nil {
			continue
		}
		k := reflect.New(t.Key()).Elem()
		before := len(d.errs)
		d.decodeScalar(keyNode, k, where)
		if len(d.errs) > before {
			continue
		}
		if out.MapIndex(k).IsValid() {
			d.errAt(keyNode, fmt.Sprintf("duplicate key %q in %s", k.String(), describeWhere(where)), "")
			continue
		}
		val := reflect.New(t.Elem()).Elem()
		d.decode(mv.Value, val, join(where, k.String()))
		out.SetMapIndex(k, val)
	}
	v.Set(out)
}

func (d *decoder) decodeScalar(n ast.Node, v reflect.Value, where string) {
	if _, ok := n.(ast.ScalarNode); !ok {
		if _, lit := n.(*ast.LiteralNode); !lit {
			d.errAt(n, fmt.Sprintf("%s must be a single value, not %s", describeWhere(where), kindOf(n)), "")
			return
		}
	}
	text, _ := scalarText(n)
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.TrimSpace(text))
		d.validate(n, v, where)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.errAt(n, fmt.Sprintf("%s must be true or false, not %q", describeWhere(where), text), boolSuggestion(text))
			return
		}
		v.SetBool(b.Value)
	case reflect.Int, reflect.Int64, reflect.Uint16:
		if _, ok := n.(*ast.IntegerNode); !ok {
			d.errAt(n, fmt.Sprintf("%s must be a whole number, not %q", describeWhere(where), text), "")
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 0, 64)
		if err != nil {
			d.errAt(n, fmt.Sprintf("%s: %q is not a whole number in range", describeWhere(where), text), "")
			return
		}
		if v.Kind() == reflect.Uint16 {
			if i < 1 || i > math.MaxUint16 {
				d.errAt(n, fmt.Sprintf("%s: port %d is out of range 1-65535", describeWhere(where), i), "")
				return
			}
			v.SetUint(uint64(i))
			return
		}
		if i < 0 || i > math.MaxInt32 {
			d.errAt(n, fmt.Sprintf("%s: %d is out of range 0-%d", describeWhere(where), i, math.MaxInt32), "")
			return
		}
		v.SetInt(i)
	default:
		d.errAt(n, fmt.Sprintf("%s: unsupported value type %s", describeWhere(where), v.Type()), "")
	}
}

// validate applies a string type's enumeration or checker.
func (d *decoder) validate(n ast.Node, v reflect.Value, where string) {
	t := v.Type()
	if t.Implements(enumType) {
		e := v.Interface().(enumerated)
		s := v.String()
		choices := e.choices()
		for _, c := range choices {
			if c == s {
				return
			}
		}
		for _, c := range choices {
			if strings.EqualFold(c, s) {
				v.SetString(c)
				return
			}
		}
		if a, ok := v.Interface().(aliased); ok {
			if c, ok := a.aliases()[strings.ToLower(s)]; ok {
				v.SetString(c)
				return
			}
		}
		msg := fmt.Sprintf("invalid value %q for %s", s, describeWhere(where))
		sug := nearest(s, choices)
		if sug == "" {
			msg += " (want one of: " + strings.Join(choices, ", ") + ")"
		}
		d.errAt(n, msg, sug)
		return
	}
	if t.Implements(checkerType) {
		if p := v.Interface().(checker).check(d.opts); p != nil {
			d.errAt(n, p.msg+" in "+describeWhere(where), p.suggest)
		}
	}
}

// scalarText is the text of a scalar node as written (without quotes).
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value, true
		}
		return "", true
	case ast.ScalarNode:
		if tk := v.GetToken(); tk != nil {
			return tk.Value, true
		}
		return fmt.Sprint(v.GetValue()), true
	}
	return "", false
}

func kindOf(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + strings.ToLower(n.Type().String())
}

func boolSuggestion(s string) string {
	switch strings.ToLower(s) {
	case "yes", "on", "y", "1", "required", "require", "enabled":
		return "true"
	case "no", "off", "n", "0", "disabled", "optional":
		return "false"
	}
	return ""
}

func yamlKey(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	if tag == "" || tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

func describeWhere(where string) string {
	if where == "" {
		return "the policy"
	}
	return where
}
