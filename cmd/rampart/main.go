// Command rampart is the security-posture and TLS scanner for messaging infrastructure.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/rampart-scan/rampart/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise it comes
// from the module build information.
var version = ""

func main() {
	os.Exit(cli.Execute(context.Background(), cli.SystemEnv(buildVersion()), os.Args[1:]))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "devel-" + rev
		}
	}
	return "devel"
}
