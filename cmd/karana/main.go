package main

import (
	"os"

	"github.com/karana-project/karana/pkg/karana"
)

var version, commit, date = "dev", "none", "unknown" // set by -ldflags -X

func main() {
	os.Exit(karana.Main(version, commit, date))
}
