package mt

import (
	"context"
	"time"
)

// SetSleep makes t wait before retries with sleep instead of a timer.
func SetSleep(t *Translator, sleep func(ctx context.Context, d time.Duration) error) { t.sleep = sleep }
