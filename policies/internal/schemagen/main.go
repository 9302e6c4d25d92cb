// Command schemagen writes the policy language's JSON Schema (policies.Schema) to a file. It
// runs from `go generate ./policies`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rampart-scan/rampart/policies"
)

func main() {
	out := flag.String("o", "schema.json", "file to write")
	flag.Parse()
	if err := os.WriteFile(*out, policies.Schema(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "schemagen:", err)
		os.Exit(1)
	}
}
