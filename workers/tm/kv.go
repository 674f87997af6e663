package tm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrBadKey is returned for keys that are not lowercase hex digits
// (mt.MemoryKey's form), which could otherwise clash with KV key syntax.
var ErrBadKey = errors.New("tm: memory key must be hex digits")

// ErrTimeout is returned when the server did not answer a read or write
// within the KV's timeout (for example while the bucket's leader moves); it
// is worth retrying.
var ErrTimeout = errors.New("tm: no answer from the server in time")

// DefaultTimeout bounds each call's wait on the server unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

// Option configures a KV.
type Option func(*KV)

// WithTimeout bounds each Get, Put, GetMany and PutMany call's wait on the
// server (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(m *KV) {
		if d > 0 {
			m.timeout = d
		}
	}
}

// KV is a translation memory on a JetStream key-value bucket.
type KV struct {
	kv      jetstream.KeyValue
	js      jetstream.JetStream // async publishes, with a PubAck timeout
	bucket  string
	timeout time.Duration

	muxOnce sync.Once
	mux     *replyMux
	muxErr  error
}

// NewKV binds the bucket, creating it (file storage, one revision per key)
// only when it does not exist, so a worker whose credentials may not manage
// streams can still use a bucket `dewire setup` made.
func NewKV(ctx context.Context, js jetstream.JetStream, bucket string, opts ...Option) (*KV, error) {
	m := &KV{bucket: bucket, timeout: DefaultTimeout}
	for _, o := range opts {
		o(m)
	}
	// Writes are published asynchronously; their acknowledgements must time
	// out, or a write the server never answers stays pending for ever.
	pub, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncTimeout(m.timeout), jetstream.WithDefaultTimeout(m.timeout))
	if err != nil {
		return nil, fmt.Errorf("tm: bucket %s: %w", bucket, err)
	}
	m.js = pub
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      bucket,
			Description: "dewire translation memory: memory key -> English sentence",
			History:     1,
			Storage:     jetstream.FileStorage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tm: bucket %s: %w", bucket, timedOut(err))
	}
	m.kv = kv
	return m, nil
}

// timedOut marks a deadline or a missing acknowledgement as ErrTimeout.
func timedOut(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrAsyncPublishTimeout) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// Get implements mt.Memory.
func (m *KV) Get(ctx context.Context, key string) (string, bool, error) {
	if !validKey(key) {
		return "", false, fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	e, err := m.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("tm: get %s: %w", key, timedOut(err))
	}
	return string(e.Value()), true, nil
}

// Put implements mt.Memory.
func (m *KV) Put(ctx context.Context, key, en string) error {
	if !validKey(key) {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	if _, err := m.kv.Put(ctx, key, []byte(en)); err != nil {
		return fmt.Errorf("tm: put %s: %w", key, timedOut(err))
	}
	return nil
}

func validKey(k string) bool {
	if k == "" || len(k) > 128 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
