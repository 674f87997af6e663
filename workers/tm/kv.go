package tm

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrBadKey is returned for keys that are not lowercase hex digits
// (mt.MemoryKey's form), which could otherwise clash with KV key syntax.
var ErrBadKey = errors.New("tm: memory key must be hex digits")

// KV is a translation memory on a JetStream key-value bucket.
type KV struct {
	kv     jetstream.KeyValue
	js     jetstream.JetStream
	bucket string
}

// NewKV binds the bucket, creating it (file storage, one revision per key)
// only when it does not exist, so a worker whose credentials may not manage
// streams can still use a bucket `dewire setup` made.
func NewKV(ctx context.Context, js jetstream.JetStream, bucket string) (*KV, error) {
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
		return nil, fmt.Errorf("tm: bucket %s: %w", bucket, err)
	}
	return &KV{kv: kv, js: js, bucket: bucket}, nil
}

// Get implements mt.Memory.
func (m *KV) Get(ctx context.Context, key string) (string, bool, error) {
	if !validKey(key) {
		return "", false, fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	e, err := m.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("tm: get %s: %w", key, err)
	}
	return string(e.Value()), true, nil
}

// Put implements mt.Memory.
func (m *KV) Put(ctx context.Context, key, en string) error {
	if !validKey(key) {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	if _, err := m.kv.Put(ctx, key, []byte(en)); err != nil {
		return fmt.Errorf("tm: put %s: %w", key, err)
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
