package tm

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

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
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
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

	mux, err := m.replies()
	if err != nil {
		return fmt.Errorf("tm: batch get: %w", err)
	}
	subject, replies, done := mux.open(len(keys) + 1)
	defer done()
	if err := m.js.Conn().PublishRequest("$JS.API.DIRECT.GET.KV_"+m.bucket, subject, req); err != nil {
		return fmt.Errorf("tm: batch get: %w", err)
	}
	for {
		var msg *nats.Msg
		select {
		case msg = <-replies:
		case <-ctx.Done():
			return fmt.Errorf("tm: batch get of %d keys: %w", len(keys), timedOut(ctx.Err()))
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

func (m *KV) replies() (*replyMux, error) {
	m.muxOnce.Do(func() { m.mux, m.muxErr = newReplyMux(m.js.Conn()) })
	return m.mux, m.muxErr
}

// replyMux routes the replies to many batched reads through one wildcard
// inbox subscription, instead of a subscription (and its buffer) per read.
type replyMux struct {
	prefix  string
	mu      sync.Mutex
	next    uint64
	waiting map[string]chan *nats.Msg
}

func newReplyMux(nc *nats.Conn) (*replyMux, error) {
	r := &replyMux{prefix: nc.NewInbox() + ".", waiting: map[string]chan *nats.Msg{}}
	if _, err := nc.Subscribe(r.prefix+"*", r.deliver); err != nil {
		return nil, fmt.Errorf("reply subscription: %w", err)
	}
	return r, nil
}

// open returns a reply subject and the channel its replies arrive on;
// room is how many replies the read can get. done forgets the subject.
func (r *replyMux) open(room int) (string, <-chan *nats.Msg, func()) {
	ch := make(chan *nats.Msg, room)
	r.mu.Lock()
	r.next++
	token := strconv.FormatUint(r.next, 36)
	r.waiting[token] = ch
	r.mu.Unlock()
	return r.prefix + token, ch, func() {
		r.mu.Lock()
		delete(r.waiting, token)
		r.mu.Unlock()
	}
}

func (r *replyMux) deliver(msg *nats.Msg) {
	token := strings.TrimPrefix(msg.Subject, r.prefix)
	r.mu.Lock()
	ch := r.waiting[token]
	r.mu.Unlock()
	if ch == nil {
		return // a read that gave up
	}
	select {
	case ch <- msg:
	default: // more replies than keys asked for: the read ends with what it has
	}
}

// PutMany stores many entries, publishing them all before waiting for the
// acknowledgements.
func (m *KV) PutMany(ctx context.Context, entries map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
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
			return fmt.Errorf("tm: put of %d entries: %w", len(entries), timedOut(err))
		case <-ctx.Done():
			return fmt.Errorf("tm: put of %d entries: %w", len(entries), timedOut(ctx.Err()))
		}
	}
	return nil
}
