package stage

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/workers/bus"
)

// ReplayFilter selects dead letters; empty fields match everything.
type ReplayFilter struct {
	Stage string // the stage that gave up, e.g. "translate"
	ID    string // article id
}

// Replayed describes one message sent back.
type Replayed struct {
	Seq     uint64
	ID      string
	Rev     string
	Stage   string
	Subject string
	Reason  string
}

// Replay sends dead letters back to the subject they were taken from, as a
// new delivery (their Nats-Msg-Id gets a replay suffix so the server does not
// drop them as duplicates), then removes them from the DLQ. With dryRun it
// only lists what it would send. It stops at the end of the DLQ as it was
// when Replay started.
func Replay(ctx context.Context, js jetstream.JetStream, f ReplayFilter, dryRun bool) ([]Replayed, error) {
	stream, err := js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	last := info.State.LastSeq
	var out []Replayed
	if info.State.Msgs == 0 {
		return out, nil
	}
	for seq := info.State.FirstSeq; seq <= last; seq++ {
		raw, err := stream.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted (already replayed) or expired
		}
		h := raw.Header
		if h == nil {
			h = nats.Header{}
		}
		r := Replayed{Seq: seq, ID: h.Get(bus.HeaderID), Rev: h.Get(bus.HeaderRev), Stage: h.Get(bus.HeaderStage), Subject: h.Get(bus.HeaderSubject), Reason: h.Get(bus.HeaderReason)}
		if (f.Stage != "" && f.Stage != r.Stage) || (f.ID != "" && f.ID != r.ID) {
			continue
		}
		if r.Subject == "" {
			return out, fmt.Errorf("replay DLQ #%d: no %s header: cannot tell where it came from", seq, bus.HeaderSubject)
		}
		out = append(out, r)
		if dryRun {
			continue
		}
		replays, _ := strconv.Atoi(h.Get(bus.HeaderReplays))
		replays++
		back := nats.Header{}
		for k, v := range h {
			switch k {
			case bus.HeaderStage, bus.HeaderReason, bus.HeaderSubject, bus.HeaderDeliveries, jetstream.MsgIDHeader:
				continue
			}
			back[k] = v
		}
		back.Set(bus.HeaderReplays, strconv.Itoa(replays))
		msgID := fmt.Sprintf("%s@%s:%s:replay%d", r.ID, h.Get(bus.HeaderRev), r.Stage, replays)
		if r.ID == "" {
			msgID = fmt.Sprintf("dlq#%d:replay%d", seq, replays)
		}
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: r.Subject, Data: raw.Data, Header: back}, jetstream.WithMsgID(msgID)); err != nil {
			return out, fmt.Errorf("replay DLQ #%d to %s: %w", seq, r.Subject, err)
		}
		if err := stream.DeleteMsg(ctx, seq); err != nil {
			return out, fmt.Errorf("replay DLQ #%d: sent, but could not remove it from the DLQ: %w", seq, err)
		}
	}
	return out, nil
}
