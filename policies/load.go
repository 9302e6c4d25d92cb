package policies

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
)

//go:generate go run ./internal/schemagen -o schema.json

// builtinFS holds the built-in profiles, one YAML file each, named after the policy.
//
//go:embed *.yaml
var builtinFS embed.FS

// DefaultName is the built-in policy used when none is named.
const DefaultName = "messaging-baseline"

// maxExtendsDepth bounds an extends chain.
const maxExtendsDepth = 16

// Options tune loading.
type Options struct {
	// KnownRules lists the rule catalogue's IDs. When set, every rule a policy names
	// (severities, disable, enable, waivers) must exist, or match one when it is a glob, and
	// a misspelt ID gets the nearest real one as a suggestion.
	KnownRules []string
	// ReadFile reads policy files; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

func (o *Options) knownRules() []string {
	if o == nil || len(o.KnownRules) == 0 {
		return nil
	}
	out := slices.Clone(o.KnownRules)
	for _, r := range Rules() {
		if !slices.Contains(out, r.ID) {
			out = append(out, r.ID)
		}
	}
	sort.Strings(out)
	return out
}

func (o *Options) readFile(name string) ([]byte, error) {
	if o != nil && o.ReadFile != nil {
		return o.ReadFile(name)
	}
	return os.ReadFile(name)
}

// Builtins lists the names of the built-in profiles, sorted.
func Builtins() []string {
	entries, err := fs.ReadDir(builtinFS, ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// BuiltinSource returns the YAML text of a built-in profile.
func BuiltinSource(name string) ([]byte, bool) {
	b, err := builtinFS.ReadFile(name + ".yaml")
	return b, err == nil
}

// IsBuiltin reports whether name is a built-in profile.
func IsBuiltin(name string) bool {
	_, ok := BuiltinSource(name)
	return ok
}

// looksLikePath: a reference with a separator or a YAML extension is a file, never a name.
func looksLikePath(ref string) bool {
	return strings.ContainsRune(ref, '/') || strings.ContainsRune(ref, filepath.Separator) ||
		strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml")
}

// Load resolves a policy by built-in name or file path, following extends, and compiles it.
func Load(ref string, opts Options) (*Policy, error) {
	l := &loader{opts: &opts}
	f, chain, err := l.resolveRef(ref, "", nil, nil)
	if err != nil {
		return nil, err
	}
	return compile(f, chain)
}

// Parse loads a policy from bytes; filename is used in messages and to resolve relative
// extends paths.
func Parse(filename string, data []byte, opts Options) (*Policy, error) {
	l := &loader{opts: &opts}
	key := "file:" + filename
	if abs, err := filepath.Abs(filename); err == nil {
		key = "file:" + abs
	}
	f, chain, err := l.resolveData(filename, key, filepath.Dir(filename), data, nil)
	if err != nil {
		return nil, err
	}
	return compile(f, chain)
}

type loader struct {
	opts *Options
}

// resolveRef loads one reference. dir is the directory of the file that named it ("" for
// top level and built-ins); at is the referring file and position for errors.
func (l *loader) resolveRef(ref, dir string, stack []string, at *Error) (*File, []string, error) {
	fail := func(msg, suggest string) error {
		if at == nil {
			return &Error{File: ref, Msg: msg, Suggestion: suggest}
		}
		e := *at
		e.Msg, e.Suggestion = msg, suggest
		return ErrorList{&e}
	}
	if !looksLikePath(ref) {
		data, ok := BuiltinSource(ref)
		if !ok {
			if at == nil {
				if _, err := os.Stat(ref); err == nil {
					return l.resolvePath(ref, stack, fail)
				}
			}
			return nil, nil, fail(fmt.Sprintf("unknown built-in policy %q (built-ins: %s; a file path needs a / or a .yaml extension)", ref, strings.Join(Builtins(), ", ")), nearest(ref, Builtins()))
		}
		return l.resolveData("builtin:"+ref, "builtin:"+ref, "", data, stack)
	}
	if dir != "" && !filepath.IsAbs(ref) {
		ref = filepath.Join(dir, ref)
	}
	return l.resolvePath(ref, stack, fail)
}

func (l *loader) resolvePath(path string, stack []string, fail func(string, string) error) (*File, []string, error) {
	data, err := l.opts.readFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			sug := ""
			if base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".yaml"), ".yml"); IsBuiltin(base) {
				sug = base // the built-in's name, not its file
			}
			return nil, nil, fail(fmt.Sprintf("policy file %s does not exist", path), sug)
		}
		return nil, nil, fail(fmt.Sprintf("reading policy file: %v", err), "")
	}
	key := "file:" + path
	if abs, err := filepath.Abs(path); err == nil {
		key = "file:" + abs
	}
	return l.resolveData(path, key, filepath.Dir(path), data, stack)
}

// resolveData decodes one file and merges it over what it extends. The result carries no
// extends: it is the fully resolved document. chain lists every file, parents first.
func (l *loader) resolveData(name, key, dir string, data []byte, stack []string) (*File, []string, error) {
	if slices.Contains(stack, key) {
		return nil, nil, fmt.Errorf("extends cycle: %s", strings.Join(append(stack, key), " → "))
	}
	if len(stack) >= maxExtendsDepth {
		return nil, nil, fmt.Errorf("extends chain deeper than %d: %s", maxExtendsDepth, strings.Join(append(stack, key), " → "))
	}
	d := &decoder{file: name, opts: l.opts, pos: map[string]position{}}
	f, err := d.decodeFile(data)
	if err != nil {
		return nil, nil, err
	}
	stack = append(stack, key)
	var merged *File
	var chain []string
	for i, ref := range f.Extends {
		where := fmt.Sprintf("extends[%d]", i)
		if len(f.Extends) == 1 && d.pos[where] == (position{}) {
			where = "extends"
		}
		p := d.pos[where]
		at := &Error{File: name, Line: p.line, Column: p.col}
		if dir == "" && looksLikePath(ref) {
			e := *at
			e.Msg = fmt.Sprintf("built-in policies may extend only built-in policies, not %q", ref)
			return nil, nil, ErrorList{&e}
		}
		if slices.Contains(stack, refKey(ref, dir)) {
			e := *at
			e.Msg = fmt.Sprintf("extends cycle: %s → %s", strings.Join(stack, " → "), refKey(ref, dir))
			return nil, nil, ErrorList{&e}
		}
		parent, pchain, err := l.resolveRef(ref, dir, stack, at)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, pchain...)
		if merged == nil {
			merged = parent
		} else {
			merged = mergeFiles(merged, parent)
		}
	}
	own := *f
	own.Extends = nil
	if merged == nil {
		merged = &own
	} else {
		merged = mergeFiles(merged, &own)
	}
	merged.Extends = nil
	chain = append(chain, strings.TrimPrefix(name, "builtin:"))
	return merged, chain, nil
}

// refKey is the stack key a reference resolves to.
func refKey(ref, dir string) string {
	if !looksLikePath(ref) && IsBuiltin(ref) {
		return "builtin:" + ref
	}
	if dir != "" && !filepath.IsAbs(ref) {
		ref = filepath.Join(dir, ref)
	}
	if abs, err := filepath.Abs(ref); err == nil {
		return "file:" + abs
	}
	return "file:" + ref
}

// mergeFiles lays over on top of base: scalars and lists set in over replace base's, maps
// merge key by key, structs merge field by field, and lists tagged merge:"append" (overrides,
// waivers) are concatenated, base first. Disable and enable combine so that the later file's
// choice about a rule wins.
func mergeFiles(base, over *File) *File {
	out := deepCopy(base)
	disable := subtract(out.Disable, over.Enable)
	enable := subtract(out.Enable, over.Disable)
	mergeValue(reflect.ValueOf(out).Elem(), reflect.ValueOf(over).Elem(), "")
	out.Disable = union(disable, over.Disable)
	out.Enable = union(enable, over.Enable)
	if over.Description == "" {
		out.Description = base.Description
	}
	return out
}

func mergeValue(dst, src reflect.Value, mergeTag string) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		if dst.IsNil() || src.Elem().Kind() != reflect.Struct {
			dst.Set(deepCopyValue(src))
			return
		}
		mergeValue(dst.Elem(), src.Elem(), "")
	case reflect.Struct:
		for i := range src.NumField() {
			mergeValue(dst.Field(i), src.Field(i), src.Type().Field(i).Tag.Get("merge"))
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		if mergeTag == "append" {
			dst.Set(reflect.AppendSlice(deepCopyValue(dst), deepCopyValue(src)))
			return
		}
		dst.Set(deepCopyValue(src))
	case reflect.Map:
		if src.IsNil() {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(src.Type()))
		}
		iter := src.MapRange()
		for iter.Next() {
			dst.SetMapIndex(iter.Key(), iter.Value())
		}
	case reflect.String:
		if src.String() != "" {
			dst.SetString(src.String())
		}
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}

func deepCopy(f *File) *File {
	return deepCopyValue(reflect.ValueOf(f)).Interface().(*File)
}

func deepCopyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(deepCopyValue(v.Elem()))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			n.Field(i).Set(deepCopyValue(v.Field(i)))
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(deepCopyValue(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			n.SetMapIndex(iter.Key(), deepCopyValue(iter.Value()))
		}
		return n
	}
	return v
}

func subtract(a, b []RulePattern) []RulePattern {
	var out []RulePattern
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func union(a, b []RulePattern) []RulePattern {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
