package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// NewRootCmd builds the command tree.
func NewRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "rampart",
		Short: "Security posture and TLS scanner for messaging infrastructure",
		Long: `Rampart discovers an organisation's messaging hosts (XMPP, Matrix, SIP, SMTP/IMAP,
MQTT, IRC, HTTPS gateways) through DNS, audits their TLS, certificates, STARTTLS and
exposure, judges what it saw against a policy, remembers every scan and reports drift.

Start with: rampart demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.Err)
	root.AddCommand(
		newScanCmd(env),
		newDemoCmd(env),
		newDiscoverCmd(env),
		newPolicyCmd(env),
		newRulesCmd(env),
		newExplainCmd(env),
		newReportCmd(env),
		newVersionCmd(env),
	)
	root.AddCommand(StoreCmds(env)...)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	return root
}

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, env *Env, args []string) int {
	root := NewRootCmd(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(env.Err, "rampart:", ee.Err)
		}
		return ee.Code
	}
	// Cobra's own errors (unknown command, bad arguments) are usage errors.
	fmt.Fprintln(env.Err, "rampart:", err)
	return ExitUsage
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Rampart's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(env.Out, "rampart %s\n", env.Version)
			return err
		},
	}
}
