package cmdutil

import (
	"errors"
	"fmt"
	"testing"

	"github.com/karana-project/karana/pkg/balancer"
)

func TestExitCodeOfDomainErrors(t *testing.T) {
	refused := fmt.Errorf("step: %w", fmt.Errorf("%w: lb1: haproxy said no", balancer.ErrRefused))
	unreachable := fmt.Errorf("step: %w", &balancer.UnreachableError{Balancer: "lb0", Err: errors.New("dial: no such file")})
	for _, tt := range []struct {
		err  error
		want int
	}{
		{refused, ExitInvalid},
		{unreachable, ExitUnavailable},
		{WithCode(ExitFailure, refused), ExitFailure}, // a command's own choice wins
		{errors.New("other"), ExitFailure},
	} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
