package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
)

// ceilingMsgSize is about what a clean record of the benchmark's articles
// weighs on the wire.
const ceilingMsgSize = 3 << 10

// ceilingInFlight is the per-stage concurrency BenchmarkPipeline gives
// every worker.
const ceilingInFlight = 32

// BenchmarkBrokerCeiling is what the pipeline's JetStream topology carries
// with no work at all: b.N 3 KB messages published into ARTICLES_RAW and
// moved by the pipeline's four durable consumers (normalize-de, translate,
// normalize-en, sink) through the next streams, each hop on its own TCP
// connection, fetching only for free slots, publishing with a PubAck wait
// and then double-acking, 32 in flight per hop, as workers/stage does.
// BenchmarkPipeline runs it on its own server before each case and reports
// the ratio.
//
//	go test -run '^$' -bench BrokerCeiling -benchtime 3000x ./workers/worker/
func BenchmarkBrokerCeiling(b *testing.B) {
	for _, tc := range pipelineCases {
		b.Run(tc.name, func(b *testing.B) {
			urls := pipelineServer(b, tc.durable, tc.replicas)
			topo := bus.DefaultTopology()
			topo.Replicas = tc.replicas
			nc := natstest.Connect(b, urls)
			if err := topo.Ensure(context.Background(), natstest.NewJetStream(b, nc)); err != nil {
				b.Fatal(err)
			}
			nc.Close()
			b.ResetTimer()
			rate := brokerCeiling(b, urls, b.N)
			b.StopTimer()
			b.ReportMetric(rate, "msgs/s")
		})
	}
}

// brokerCeiling moves n messages through the topology's four consumers
// and returns messages/s from the first publish to the last ack. Every
// consumer is idle again when it returns (its last pull has expired), so
// the pipeline's workers can bind them next.
func brokerCeiling(b *testing.B, urls string, n int) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	hops := []struct{ stream, durable, next string }{
		{bus.StreamRaw, bus.ConsumerNormalizeDE, bus.Subject(bus.Normalized, "ceiling")},
		{bus.StreamNormalized, bus.ConsumerTranslate, bus.Subject(bus.Translated, "ceiling")},
		{bus.StreamTranslated, bus.ConsumerNormalizeEN, bus.Subject(bus.Clean, "ceiling")},
		{bus.StreamClean, bus.ConsumerSink, ""},
	}
	run := fmt.Sprintf("ceiling-%d", time.Now().UnixNano()) // message ids unique to this run
	var acked atomic.Int64
	allAcked := make(chan struct{})
	stop, stopHops := context.WithCancel(ctx)
	defer stopHops()
	var hopsDone sync.WaitGroup
	for _, h := range hops {
		nc := natstest.Connect(b, urls)
		js := natstest.NewJetStream(b, nc)
		cons, err := js.Consumer(ctx, h.stream, h.durable)
		if err != nil {
			b.Fatal(err)
		}
		hopsDone.Add(1)
		go func() {
			defer hopsDone.Done()
			relay(stop, js, cons, h.next, func() {
				if acked.Add(1) == int64(n) {
					close(allAcked)
				}
			})
		}()
	}

	nc := natstest.Connect(b, urls)
	js := natstest.NewJetStream(b, nc)
	data := []byte(strings.Repeat("x", ceilingMsgSize))
	subject := bus.Subject(bus.Raw, "ceiling")
	slots := make(chan struct{}, ceilingInFlight)
	var published sync.WaitGroup
	start := time.Now()
	for i := range n {
		slots <- struct{}{}
		published.Add(1)
		go func() {
			defer published.Done()
			defer func() { <-slots }()
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if _, err := js.PublishMsg(pctx, &nats.Msg{Subject: subject, Data: data}, jetstream.WithMsgID(fmt.Sprintf("%s-%d", run, i))); err != nil {
				b.Error(err)
			}
		}()
	}
	published.Wait()
	select {
	case <-allAcked:
	case <-ctx.Done():
		b.Fatalf("%d of %d messages through all hops", acked.Load(), n)
	}
	elapsed := time.Since(start)
	stopHops()
	hopsDone.Wait()
	return float64(n) / elapsed.Seconds()
}

// relay is one hop: the pull loop of workers/stage with no handler.
// Messages are published to next (none for the last hop) and then
// double-acked; last is called for each message the final hop acks.
func relay(ctx context.Context, js jetstream.JetStream, cons jetstream.Consumer, next string, last func()) {
	slots := make(chan struct{}, ceilingInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		free := 1
	take:
		for free < ceilingInFlight {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break take
			}
		}
		batch, err := cons.Fetch(free, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			for range free {
				<-slots
			}
			continue
		}
		for m := range batch.Messages() {
			if free == 0 {
				slots <- struct{}{}
				free++
			}
			free--
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if next != "" {
					meta, err := m.Metadata()
					if err != nil {
						return
					}
					id := fmt.Sprintf("%s-%d", m.Subject(), meta.Sequence.Stream)
					if _, err := js.PublishMsg(actx, &nats.Msg{Subject: next, Data: m.Data()}, jetstream.WithMsgID(id)); err != nil {
						return // redelivered after the ack wait
					}
				}
				if err := m.DoubleAck(actx); err == nil && next == "" {
					last()
				}
			}()
		}
		for range free {
			<-slots
		}
	}
}
