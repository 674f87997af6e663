package mttest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/mt"
)

// Behaviour is how the service behind an engine answers.
type Behaviour int

// Behaviours a factory may be asked to set up: Normal always, the others
// only when the engine's Features name them.
const (
	Normal    Behaviour = iota // translate with Fake (or as Features.Samples say), honour the glossary
	Retryable                  // answer "too many requests" with Retry-After: 1
	Quota                      // answer "quota exhausted"
	Auth                       // reject the credentials
	Permanent                  // reject the request as malformed
	Hang                       // never answer until the client gives up
)

func (b Behaviour) String() string {
	return [...]string{"normal", "retryable", "quota", "auth", "permanent", "hang"}[b]
}

// NewEngine builds an engine whose service behaves as b, using Secret as
// its credential. It registers its own cleanup with t.
type NewEngine func(t *testing.T, b Behaviour) mt.Engine

// Sample is a segment an engine's model can translate and the translation it must give.
type Sample struct{ Source, Translation string }

// Features says which parts of the contract an engine takes part in, as
// Watermill's pubsub tests do. Each engine's test states its own, so what
// a run leaves out is written down next to the engine, and the subtests it
// leaves out skip naming the feature.
type Features struct {
	// Samples are segments the engine translates and what each must
	// become. Nil means the service behind the engine answers with Fake, so
	// any text works and the suite uses its own German sentences.
	Samples []Sample
	// Glossary: glossary terms reach the translation in their English form.
	Glossary bool
	// Failures are the failure answers (Retryable, Quota, Auth, Permanent)
	// the service can give; each is checked for its error class.
	Failures []Behaviour
	// Hang: the service can hold a request open until the client gives up.
	Hang bool
	// SplitsLargeRequests: a request with more segments than Limits allows
	// is sent in several parts. Without it the engine must refuse such a
	// request with ErrPermanent, never answer part of it.
	SplitsLargeRequests bool
}

// Run runs the engine contract.
func Run(t *testing.T, f Features, newEngine NewEngine) {
	// sentences returns n source segments and, for Normal, what each becomes.
	sentences := func(n int, g []mt.Term) (src, want []string) {
		for i := range n {
			if f.Samples == nil {
				s := fmt.Sprintf("Satz Nummer %d.", i)
				src, want = append(src, s), append(want, Fake(s, g))
				continue
			}
			// Cycle through the samples backwards and forwards so that a
			// reordered answer cannot match by chance.
			k := i % (2 * len(f.Samples))
			if k >= len(f.Samples) {
				k = 2*len(f.Samples) - 1 - k
			}
			src, want = append(src, f.Samples[k].Source), append(want, f.Samples[k].Translation)
		}
		return src, want
	}
	t.Run("translates segments in order", func(t *testing.T) {
		src, want := sentences(5, nil)
		if f.Samples == nil {
			src = []string{"Eins.", "Zwei ist mehr.", "Drei.", "Vier und fünf.", "Sechs."}
			want = fakeAll(src, nil)
		}
		expect(t, newEngine(t, Normal), src, want, nil)
	})
	t.Run("keeps order across as many segments as one request holds", func(t *testing.T) {
		e := newEngine(t, Normal)
		n := e.Limits().MaxSegments
		if n == 0 {
			n = 120
		}
		src, want := sentences(n, nil)
		expect(t, e, src, want, nil)
	})
	t.Run("a request beyond the limits is translated whole or refused, never cut short", func(t *testing.T) {
		e := newEngine(t, Normal)
		if e.Limits().MaxSegments == 0 {
			t.Skip("the engine states no segment limit")
		}
		src, want := sentences(e.Limits().MaxSegments*2+3, nil)
		if f.SplitsLargeRequests {
			expect(t, e, src, want, nil)
			return
		}
		res, err := e.Translate(context.Background(), request(src, nil))
		if !errors.Is(err, mt.ErrPermanent) {
			t.Fatalf("%d segments over a limit of %d: %d translations, error %v; want mt.ErrPermanent",
				len(src), e.Limits().MaxSegments, len(res.Translations), err)
		}
	})
	t.Run("returns blank segments blank", func(t *testing.T) {
		src, want := sentences(2, nil)
		src = []string{src[0], "", src[1], " "}
		want = []string{want[0], "", want[1], ""}
		e := newEngine(t, Normal)
		expect(t, e, src, want, nil)
		expect(t, e, []string{"", " "}, []string{"", ""}, nil)
	})
	t.Run("keeps unicode intact", func(t *testing.T) {
		if f.Samples != nil {
			t.Skip("the engine's model translates only its samples (Features.Samples)")
		}
		src := []string{"Größe „Zitat“ – 😀 Ελλάδα ‚x‘ «y» <b>&amp;"}
		expect(t, newEngine(t, Normal), src, fakeAll(src, nil), nil)
	})
	t.Run("keeps glossary terms", func(t *testing.T) {
		if !f.Glossary {
			t.Skip("the engine takes no glossary (Features.Glossary)")
		}
		g := []mt.Term{{DE: "Wladimir Putin", EN: "Vladimir Putin"}, {DE: "Ilham Alijew", EN: "Ilham Aliyev"}, {DE: "Schuscha", EN: "Shusha"}}
		src := []string{"Wladimir Putin traf Ilham Alijew in Schuscha.", "Ohne Namen.", "Schuscha liegt in Karabach."}
		want := []string{"[en] Vladimir Putin traf Ilham Aliyev in Shusha.", "[en] Ohne Namen.", "[en] Shusha liegt in Karabach."}
		expect(t, newEngine(t, Normal), src, want, g)
	})
	for _, tc := range []struct {
		b     Behaviour
		class error
	}{
		{Retryable, mt.ErrRetryable},
		{Quota, mt.ErrQuota},
		{Auth, mt.ErrAuth},
		{Permanent, mt.ErrPermanent},
	} {
		t.Run("classifies a "+tc.b.String()+" failure", func(t *testing.T) {
			if !slices.Contains(f.Failures, tc.b) {
				t.Skipf("the service has no %s answer (Features.Failures)", tc.b)
			}
			e := newEngine(t, tc.b)
			src, _ := sentences(1, nil)
			_, err := e.Translate(context.Background(), request(src, nil))
			if !errors.Is(err, tc.class) {
				t.Fatalf("error %v is not %v", err, tc.class)
			}
			for _, other := range []error{mt.ErrRetryable, mt.ErrQuota, mt.ErrAuth, mt.ErrPermanent} {
				if other != tc.class && errors.Is(err, other) {
					t.Errorf("error %v is %v as well as %v", err, other, tc.class)
				}
			}
			if strings.Contains(err.Error(), Secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), Secret) {
				t.Fatalf("error shows the credential: %v", err)
			}
			if d, ok := mt.RetryAfter(err); tc.b == Retryable && (!ok || d != time.Second) {
				t.Errorf("RetryAfter = %v, %v; want 1s from the Retry-After header", d, ok)
			}
		})
	}
	t.Run("returns the context's error when called with a cancelled context", func(t *testing.T) {
		e := newEngine(t, Normal)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		src, _ := sentences(3, nil)
		if _, err := e.Translate(ctx, request(src, nil)); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v is not context.Canceled", err)
		}
	})
	t.Run("stops when the context ends", func(t *testing.T) {
		if !f.Hang {
			t.Skip("the engine has no service that can hang (Features.Hang)")
		}
		e := newEngine(t, Hang)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		src, _ := sentences(1, nil)
		done := make(chan error, 1)
		go func() {
			_, err := e.Translate(ctx, request(src, nil))
			done <- err
		}()
		// The service never answers, so Translate can only return because
		// it gave up with the context; the guard only keeps a broken engine
		// from hanging the whole test binary.
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v is not context.DeadlineExceeded", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("Translate still running a minute after its context ended")
		}
	})
}

func fakeAll(segs []string, g []mt.Term) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = Fake(s, g)
	}
	return out
}

func request(segs []string, g []mt.Term) mt.Request {
	return mt.Request{SourceLang: "de", TargetLang: "en", Segments: segs, Glossary: g}
}

func expect(t *testing.T, e mt.Engine, segs, want []string, g []mt.Term) {
	t.Helper()
	res, err := e.Translate(context.Background(), request(segs, g))
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if len(res.Translations) != len(segs) {
		t.Fatalf("got %d translations for %d segments", len(res.Translations), len(segs))
	}
	for i := range segs {
		got, w := res.Translations[i], want[i]
		if strings.TrimSpace(segs[i]) == "" {
			got = strings.TrimSpace(got)
		}
		if got != w {
			t.Errorf("segment %d %q: got %q, want %q", i, segs[i], got, w)
		}
	}
}
