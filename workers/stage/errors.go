package stage

import (
	"errors"
	"time"
)

// ErrPermanent marks input that can never succeed (bad schema, invalid
// record): the message goes to the DLQ at once instead of being retried.
var ErrPermanent = errors.New("permanent failure")

// ErrHandlerPanic is the cause of a message whose handler panicked; the
// message is dead-lettered with a reason starting "handler.panic".
var ErrHandlerPanic = errors.New("handler.panic")

// ErrHandlerTimeout is the cause of a handler call that ran past
// Config.HandlerTimeout; the message is retried.
var ErrHandlerTimeout = errors.New("handler.timeout")

// ErrTooLarge is the cause of an output bigger than the server's
// max_payload, which can never be published: its input is dead-lettered.
var ErrTooLarge = errors.New("record.too_large")

// Permanent wraps err so the stage dead-letters the message at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() []error      { return []error{e.err, ErrPermanent} }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

// PauseError asks the stage to stop pulling new messages and hold this one
// (with InProgress heartbeats, so its delivery count does not grow) until a
// retry succeeds: used when a translation quota is exhausted.
type PauseError struct {
	Err   error
	Probe time.Duration // first wait before retrying; doubles up to MaxPauseProbe
}

func (e *PauseError) Error() string { return "paused: " + e.Err.Error() }
func (e *PauseError) Unwrap() error { return e.Err }

// Pause wraps err in a PauseError.
func Pause(err error, probe time.Duration) error {
	return &PauseError{Err: err, Probe: probe}
}
