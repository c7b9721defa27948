// Package trust implements `karana remote trust`.
package trust

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/karana-project/karana/pkg/cmdutil"
	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
	"github.com/karana-project/karana/pkg/lxd"
)

// Options of `karana remote trust`.
type Options struct {
	IO        *iostreams.IOStreams
	Inventory func() (*inventory.Inventory, error)
	Trust     func(ctx context.Context, cfg inventory.LXD, token string) (*lxd.TrustResult, error)

	Token  string
	Output string
}

// NewCmdTrust returns `karana remote trust TOKEN`. runF replaces the run
// function in tests.
func NewCmdTrust(f *cmdutil.Factory, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Inventory: f.Inventory, Trust: lxd.Trust}
	cmd := &cobra.Command{
		Use:   "trust <token>",
		Short: "Get this machine's client certificate trusted by a remote LXD",
		Long: cmdutil.Dedent(`
			Do what lxc remote add does with a token, for the inventory's
			lxd.client_cert, lxd.client_key and lxd.server_cert files: make the
			client certificate when it does not exist, fetch the daemon's
			certificate and keep it only if its fingerprint is the one in the token,
			then present the token so that the daemon trusts the client certificate.
			Make the token on the daemon (or any cluster member) with
			lxc config trust add --name karana. Tokens are single-use and expire.
			Running it again when the certificate is trusted changes nothing.`),
		Example: cmdutil.Dedent(`
			# on the LXD host:
			$ lxc config trust add --name karana-ci
			# here, with lxd.endpoint: https://lxd1.example.org:8443 in the inventory:
			$ karana remote trust eyJjbGllbnRfbmFtZSI6...`),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			opts.Token = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return trustRun(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output)
	return cmd
}

func trustRun(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	inv, err := opts.Inventory()
	if err != nil {
		return err
	}
	if !inv.LXD.Remote() {
		return cmdutil.WithCode(cmdutil.ExitInvalid, fmt.Errorf("%s: lxd.endpoint is %q: trust is for a remote daemon (https://host:8443)", inv.Path, inv.LXD.Endpoint))
	}
	cfg := inv.LXD
	cfg.ClientCert, cfg.ClientKey, cfg.ServerCert = inv.Resolve(cfg.ClientCert), inv.Resolve(cfg.ClientKey), inv.Resolve(cfg.ServerCert)
	if inv.LXD.ServerCert == "" {
		return cmdutil.WithCode(cmdutil.ExitInvalid, fmt.Errorf("%s: lxd.server_cert is not set: name the file karana keeps the daemon's certificate in (for example server_cert: lxd/server.crt)", inv.Path))
	}
	res, err := opts.Trust(ctx, cfg, opts.Token)
	if errors.Is(err, lxd.ErrToken) {
		return cmdutil.UsageError(err)
	}
	if err != nil {
		return cmdutil.WithCode(cmdutil.ExitUnavailable, err)
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, res)
	}
	state := "now trusts"
	if res.AlreadyTrusted {
		state = "already trusted"
	}
	made := ""
	if res.ClientGenerated {
		made = " (generated)"
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s (LXD %s, certificate %s) %s %s%s\nserver certificate pinned in %s\n",
		res.Endpoint, res.ServerVersion, short(res.Fingerprint), state, res.ClientCert, made, res.ServerCert)
	return err
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}
