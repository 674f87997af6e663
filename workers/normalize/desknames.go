package normalize

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	pnames "github.com/dewire/dewire/pipeline/names"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// DeskNamePrefix starts every key of bus.BucketDeskNames; the value is one
// names.Entity as JSON (de, en, kind, aliases).
const DeskNamePrefix = "name."

// WatchDeskNames keeps desk up to date with bus.BucketDeskNames until ctx
// ends: every change to the bucket rebuilds the desk's names, so the next
// article a normalize worker handles uses them. Binding the bucket is
// retried like a consumer, but without touching /readyz: a worker whose
// credentials do not reach the bucket still normalizes, with the gazetteer.
func WatchDeskNames(ctx context.Context, env stage.Env, desk *pnorm.DeskNames) error {
	quiet := env
	quiet.Health = nil
	return quiet.Retry(ctx, "desk names", func(ctx context.Context) error {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		kv, err := env.JS.KeyValue(bctx, bus.BucketDeskNames)
		cancel()
		if err != nil {
			return fmt.Errorf("desk names bucket: %w", err)
		}
		w, err := kv.WatchAll(ctx)
		if err != nil {
			return fmt.Errorf("desk names watch: %w", err)
		}
		defer w.Stop()
		entities := map[string]pnames.Entity{}
		live := false // the initial values have all arrived
		for {
			select {
			case <-ctx.Done():
				return nil
			case e, ok := <-w.Updates():
				if !ok {
					return errors.New("desk names watch ended")
				}
				if e == nil {
					live = true
				} else {
					applyEntry(entities, e, env.Log)
					if !live {
						continue
					}
				}
				if err := desk.Set(deskFile(entities)); err != nil && env.Log != nil {
					env.Log.Warn("desk names not applied", zap.Error(err))
				}
			}
		}
	})
}

func applyEntry(entities map[string]pnames.Entity, e jetstream.KeyValueEntry, log *zap.Logger) {
	if e.Operation() != jetstream.KeyValuePut {
		delete(entities, e.Key())
		return
	}
	var ent pnames.Entity
	if err := json.Unmarshal(e.Value(), &ent); err != nil || ent.DE == "" || ent.EN == "" {
		if log != nil {
			log.Warn("desk name ignored", zap.String("key", e.Key()), zap.Error(err))
		}
		return
	}
	if ent.Kind == "" {
		ent.Kind = pnames.KindPerson
	}
	entities[e.Key()] = ent
}

func deskFile(entities map[string]pnames.Entity) *pnames.File {
	keys := make([]string, 0, len(entities))
	for k := range entities {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	f := &pnames.File{}
	for _, k := range keys {
		f.Entities = append(f.Entities, entities[k])
	}
	return f
}
