package translate_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/translate"
)

func TestEngineErrorsMapOntoStageBehaviour(t *testing.T) {
	engineErr := func(class error) error {
		return fmt.Errorf("translate x@1: %w", &mt.Error{Engine: "deepl", Class: class, Status: 456, Message: "m"})
	}
	for _, tc := range []struct {
		name      string
		err       error
		pause     bool
		permanent bool
	}{
		{"an exhausted quota pauses the stage", engineErr(mt.ErrQuota), true, false},
		{"rejected credentials pause the stage", engineErr(mt.ErrAuth), true, false},
		{"a permanent engine error dead-letters at once", engineErr(mt.ErrPermanent), false, true},
		{"a retryable engine error is retried with backoff", engineErr(mt.ErrRetryable), false, false},
		{"an unclassified error is retried with backoff", errors.New("connection reset"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := translate.Classify(tc.err, time.Second)
			var pe *stage.PauseError
			if errors.As(got, &pe) != tc.pause {
				t.Errorf("pause = %v, want %v", !tc.pause, tc.pause)
			}
			if errors.Is(got, stage.ErrPermanent) != tc.permanent {
				t.Errorf("permanent = %v, want %v", !tc.permanent, tc.permanent)
			}
			if !errors.Is(got, tc.err) && got != tc.err {
				t.Errorf("the cause is lost: %v", got)
			}
		})
	}
	if translate.Classify(nil, time.Second) != nil {
		t.Fatal("success became an error")
	}
}
