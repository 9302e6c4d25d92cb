package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// YAML renders the resolved policy document (no extends: everything inherited is written
// out). Loading the result gives a policy with the same Hash. The emitter is Rampart's own:
// strings that could be misread are written as JSON-escaped double-quoted scalars, which YAML
// reads back exactly.
func (p *Policy) YAML() ([]byte, error) {
	e := &emitter{}
	if err := e.fields(reflect.ValueOf(p.Spec).Elem(), 0, false); err != nil {
		return nil, fmt.Errorf("rendering policy %s: %w", p.Name, err)
	}
	return e.buf.Bytes(), nil
}

type emitter struct {
	buf bytes.Buffer
}

// plainRE matches strings safe to write unquoted.
var plainRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._/@+-]*$`)

var yamlWords = map[string]bool{"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "y": true, "n": true, "null": true}

func scalarString(s string) string {
	if plainRE.MatchString(s) && !yamlWords[strings.ToLower(s)] {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// isEmpty: values that are left out (nil pointers, slices and maps; empty strings; zero ints
// and false bools are pointers in the spec, so a present zero is written).
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return v.IsNil()
	case reflect.String:
		return v.String() == ""
	}
	return false
}

// fields writes a struct's set fields at indent. When inline, the first field continues the
// current line (after "- ").
func (e *emitter) fields(v reflect.Value, indent int, inline bool) error {
	first := true
	for i := range v.NumField() {
		f := v.Type().Field(i)
		key := yamlKey(f)
		fv := v.Field(i)
		if key == "" || isEmpty(fv) {
			continue
		}
		if fv.Kind() == reflect.Struct && structEmpty(fv) && f.Tag.Get("policy") != "required" {
			continue
		}
		if !(first && inline) {
			e.buf.WriteString(strings.Repeat(" ", indent))
		}
		first = false
		e.buf.WriteString(key)
		e.buf.WriteString(":")
		if err := e.value(fv, indent); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	if first && inline {
		e.buf.WriteString("{}\n")
	}
	return nil
}

// value writes what follows "key:" for a value of a key at indent.
func (e *emitter) value(v reflect.Value, indent int) error {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if structEmpty(v) {
			e.buf.WriteString(" {}\n")
			return nil
		}
		e.buf.WriteString("\n")
		return e.fields(v, indent+2, false)
	case reflect.Slice:
		if v.Len() == 0 {
			e.buf.WriteString(" []\n")
			return nil
		}
		e.buf.WriteString("\n")
		for i := range v.Len() {
			item := v.Index(i)
			e.buf.WriteString(strings.Repeat(" ", indent+2))
			e.buf.WriteString("- ")
			if item.Kind() == reflect.Struct {
				if err := e.fields(item, indent+4, true); err != nil {
					return err
				}
				continue
			}
			s, err := scalar(item)
			if err != nil {
				return err
			}
			e.buf.WriteString(s + "\n")
		}
		return nil
	case reflect.Map:
		if v.Len() == 0 {
			e.buf.WriteString(" {}\n")
			return nil
		}
		e.buf.WriteString("\n")
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			val, err := scalar(v.MapIndex(k))
			if err != nil {
				return err
			}
			fmt.Fprintf(&e.buf, "%s%s: %s\n", strings.Repeat(" ", indent+2), scalarString(k.String()), val)
		}
		return nil
	}
	s, err := scalar(v)
	if err != nil {
		return err
	}
	e.buf.WriteString(" " + s + "\n")
	return nil
}

func structEmpty(v reflect.Value) bool {
	for i := range v.NumField() {
		if yamlKey(v.Type().Field(i)) != "" && !isEmpty(v.Field(i)) {
			return false
		}
	}
	return true
}

func scalar(v reflect.Value) (string, error) {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return scalarString(v.String()), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint16:
		return strconv.FormatUint(v.Uint(), 10), nil
	}
	return "", fmt.Errorf("cannot render %s", v.Type())
}
