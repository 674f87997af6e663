package tm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxBatch bounds the keys of one batched read, well under the server's
// limit on responses to one request.
const maxBatch = 256

// GetMany reads many keys with one batched direct-get request per 256
// keys (the server answers with every entry found, then an end-of-batch
// status), instead of one round trip per key. Missing and deleted keys are
// absent from the result.
func (m *KV) GetMany(ctx context.Context, keys []string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), maxBatch)
		if err := m.getBatch(ctx, keys[:n], out); err != nil {
			return out, err
		}
		keys = keys[n:]
	}
	return out, nil
}

func (m *KV) getBatch(ctx context.Context, keys []string, out map[string]string) error {
	prefix := "$KV." + m.bucket + "."
	subjects := make([]string, 0, len(keys))
	for _, k := range keys {
		if !validKey(k) {
			return fmt.Errorf("%w: %q", ErrBadKey, k)
		}
		subjects = append(subjects, prefix+k)
	}
	req, _ := json.Marshal(struct {
		MultiLast []string `json:"multi_last"`
		Batch     int      `json:"batch"`
	}{subjects, len(subjects)})

	nc := m.js.Conn()
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("tm: batch get: %w", err)
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest("$JS.API.DIRECT.GET.KV_"+m.bucket, inbox, req); err != nil {
		return fmt.Errorf("tm: batch get: %w", err)
	}
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			return fmt.Errorf("tm: batch get: %w", err)
		}
		switch status := msg.Header.Get("Status"); status {
		case "":
		case "204": // end of batch
			return nil
		case "404": // none of the keys exist
			return nil
		default:
			return fmt.Errorf("tm: batch get: status %s %s", status, msg.Header.Get("Description"))
		}
		if op := msg.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
			continue
		}
		if key, ok := strings.CutPrefix(msg.Header.Get(jetstream.SubjectHeader), prefix); ok {
			out[key] = string(msg.Data)
		}
	}
}

// PutMany stores many entries, publishing them all before waiting for the
// acknowledgements.
func (m *KV) PutMany(ctx context.Context, entries map[string]string) error {
	futures := make([]jetstream.PubAckFuture, 0, len(entries))
	for k, v := range entries {
		if !validKey(k) {
			return fmt.Errorf("%w: %q", ErrBadKey, k)
		}
		f, err := m.js.PublishMsgAsync(&nats.Msg{Subject: "$KV." + m.bucket + "." + k, Data: []byte(v)})
		if err != nil {
			return fmt.Errorf("tm: put: %w", err)
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("tm: put: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("tm: put: %w", ctx.Err())
		}
	}
	return nil
}
