package stage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/bus"
)

// Msg is the input a Handler sees.
type Msg struct {
	Subject    string
	Data       []byte
	Header     nats.Header
	Deliveries uint64 // 1 on first delivery
	Stream     string
	Seq        uint64 // stream sequence
}

// Out is one message a Handler wants published downstream. MsgID must be
// deterministic for the input so a re-publish after a crash is a duplicate.
type Out struct {
	Subject string
	MsgID   string
	Data    []byte
	Header  nats.Header
}

// Handler processes one message. Returning an error retries it with backoff;
// Permanent(err) dead-letters it at once; a *PauseError holds it and stops
// the stage pulling until a retry succeeds.
type Handler func(ctx context.Context, m Msg) ([]Out, error)

// Config configures one stage.
type Config struct {
	Name     string // stage name in logs, metrics and dead letters, e.g. "normalize-de"
	Stream   string
	Consumer string
	// Concurrency is how many messages one replica handles at once; it is
	// also how many it pulls, so nothing waits in a client buffer.
	Concurrency int
	// Heartbeat is the InProgress interval while a handler runs; default AckWait/3.
	Heartbeat time.Duration
	// Grace bounds how long in-flight work may continue after the context
	// is cancelled; work still running then is abandoned unacked and the
	// server redelivers it. Default 25s.
	Grace time.Duration
	// Backoff gives the NakWithDelay delay for the n-th failed delivery.
	// Default: 1s·2^(n-1), capped at 5 minutes, with ±20% jitter.
	Backoff func(n uint64) time.Duration
	// PollWait is how long one pull waits for messages. Default 1s.
	PollWait time.Duration
	// MaxPauseProbe caps the wait between retries while paused. Default 5m.
	MaxPauseProbe time.Duration
	// HandlerTimeout is the deadline of one handler call, passed in its
	// context. A handler still running then loses the message: heartbeats
	// stop, the message is retried with backoff and its slot freed.
	// Default 4×AckWait; never less than AckWait.
	HandlerTimeout time.Duration
	// RequestTimeout bounds every wait on the server: publishes, acks and
	// dead-letter publishes. Default 10s.
	RequestTimeout time.Duration
	Log            *zap.Logger
	Metrics        *Metrics
	// OnDeadLetter, when set, is told about every message this stage dead-letters.
	OnDeadLetter func(m Msg, reason string)

	afterPublish func(Msg) // tests: runs between publish and ack
}

func (c *Config) defaults(ackWait time.Duration) {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = ackWait / 3
		if c.Heartbeat <= 0 {
			c.Heartbeat = 10 * time.Second
		}
	}
	if c.Grace < 0 {
		c.Grace = 0
	} else if c.Grace == 0 {
		c.Grace = 25 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.PollWait <= 0 {
		c.PollWait = time.Second
	}
	if c.MaxPauseProbe <= 0 {
		c.MaxPauseProbe = 5 * time.Minute
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 4 * ackWait
	}
	c.HandlerTimeout = max(c.HandlerTimeout, ackWait)
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
}

const defaultRequestTimeout = 10 * time.Second

// NoGrace, as Config.Grace, abandons in-flight work the moment the context is cancelled.
const NoGrace = -1

// DefaultBackoff is 1s·2^(n-1) capped at 5 minutes, with ±20% jitter.
func DefaultBackoff(n uint64) time.Duration {
	if n < 1 {
		n = 1
	}
	d := time.Second << min(n-1, 9)
	d = min(d, 5*time.Minute)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// Stage runs a Handler against a durable consumer.
type Stage struct {
	js      jetstream.JetStream
	cons    jetstream.Consumer
	cfg     Config
	h       Handler
	maxDel  int
	workCtx context.Context

	pauseMu sync.Mutex
	paused  int // handlers currently holding a message in pause
	resume  chan struct{}

	// calls hands a handler call to an idle handler goroutine; a goroutine
	// is started when none is idle. Kept goroutines keep the stacks the
	// handlers grew, which new ones would grow again by copying.
	calls chan handlerCall
}

// handlerCall is one call of the handler, run on a handler goroutine.
type handlerCall struct {
	ctx  context.Context
	m    Msg
	log  *zap.Logger
	done chan<- callResult
}

type callResult struct {
	outs []Out
	err  error
}

// handlerIdle is how long a handler goroutine waits for another call before
// it ends.
const handlerIdle = 30 * time.Second

// handlers runs c, then the calls handed to it, until none comes for
// handlerIdle or the stage's work ends.
func (s *Stage) handlers(c handlerCall) {
	idle := time.NewTimer(handlerIdle)
	defer idle.Stop()
	for {
		s.runCall(c)
		idle.Reset(handlerIdle)
		select {
		case c = <-s.calls:
		case <-idle.C:
			return
		case <-s.workCtx.Done():
			return
		}
	}
}

// runCall runs the handler once; a panic fails the call permanently (the
// stack goes to the log).
func (s *Stage) runCall(c handlerCall) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("handler panicked; dead-lettering the message", zap.Any("panic", r), zap.Stack("stack"))
			c.done <- callResult{err: Permanent(fmt.Errorf("%w: %v", ErrHandlerPanic, r))}
		}
	}()
	outs, err := s.h(c.ctx, c.m)
	c.done <- callResult{outs, err}
}

// Run pulls and handles messages until ctx is cancelled, then stops pulling,
// lets in-flight work finish within Config.Grace and returns nil.
func Run(ctx context.Context, js jetstream.JetStream, cfg Config, h Handler) error {
	bctx, cancel := context.WithTimeout(ctx, max(cfg.RequestTimeout, defaultRequestTimeout))
	defer cancel()
	cons, err := bus.Consumer(bctx, js, cfg.Stream, cfg.Consumer)
	if err != nil {
		return err
	}
	info, err := cons.Info(bctx)
	if err != nil {
		return fmt.Errorf("stage %s: consumer info: %w", cfg.Name, err)
	}
	cfg.defaults(info.Config.AckWait)
	s := &Stage{js: js, cons: cons, cfg: cfg, h: h, maxDel: info.Config.MaxDeliver, resume: make(chan struct{}), calls: make(chan handlerCall)}
	return s.run(ctx)
}

func (s *Stage) run(ctx context.Context) error {
	// Work outlives ctx by the grace period so a SIGTERM finishes in-flight messages.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	s.workCtx = work
	stopGrace := context.AfterFunc(ctx, func() {
		if s.cfg.Grace == 0 {
			cancelWork()
			return
		}
		time.AfterFunc(s.cfg.Grace, cancelWork)
	})
	defer stopGrace()

	slots := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	log := s.cfg.Log.With(zap.String("stage", s.cfg.Name))
	log.Info("stage started", zap.String("stream", s.cfg.Stream), zap.String("consumer", s.cfg.Consumer),
		zap.Int("concurrency", s.cfg.Concurrency), zap.Int("max_deliver", s.maxDel))

	var gone error     // the consumer is no more: the stage ends so it is bound again
	var unanswered int // pulls in a row that no server answered
	for ctx.Err() == nil {
		if !s.waitUnpaused(ctx) {
			break
		}
		// Wait for a free slot, then take every other free one and pull as
		// many messages as there are slots: each message fetched starts at
		// once, none waits in our hands while its ack deadline runs.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		free := 1
	take:
		for free < s.cfg.Concurrency {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break take
			}
		}
		batch, err := s.cons.Fetch(free, jetstream.FetchMaxWait(s.cfg.PollWait))
		if err != nil {
			release(slots, free)
			if ctx.Err() != nil {
				break
			}
			if consumerGone(err, &unanswered) {
				gone = err
				break
			}
			log.Warn("pull failed", zap.Error(err))
			sleep(ctx, s.cfg.PollWait)
			continue
		}
		for m := range batch.Messages() {
			if free == 0 {
				// The server never sends more than asked; should it, wait
				// for a slot rather than hand the message back.
				slots <- struct{}{}
				free++
			}
			free--
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				s.handle(m, log)
			}()
		}
		release(slots, free)
		err = batch.Error()
		if ctx.Err() == nil && consumerGone(err, &unanswered) {
			gone = err
			break
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			log.Warn("pull ended with error", zap.Error(err))
			sleep(ctx, s.cfg.PollWait)
		}
	}
	log.Info("stage draining")
	wg.Wait()
	if gone != nil {
		log.Warn("the consumer is gone; binding it again", zap.Error(gone))
		return fmt.Errorf("stage %s: %w: %w", s.cfg.Name, ErrConsumerGone, gone)
	}
	log.Info("stage stopped")
	return nil
}

// ErrConsumerGone is returned (wrapped) by Run when the stage's consumer
// was deleted under it (its stream removed, say): Env.RunStage binds it
// again, reporting on /readyz until `dewire setup` has recreated it.
var ErrConsumerGone = errors.New("the consumer no longer exists")

// goneAfter is how many pulls in a row may go unanswered (no server
// serves the consumer) before the stage takes its consumer for gone; a
// server restarting answers again well within them.
const goneAfter = 5

// consumerGone reports whether err, a pull's outcome, shows the consumer
// gone: deleted, not found, or unanswered goneAfter times in a row
// (counted in *unanswered).
func consumerGone(err error, unanswered *int) bool {
	switch {
	case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound):
		return true
	case errors.Is(err, nats.ErrNoResponders):
		*unanswered++
		return *unanswered >= goneAfter
	}
	*unanswered = 0
	return false
}

func (s *Stage) handle(jm jetstream.Msg, log *zap.Logger) {
	start := time.Now()
	name := s.cfg.Name
	met := s.cfg.Metrics
	met.InFlight.WithLabelValues(name).Inc()
	defer met.InFlight.WithLabelValues(name).Dec()

	meta, err := jm.Metadata()
	if err != nil {
		log.Error("message without JetStream metadata; terminating", zap.Error(err))
		_ = jm.Term()
		return
	}
	m := Msg{Subject: jm.Subject(), Data: jm.Data(), Header: jm.Headers(), Deliveries: meta.NumDelivered,
		Stream: meta.Stream, Seq: meta.Sequence.Stream}
	log = log.With(zap.String("id", m.Header.Get(bus.HeaderID)), zap.String("rev", m.Header.Get(bus.HeaderRev)),
		zap.Uint64("delivery", meta.NumDelivered), zap.Uint64("stream_seq", meta.Sequence.Stream))

	// Heartbeats keep the message ours while the handler or a pause runs,
	// and while its output or dead letter is published; they stop just
	// before it is settled, so none follows its ack, nak or term.
	hbCtx, cancelHB := context.WithCancel(s.workCtx)
	hbDone := make(chan struct{})
	stopHB := func() {
		cancelHB()
		<-hbDone
	}
	defer stopHB()
	go func() {
		defer close(hbDone)
		t := time.NewTicker(s.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				if err := jm.InProgress(); err != nil {
					log.Warn("heartbeat failed", zap.Error(err))
				}
			}
		}
	}()

	outs, err := s.call(m, log)
	var pe *PauseError
	if errors.As(err, &pe) {
		outs, err = s.holdPaused(m, pe, log)
	}
	if err == nil {
		err = s.publish(outs)
		if err == nil && s.cfg.afterPublish != nil {
			s.cfg.afterPublish(m)
		}
	}
	if s.workCtx.Err() != nil {
		// Shut down mid-message. Its outputs, if published, are stored:
		// ack it; else hand it back at once so another replica need not
		// wait out the ack deadline. If either fails it stays unacked, like
		// a crash, and the server redelivers it.
		met.Messages.WithLabelValues(name, OutcomeAbandoned).Inc()
		actx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err == nil {
			_ = jm.DoubleAck(actx)
		} else {
			_ = jm.Nak()
		}
		log.Warn("abandoned at shutdown; handed back for redelivery", zap.Error(err))
		return
	}
	if err == nil {
		stopHB()
		actx, cancel := context.WithTimeout(s.workCtx, s.cfg.RequestTimeout)
		defer cancel()
		if err := jm.DoubleAck(actx); err != nil {
			// The output is already stored; a redelivery re-publishes it as a duplicate.
			log.Warn("ack failed; the message will be redelivered and its output deduplicated", zap.Error(err))
		}
		met.Messages.WithLabelValues(name, OutcomeOK).Inc()
		met.Duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
		log.Debug("handled", zap.Duration("took", time.Since(start)), zap.Int("outputs", len(outs)))
		return
	}
	last := s.maxDel > 0 && int(meta.NumDelivered) >= s.maxDel
	if errors.Is(err, ErrPermanent) || last {
		reason := err.Error()
		if last && !errors.Is(err, ErrPermanent) {
			reason = fmt.Sprintf("gave up after %d deliveries: %s", meta.NumDelivered, reason)
		}
		derr := s.deadLetter(m, reason)
		stopHB()
		if derr != nil {
			log.Error("dead-letter publish failed; retrying later", zap.Error(derr))
			_ = jm.NakWithDelay(s.cfg.Backoff(meta.NumDelivered))
			met.Messages.WithLabelValues(name, OutcomeRetry).Inc()
			return
		}
		if terr := jm.TermWithReason(truncate(reason, 200)); terr != nil {
			log.Warn("term failed after dead-lettering", zap.Error(terr))
		}
		met.Messages.WithLabelValues(name, OutcomeDLQ).Inc()
		log.Error("dead-lettered", zap.String("reason", reason))
		return
	}
	stopHB()
	delay := s.cfg.Backoff(meta.NumDelivered)
	if nerr := jm.NakWithDelay(delay); nerr != nil {
		log.Warn("nak failed; the message comes back after its ack wait", zap.Error(nerr))
	}
	if errors.Is(err, ErrHandlerTimeout) {
		met.Messages.WithLabelValues(name, OutcomeTimedOut).Inc()
		log.Error("handler ran past its deadline; retrying", zap.Error(err), zap.Duration("delay", delay))
		return
	}
	met.Messages.WithLabelValues(name, OutcomeRetry).Inc()
	log.Warn("handler failed; retrying", zap.Error(err), zap.Duration("delay", delay))
}

// call runs the handler once with a deadline of Config.HandlerTimeout. A
// handler that panics fails permanently (the stack goes to the log); one
// still running at its deadline is left behind and the call fails with
// ErrHandlerTimeout, so its message is retried and its slot freed.
func (s *Stage) call(m Msg, log *zap.Logger) ([]Out, error) {
	ctx, cancel := context.WithTimeout(s.workCtx, s.cfg.HandlerTimeout)
	defer cancel()
	done := make(chan callResult, 1)
	c := handlerCall{ctx: ctx, m: m, log: log, done: done}
	select {
	case s.calls <- c:
	default:
		go s.handlers(c)
	}
	var r callResult
	select {
	case r = <-done:
	case <-ctx.Done():
		select {
		case r = <-done: // it returned just then
		default:
			if s.workCtx.Err() != nil {
				return nil, s.workCtx.Err()
			}
			return nil, fmt.Errorf("%w after %s; still running", ErrHandlerTimeout, s.cfg.HandlerTimeout)
		}
	}
	if r.err != nil && s.workCtx.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(r.err, ErrPermanent) {
		return nil, fmt.Errorf("%w after %s: %w", ErrHandlerTimeout, s.cfg.HandlerTimeout, r.err)
	}
	return r.outs, r.err
}

func release(slots chan struct{}, n int) {
	for range n {
		<-slots
	}
}

// holdPaused keeps the message (heartbeats continue), stops the stage
// pulling, and retries the handler with growing waits until it stops asking
// for a pause or the stage shuts down.
func (s *Stage) holdPaused(m Msg, pe *PauseError, log *zap.Logger) ([]Out, error) {
	s.setPaused(+1)
	defer s.setPaused(-1)
	wait := pe.Probe
	if wait <= 0 {
		wait = 5 * time.Second
	}
	log.Error("stage paused: backend asked to stop", zap.Error(pe.Err), zap.Duration("probe", wait))
	for {
		if !sleep(s.workCtx, wait) {
			return nil, s.workCtx.Err()
		}
		outs, err := s.call(m, log)
		var again *PauseError
		if !errors.As(err, &again) {
			log.Info("stage resumed")
			return outs, err
		}
		wait = min(2*wait, s.cfg.MaxPauseProbe)
	}
}

func (s *Stage) setPaused(delta int) {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	s.paused += delta
	if s.paused == 0 {
		close(s.resume)
		s.resume = make(chan struct{})
		s.cfg.Metrics.Paused.WithLabelValues(s.cfg.Name).Set(0)
	} else {
		s.cfg.Metrics.Paused.WithLabelValues(s.cfg.Name).Set(1)
	}
}

// waitUnpaused blocks while any handler holds a paused message.
func (s *Stage) waitUnpaused(ctx context.Context) bool {
	for {
		s.pauseMu.Lock()
		p, ch := s.paused, s.resume
		s.pauseMu.Unlock()
		if p == 0 {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Paused reports whether the stage has stopped pulling.
func (s *Stage) Paused() bool {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	return s.paused > 0
}

func (s *Stage) publish(outs []Out) error {
	msgs := make([]*nats.Msg, 0, len(outs))
	maxPayload := s.js.Conn().MaxPayload()
	for _, o := range outs {
		msg := &nats.Msg{Subject: o.Subject, Data: o.Data, Header: nats.Header{}}
		for k, v := range o.Header {
			msg.Header[k] = append([]string(nil), v...)
		}
		msg.Header.Set(jetstream.MsgIDHeader, o.MsgID)
		if size := int64(len(msg.Data) + headerSize(msg.Header)); maxPayload > 0 && size > maxPayload {
			// The server refuses it on every try: fail the input now.
			return Permanent(fmt.Errorf("%w: %d bytes, server max_payload %d (%s %s)", ErrTooLarge, size, maxPayload, o.Subject, o.MsgID))
		}
		msgs = append(msgs, msg)
	}
	for i, msg := range msgs {
		ctx, cancel := context.WithTimeout(s.workCtx, s.cfg.RequestTimeout)
		ack, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(outs[i].MsgID))
		cancel()
		if errors.Is(err, nats.ErrMaxPayload) {
			return Permanent(fmt.Errorf("%w: %d bytes, server max_payload %d (%s %s): %w",
				ErrTooLarge, len(msg.Data)+headerSize(msg.Header), s.js.Conn().MaxPayload(), msg.Subject, outs[i].MsgID, err))
		}
		if err != nil {
			return fmt.Errorf("publish %s (%s): %w", msg.Subject, outs[i].MsgID, err)
		}
		s.cfg.Metrics.Published.WithLabelValues(s.cfg.Name, strconv.FormatBool(ack.Duplicate)).Inc()
	}
	return nil
}

// headerSize is the size of h on the wire (the NATS/1.0 header block).
func headerSize(h nats.Header) int {
	if len(h) == 0 {
		return 0
	}
	n := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	return n
}

func (s *Stage) deadLetter(m Msg, reason string) error {
	out := DeadLetter(s.cfg.Name, m, reason)
	ctx, cancel := context.WithTimeout(s.workCtx, s.cfg.RequestTimeout)
	defer cancel()
	if _, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: out.Subject, Data: out.Data, Header: out.Header}, jetstream.WithMsgID(out.MsgID)); err != nil {
		return err
	}
	if s.cfg.OnDeadLetter != nil {
		s.cfg.OnDeadLetter(m, reason)
	}
	return nil
}

// DeadLetter builds the DLQ message for m: the original payload with its
// headers, plus the stage, reason, original subject and delivery count.
func DeadLetter(stageName string, m Msg, reason string) Out {
	h := nats.Header{}
	for k, v := range m.Header {
		if k == jetstream.MsgIDHeader {
			continue
		}
		h[k] = append([]string(nil), v...)
	}
	h.Set(bus.HeaderStage, stageName)
	h.Set(bus.HeaderReason, truncate(reason, 2000))
	h.Set(bus.HeaderSubject, m.Subject)
	h.Set(bus.HeaderDeliveries, strconv.FormatUint(m.Deliveries, 10))
	// One id per (message, stage, replay round): the handler path and the
	// MAX_DELIVERIES path dedupe against each other, a replayed message that
	// fails again is a new dead letter.
	var key string
	switch id, rev := m.Header.Get(bus.HeaderID), m.Header.Get(bus.HeaderRev); {
	case id != "":
		key = id + "@" + rev
	case m.Header.Get(jetstream.MsgIDHeader) != "":
		key = m.Header.Get(jetstream.MsgIDHeader)
	default:
		key = fmt.Sprintf("%s#%d", m.Stream, m.Seq)
	}
	replays := m.Header.Get(bus.HeaderReplays)
	if replays == "" {
		replays = "0"
	}
	return Out{
		Subject: bus.DLQSubject(stageName, bus.SourceFromSubject(m.Subject)),
		MsgID:   key + ":dlq:" + stageName + ":r" + replays,
		Data:    m.Data,
		Header:  h,
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// sleep waits d or until ctx ends; it reports whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
