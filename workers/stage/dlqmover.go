package stage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/bus"
)

// maxDeliveriesAdvisory is the part of the server's advisory we use.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// MoveDeadLetters dead-letters the messages the server stopped delivering to
// the durable consumer because they ran out of deliveries without any
// handler giving up on them (for example a worker that crashed on them every
// time). It reads that consumer's MAX_DELIVERIES advisories kept in the
// advisory stream, copies each message to the DLQ with its reason, then
// deletes it from its work queue (never from a Limits stream such as the
// clean feed, which desks still read). Runs until ctx is cancelled.
func MoveDeadLetters(ctx context.Context, js jetstream.JetStream, durable string, log *zap.Logger, met *Metrics, onDead func(Msg, string)) error {
	if log == nil {
		log = zap.NewNop()
	}
	if met == nil {
		met = NewMetrics(nil)
	}
	name := bus.MoverConsumer(durable)
	log = log.With(zap.String("mover", name))
	return Run(ctx, js, Config{
		Name: name, Stream: bus.StreamAdvisories, Consumer: name,
		Concurrency: 1, Log: log, Metrics: met, Grace: 5 * time.Second,
	}, func(ctx context.Context, m Msg) ([]Out, error) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			return nil, Permanent(fmt.Errorf("advisory: %w", err))
		}
		stream, err := js.Stream(ctx, adv.Stream)
		if err != nil {
			return nil, fmt.Errorf("advisory for stream %s: %w", adv.Stream, err)
		}
		raw, err := stream.GetMsg(ctx, adv.StreamSeq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, nil // acked late or already moved
		}
		if err != nil {
			return nil, fmt.Errorf("get %s#%d: %w", adv.Stream, adv.StreamSeq, err)
		}
		dead := Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header, Deliveries: adv.Deliveries, Stream: adv.Stream, Seq: adv.StreamSeq}
		if dead.Header == nil {
			dead.Header = nats.Header{}
		}
		reason := fmt.Sprintf("ran out of deliveries (%d) without being acknowledged: the worker crashed or timed out on it each time", adv.Deliveries)
		out := DeadLetter(adv.Consumer, dead, reason)
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: out.Subject, Data: out.Data, Header: out.Header}, jetstream.WithMsgID(out.MsgID)); err != nil {
			return nil, fmt.Errorf("dead-letter %s#%d: %w", adv.Stream, adv.StreamSeq, err)
		}
		if stream.CachedInfo().Config.Retention == jetstream.WorkQueuePolicy {
			if err := stream.DeleteMsg(ctx, adv.StreamSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return nil, fmt.Errorf("delete %s#%d after dead-lettering: %w", adv.Stream, adv.StreamSeq, err)
			}
		}
		met.Messages.WithLabelValues(adv.Consumer, OutcomeDLQ).Inc()
		log.Error("dead-lettered after max deliveries", zap.String("stream", adv.Stream), zap.Uint64("seq", adv.StreamSeq),
			zap.String("id", dead.Header.Get(bus.HeaderID)), zap.String("reason", reason))
		if onDead != nil {
			onDead(dead, reason)
		}
		return nil, nil
	})
}
