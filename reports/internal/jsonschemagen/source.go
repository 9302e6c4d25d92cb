package main

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// sourceDocs reads the doc comments and string constants of the module's own packages, so the
// schemas carry the same descriptions as the Go types and the enumerations of string types
// follow their declared constants.
type sourceDocs struct {
	root   string // module root directory (holds go.mod)
	module string // module path
	pkgs   map[string]*pkgDocs
}

// pkgDocs is what one package's source says about its exported types.
type pkgDocs struct {
	types  map[string]string            // type name → doc text
	fields map[string]map[string]string // type name → Go field name → doc text
	enums  map[string][]string          // string type name → its constants' values, in order
	// literals are the keyed composite literals of each struct type in the package's code,
	// in source order: Go field name → value expression.
	literals map[string][]map[string]ast.Expr
}

// newSourceDocs finds the module root at or above dir and reads its module path.
func newSourceDocs(dir string) (*sourceDocs, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("locating the module: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := modulePath(string(b))
			if mod == "" {
				return nil, fmt.Errorf("%s: no module line", filepath.Join(d, "go.mod"))
			}
			return &sourceDocs{root: d, module: mod, pkgs: map[string]*pkgDocs{}}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, fmt.Errorf("no go.mod at or above %s", dir)
		}
		d = parent
	}
}

func modulePath(gomod string) string {
	for _, line := range strings.Split(gomod, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// pkg parses the package with the given import path; it returns nil for packages outside the
// module (the standard library), which carry no descriptions into the schema.
func (s *sourceDocs) pkg(path string) (*pkgDocs, error) {
	if p, ok := s.pkgs[path]; ok {
		return p, nil
	}
	var rel string
	switch {
	case path == s.module:
	case strings.HasPrefix(path, s.module+"/"):
		rel = strings.TrimPrefix(path, s.module+"/")
	default:
		s.pkgs[path] = nil
		return nil, nil
	}
	dir := filepath.Join(s.root, filepath.FromSlash(rel))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the source of %s: %w", path, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		files = append(files, f)
	}
	literals := map[string][]map[string]ast.Expr{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			id, ok := cl.Type.(*ast.Ident)
			if !ok {
				return true
			}
			lit := map[string]ast.Expr{}
			for _, e := range cl.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok {
						lit[k.Name] = kv.Value
					}
				}
			}
			literals[id.Name] = append(literals[id.Name], lit)
			return true
		})
	}
	// doc.NewFromFiles edits the syntax trees: the literals above are read first.
	dp, err := doc.NewFromFiles(fset, files, path)
	if err != nil {
		return nil, fmt.Errorf("reading the documentation of %s: %w", path, err)
	}
	p := &pkgDocs{types: map[string]string{}, fields: map[string]map[string]string{}, enums: map[string][]string{}, literals: literals}
	for _, t := range dp.Types {
		p.types[t.Name] = clean(t.Doc)
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok || ts.Name.Name != t.Name {
				continue
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				p.fields[t.Name] = fieldDocs(st)
			}
		}
		if vals, ok := stringConsts(t); ok && len(vals) > 0 {
			p.enums[t.Name] = vals
		}
	}
	s.pkgs[path] = p
	return p, nil
}

// fieldDocs maps each named field to its doc comment, or its line comment when it has none.
func fieldDocs(st *ast.StructType) map[string]string {
	out := map[string]string{}
	for _, f := range st.Fields.List {
		text := f.Doc.Text()
		if text == "" {
			text = f.Comment.Text()
		}
		text = clean(text)
		if text == "" {
			continue
		}
		for _, n := range f.Names {
			out[n.Name] = text
		}
	}
	return out
}

// stringConsts lists the string literal constants declared with type t. ok is false when any
// constant of the type is not a plain literal (the set could then not be read reliably).
func stringConsts(t *doc.Type) (vals []string, ok bool) {
	for _, v := range t.Consts {
		for _, spec := range v.Decl.Specs {
			vs, isValue := spec.(*ast.ValueSpec)
			if !isValue {
				continue
			}
			id, isIdent := vs.Type.(*ast.Ident)
			if !isIdent || id.Name != t.Name {
				continue
			}
			if len(vs.Values) != len(vs.Names) {
				return nil, false
			}
			for _, e := range vs.Values {
				lit, isLit := e.(*ast.BasicLit)
				if !isLit || lit.Kind != token.STRING {
					return nil, false
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, false
				}
				vals = append(vals, s)
			}
		}
	}
	return vals, true
}

// clean turns a comment into one line of text.
func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// typeDoc is the doc comment of a named type, "" when unknown.
func (s *sourceDocs) typeDoc(pkgPath, name string) (string, error) {
	p, err := s.pkg(pkgPath)
	if p == nil || err != nil {
		return "", err
	}
	return p.types[name], nil
}

// fieldDoc is the doc comment of a struct field, "" when unknown.
func (s *sourceDocs) fieldDoc(pkgPath, typeName, field string) (string, error) {
	p, err := s.pkg(pkgPath)
	if p == nil || err != nil {
		return "", err
	}
	return p.fields[typeName][field], nil
}

// enum lists the declared constants of a named string type (nil when it has none).
func (s *sourceDocs) enum(pkgPath, name string) ([]string, error) {
	p, err := s.pkg(pkgPath)
	if p == nil || err != nil {
		return nil, err
	}
	return p.enums[name], nil
}

// unionCase is one way the package's code fills a tagged-union struct: the discriminator's
// value and the other fields it sets.
type unionCase struct {
	value string
	set   []string // Go field names, sorted
}

// unionCases reads, from every keyed literal of the struct type in its package, which
// discriminator value goes with which fields. A literal whose discriminator is not a string
// literal is an error: the schema could not say what it writes.
func (s *sourceDocs) unionCases(pkgPath, typeName, discField string) ([]unionCase, error) {
	p, err := s.pkg(pkgPath)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("no source for %s.%s", pkgPath, typeName)
	}
	var out []unionCase
	seen := map[string]string{}
	for _, lit := range p.literals[typeName] {
		e, ok := lit[discField]
		if !ok {
			continue // e.g. a literal that only decodes into the type
		}
		bl, ok := e.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING {
			return nil, fmt.Errorf("%s literal sets %s to a non-literal value; write the string literal", typeName, discField)
		}
		v, err := strconv.Unquote(bl.Value)
		if err != nil {
			return nil, fmt.Errorf("%s literal: %w", typeName, err)
		}
		var set []string
		for k := range lit {
			if k != discField {
				set = append(set, k)
			}
		}
		slices.Sort(set)
		key := strings.Join(set, ",")
		if prev, dup := seen[v]; dup {
			if prev != key {
				return nil, fmt.Errorf("%s %s %q is written with fields {%s} and with {%s}", typeName, discField, v, prev, key)
			}
			continue
		}
		seen[v] = key
		out = append(out, unionCase{value: v, set: set})
	}
	return out, nil
}
