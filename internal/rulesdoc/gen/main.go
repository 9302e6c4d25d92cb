// Command gen writes the rule catalogue reference (docs/rules.md). It runs from
// `go generate ./internal/rulesdoc`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rampart-scan/rampart/internal/rulesdoc"
)

func main() {
	out := flag.String("o", "docs/rules.md", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, rulesdoc.Render(rulesdoc.Catalogue()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "rulesdoc:", err)
		os.Exit(1)
	}
}
