package cmdutil

import (
	"errors"
	"os"

	"github.com/karana-project/karana/pkg/inventory"
	"github.com/karana-project/karana/pkg/iostreams"
)

// BuildInfo is set from ldflags in cmd/karana.
type BuildInfo struct {
	Version, Commit, Date string
}

// Factory carries what commands depend on. Tests build their own.
type Factory struct {
	IOStreams *iostreams.IOStreams
	Build     BuildInfo

	// InventoryFlag is the root's --inventory value ("" when not given).
	InventoryFlag string
}

// InventoryPath resolves --inventory, then $KARANA_INVENTORY, then the default.
func (f *Factory) InventoryPath() string {
	if f.InventoryFlag != "" {
		return f.InventoryFlag
	}
	if p := os.Getenv(inventory.Env); p != "" {
		return p
	}
	return inventory.DefaultPath
}

// Inventory loads and validates the inventory. An invalid inventory ends
// the process with ExitInvalid.
func (f *Factory) Inventory() (*inventory.Inventory, error) {
	inv, err := inventory.Load(f.InventoryPath())
	return inv, InventoryError(err)
}

// InventoryError gives inventory errors their exit code.
func InventoryError(err error) error {
	var ve *inventory.ValidationError
	if errors.As(err, &ve) {
		return WithCode(ExitInvalid, err)
	}
	return err
}
