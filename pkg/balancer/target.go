package balancer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
)

// Files maps a path on a balancer to the bytes it should hold.
type Files map[string][]byte

// Paths returns the paths of fs, sorted.
func (fs Files) Paths() []string {
	ps := make([]string, 0, len(fs))
	for p := range fs {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// Diff lists the paths whose content differs between fs and other, or that
// only one of them has, sorted.
func (fs Files) Diff(other Files) []string {
	var d []string
	for p, b := range fs {
		if ob, ok := other[p]; !ok || !bytes.Equal(b, ob) {
			d = append(d, p)
		}
	}
	for p := range other {
		if _, ok := fs[p]; !ok {
			d = append(d, p)
		}
	}
	sort.Strings(d)
	return d
}

// Sums maps a path on a balancer to the SHA-256 (hex) of its content: what
// is compared instead of the files themselves, so that a balancer with a
// thousand certificates is compared by one command, not a thousand reads.
type Sums map[string]string

// Sums returns the digests of fs.
func (fs Files) Sums() Sums {
	out := make(Sums, len(fs))
	for p, b := range fs {
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:])
	}
	return out
}

// Diff lists the paths whose digest differs between s and other, or that
// only one of them has, sorted.
func (s Sums) Diff(other Sums) []string {
	var d []string
	for p, h := range s {
		if oh, ok := other[p]; !ok || oh != h {
			d = append(d, p)
		}
	}
	for p := range other {
		if _, ok := s[p]; !ok {
			d = append(d, p)
		}
	}
	sort.Strings(d)
	return d
}

// Target is one inner balancer's configuration and process, as the one
// apply path handles it. Prepare and Check never touch the live
// configuration.
type Target interface {
	Name() string
	// Sums digests the files karana manages on the balancer now.
	Sums(ctx context.Context) (Sums, error)
	// Read returns one of those files.
	Read(ctx context.Context, path string) ([]byte, error)
	// Prepare lays files out beside the live ones (the stage), copying
	// what have (the live digests) says is already there and sending the
	// rest.
	Prepare(ctx context.Context, files Files, have Sums) error
	// Check runs `haproxy -c` on the stage; an invalid set is a
	// *HAProxyError.
	Check(ctx context.Context) error
	// Commit swaps the staged files in, keeping the replaced ones.
	Commit(ctx context.Context) error
	// Restore puts back the files the last Commit replaced.
	Restore(ctx context.Context) error
	// Reload asks haproxy to load its configuration seamlessly: the old
	// worker finishes its connections, capped by hard-stop-after.
	Reload(ctx context.Context) error
	// Log returns haproxy's last log lines, to quote when a reload fails.
	Log(ctx context.Context) string
}

// HAProxyError is HAProxy refusing a configuration, with its own words.
type HAProxyError struct {
	Balancer string
	Doing    string // "checking the new configuration", "reloading"
	Output   string
}

func (e *HAProxyError) Error() string {
	out := strings.TrimSpace(e.Output)
	if out == "" {
		out = "(haproxy said nothing)"
	}
	return fmt.Sprintf("%s: haproxy failed %s:\n    %s", e.Balancer, e.Doing, strings.ReplaceAll(out, "\n", "\n    "))
}

// Host runs commands and moves files on the machine (container or local)
// that runs one balancer.
type Host interface {
	Exec(ctx context.Context, argv []string, stdout, stderr io.Writer) (int, error)
	Push(ctx context.Context, path string, data []byte, mode os.FileMode) error
	Pull(ctx context.Context, path string) ([]byte, error)
}

// Staging folders, beside the live configuration in Node.Dir.
const (
	stageDir = ".karana-stage"
	prevDir  = ".karana-prev"
	cfgName  = "haproxy.cfg"
	sumsName = ".karana-sums" // the digests Sums last read
	dataName = "karana"
)

// Node is a Target on a Host: the configuration is haproxy.cfg plus the
// karana/ folder in Dir; relative paths in the configuration are relative
// to it (`default-path config`), so a staged copy is checked as it is.
type Node struct {
	NodeName  string
	Host      Host
	Dir       string   // /etc/haproxy in the containers
	Haproxy   string   // the haproxy binary, "haproxy" when empty
	ReloadCmd []string // systemctl reload haproxy
	LogCmd    []string // journalctl -u haproxy -n 20
	FileMode  func(name string) os.FileMode
}

// Name implements Target.
func (n *Node) Name() string { return n.NodeName }

// run runs argv on the host and returns its combined output.
func (n *Node) run(ctx context.Context, argv ...string) (string, error) {
	out, code, err := n.capture(ctx, argv...)
	if err != nil {
		return out, err
	}
	if code != 0 {
		return out, fmt.Errorf("%s: %q exited %d: %s", n.NodeName, strings.Join(argv, " "), code, strings.TrimSpace(out))
	}
	return out, nil
}

// capture runs argv and returns its combined output and exit code.
func (n *Node) capture(ctx context.Context, argv ...string) (string, int, error) {
	var out bytes.Buffer
	code, err := n.Host.Exec(ctx, argv, &out, &out)
	return out.String(), code, err
}

func (n *Node) sh(ctx context.Context, script string) (string, error) {
	return n.run(ctx, "sh", "-ec", script, "karana", n.Dir)
}

// Sums implements Target: one command digests every managed file. Its
// output goes through a file (sumsName) that is pulled: output streamed
// back by LXD exec was seen to arrive empty now and then under load
// (pkg/lxd's TestIntegrationExecOutputComplete), and an empty answer
// would read as "every file differs".
func (n *Node) Sums(ctx context.Context) (Sums, error) {
	_, err := n.sh(ctx, `cd "$1"; { [ -f `+cfgName+` ] && echo `+cfgName+`; [ -d `+dataName+` ] && find `+dataName+` -type f; true; } | xargs -r sha256sum > `+sumsName+`.tmp; mv -f `+sumsName+`.tmp `+sumsName)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of %s: %w", n.NodeName, err)
	}
	out, err := n.Host.Pull(ctx, path.Join(n.Dir, sumsName))
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of %s: %w", n.NodeName, err)
	}
	sums := Sums{}
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || len(f[0]) != 64 {
			continue
		}
		sums[path.Join(n.Dir, strings.TrimPrefix(f[1], "*"))] = f[0]
	}
	return sums, nil
}

// Read implements Target.
func (n *Node) Read(ctx context.Context, p string) ([]byte, error) {
	b, err := n.Host.Pull(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("reading %s on %s: %w", p, n.NodeName, err)
	}
	return b, nil
}

// Current reads every file karana manages on the balancer.
func (n *Node) Current(ctx context.Context) (Files, error) {
	sums, err := n.Sums(ctx)
	if err != nil {
		return nil, err
	}
	fs := Files{}
	for p := range sums {
		if fs[p], err = n.Read(ctx, p); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

func (n *Node) rel(p string) (string, error) {
	r := strings.TrimPrefix(path.Clean(p), path.Clean(n.Dir)+"/")
	if r == p || (r != cfgName && !strings.HasPrefix(r, dataName+"/")) {
		return "", fmt.Errorf("%s: %s is not %s/%s or under %s/%s/", n.NodeName, p, n.Dir, cfgName, n.Dir, dataName)
	}
	return r, nil
}

// Stage prepares files and checks them: what a reload needs first.
func (n *Node) Stage(ctx context.Context, files Files) error {
	have, err := n.Sums(ctx)
	if err != nil {
		return err
	}
	if err := n.Prepare(ctx, files, have); err != nil {
		return err
	}
	return n.Check(ctx)
}

// Prepare implements Target. The stage starts as hard links to the live
// files; every file to change is unlinked there first and sent anew, so
// a live file is never written through its link.
func (n *Node) Prepare(ctx context.Context, files Files, have Sums) error {
	if _, ok := files[path.Join(n.Dir, cfgName)]; !ok {
		return fmt.Errorf("%s: the new files have no %s", n.NodeName, path.Join(n.Dir, cfgName))
	}
	want := files.Sums()
	var send, drop []string
	for _, p := range want.Diff(have) {
		r, err := n.rel(p)
		if err != nil {
			return err
		}
		drop = append(drop, r)
		if _, ok := files[p]; ok {
			send = append(send, p)
		}
	}
	script := `cd "$1"; shift; rm -rf ` + stageDir + `; mkdir -m 0755 ` + stageDir + `
if [ -f ` + cfgName + ` ]; then cp -p ` + cfgName + ` ` + stageDir + `/; fi
if [ -d ` + dataName + ` ]; then cp -al ` + dataName + ` ` + stageDir + `/; fi
cd ` + stageDir + `; for f; do rm -f -- "$f"; done`
	if _, err := n.run(ctx, append([]string{"sh", "-ec", script, "karana", n.Dir}, drop...)...); err != nil {
		return fmt.Errorf("preparing %s/%s: %w", n.Dir, stageDir, err)
	}
	for _, p := range send {
		r, _ := n.rel(p)
		mode := os.FileMode(0o644)
		if n.FileMode != nil {
			mode = n.FileMode(p)
		}
		if err := n.Host.Push(ctx, path.Join(n.Dir, stageDir, r), files[p], mode); err != nil {
			return fmt.Errorf("staging the new configuration on %s: %w", n.NodeName, err)
		}
	}
	return nil
}

// Check implements Target.
func (n *Node) Check(ctx context.Context) error {
	bin := n.Haproxy
	if bin == "" {
		bin = "haproxy"
	}
	out, code, err := n.capture(ctx, bin, "-c", "-f", path.Join(n.Dir, stageDir, cfgName))
	if err != nil {
		return fmt.Errorf("checking the new configuration on %s: %w", n.NodeName, err)
	}
	if code != 0 {
		return &HAProxyError{Balancer: n.NodeName, Doing: "checking the new configuration (haproxy -c)", Output: out}
	}
	return nil
}

// Commit implements Target. Each rename is atomic; haproxy reads the files
// only when reloaded, after all of them are in place.
func (n *Node) Commit(ctx context.Context) error {
	// The old .karana-prev goes first: a Restore after a Commit that failed
	// must not bring back an older generation.
	_, err := n.sh(ctx, `cd "$1"; rm -rf `+prevDir+`; [ -f `+stageDir+`/`+cfgName+` ]
mkdir -m 0700 `+prevDir+`
if [ -f `+cfgName+` ]; then cp -p `+cfgName+` `+prevDir+`/; fi
if [ -d `+dataName+` ]; then mv `+dataName+` `+prevDir+`/; fi
if [ -d `+stageDir+`/`+dataName+` ]; then mv `+stageDir+`/`+dataName+` `+dataName+`; fi
mv -f `+stageDir+`/`+cfgName+` `+cfgName+`
rm -rf `+stageDir)
	if err != nil {
		return fmt.Errorf("putting the new configuration in place on %s: %w", n.NodeName, err)
	}
	return nil
}

// Restore implements Target.
func (n *Node) Restore(ctx context.Context) error {
	_, err := n.sh(ctx, `cd "$1"; [ -d `+prevDir+` ]
rm -rf `+dataName+`
if [ -d `+prevDir+`/`+dataName+` ]; then mv `+prevDir+`/`+dataName+` `+dataName+`; fi
if [ -f `+prevDir+`/`+cfgName+` ]; then mv -f `+prevDir+`/`+cfgName+` `+cfgName+`; fi`)
	if err != nil {
		return fmt.Errorf("putting the previous configuration back on %s: %w", n.NodeName, err)
	}
	return nil
}

// Reload implements Target.
func (n *Node) Reload(ctx context.Context) error {
	out, err := n.run(ctx, n.ReloadCmd...)
	if err != nil {
		return &HAProxyError{Balancer: n.NodeName, Doing: "reloading (" + strings.Join(n.ReloadCmd, " ") + ")", Output: out + n.Log(ctx)}
	}
	return nil
}

// Log implements Target.
func (n *Node) Log(ctx context.Context) string {
	if len(n.LogCmd) == 0 {
		return ""
	}
	out, _ := n.run(ctx, n.LogCmd...)
	return out
}
