package mttest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

// The in-process Engine, which other packages' tests stand in for a real
// one, passes the whole contract.
func TestEngineContract(t *testing.T) {
	features := mttest.Features{
		Glossary:            true,
		Failures:            []mttest.Behaviour{mttest.Retryable, mttest.Quota, mttest.Auth, mttest.Permanent},
		Hang:                true,
		SplitsLargeRequests: true,
	}
	mttest.Run(t, features, func(t *testing.T, b mttest.Behaviour) mt.Engine {
		if b == mttest.Hang {
			return &hangEngine{}
		}
		return &mttest.Engine{Lim: mt.Limits{MaxSegments: 10}, Fail: func(_ int, req mt.Request) error {
			switch b {
			case mttest.Retryable:
				return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: http.StatusTooManyRequests, RetryAfter: time.Second}
			case mttest.Quota:
				return &mt.Error{Engine: "fake", Class: mt.ErrQuota, Status: 456}
			case mttest.Auth:
				return &mt.Error{Engine: "fake", Class: mt.ErrAuth, Status: http.StatusForbidden}
			case mttest.Permanent:
				return &mt.Error{Engine: "fake", Class: mt.ErrPermanent, Status: http.StatusBadRequest}
			}
			return nil
		}}
	})
}

// hangEngine never answers before its context ends.
type hangEngine struct{ mttest.Engine }

func (*hangEngine) Translate(ctx context.Context, _ mt.Request) (mt.Result, error) {
	<-ctx.Done()
	return mt.Result{}, ctx.Err()
}
