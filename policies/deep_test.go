package policies

import (
	"strings"
	"testing"
	"time"
)

// TestPathologicalInputIsFast: shapes that make YAML parsers slow end quickly in an error.
func TestPathologicalInputIsFast(t *testing.T) {
	for name, src := range map[string]string{
		"deep flow sequence": strings.Repeat("[", 100000),
		"deep flow mapping":  strings.Repeat("{a: ", 50000),
		"deep block list":    "a: " + strings.Repeat("- ", 50000),
		"long flow list":     "apiVersion: rampart.dev/v1\nname: a\ndisable: [" + strings.Repeat("cert/expired, ", 60000) + "]\n",
		"too big":            strings.Repeat("#", maxPolicyBytes+1),
	} {
		start := time.Now()
		_, err := Parse("p.yaml", []byte(src), Options{})
		if err == nil && name != "long flow list" {
			t.Errorf("%s: loaded", name)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s took %v", name, d)
		}
	}
	_, err := Parse("p.yaml", []byte(strings.Repeat("[", 40)), Options{})
	if err == nil || err.Error() != "p.yaml:1:1: brackets nested more than 32 deep" {
		t.Errorf("got %v", err)
	}
	ok := "apiVersion: rampart.dev/v1\nname: a\ndescription: \"[[[[ # ]]]]\" # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
	if _, err := Parse("p.yaml", []byte(ok), Options{}); err != nil {
		t.Errorf("brackets in comments count: %v", err)
	}
}
