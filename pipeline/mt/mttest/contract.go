package mttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/mt"
)

// Behaviour is how the service behind an engine answers.
type Behaviour int

// Behaviours a factory must be able to set up.
const (
	Normal    Behaviour = iota // translate with Fake, honour the glossary
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
// its credential. It registers its own cleanup with t. It returns nil for
// a failure the service cannot produce (LibreTranslate has no quota
// answer); the subtest is then skipped.
type NewEngine func(t *testing.T, b Behaviour) mt.Engine

// Run runs the engine contract.
func Run(t *testing.T, newEngine NewEngine) {
	t.Run("translates segments in order", func(t *testing.T) {
		segs := []string{"Eins.", "Zwei ist mehr.", "Drei.", "Vier und fünf.", "Sechs."}
		expect(t, newEngine(t, Normal), segs, nil)
	})
	t.Run("keeps order across more segments than one request holds", func(t *testing.T) {
		e := newEngine(t, Normal)
		n := e.Limits().MaxSegments*2 + 3
		if e.Limits().MaxSegments == 0 {
			n = 120
		}
		segs := make([]string, n)
		for i := range segs {
			segs[i] = fmt.Sprintf("Satz Nummer %d.", i)
		}
		expect(t, e, segs, nil)
	})
	t.Run("returns blank segments blank", func(t *testing.T) {
		expect(t, newEngine(t, Normal), []string{"Eins.", "", "Zwei.", " "}, nil)
	})
	t.Run("keeps unicode intact", func(t *testing.T) {
		expect(t, newEngine(t, Normal), []string{"Größe „Zitat“ – 😀 Ελλάδα ‚x‘ «y» <b>&amp;"}, nil)
	})
	t.Run("keeps glossary terms", func(t *testing.T) {
		g := []mt.Term{{DE: "Wladimir Putin", EN: "Vladimir Putin"}, {DE: "Ilham Alijew", EN: "Ilham Aliyev"}, {DE: "Schuscha", EN: "Shusha"}}
		expect(t, newEngine(t, Normal), []string{"Wladimir Putin traf Ilham Alijew in Schuscha.", "Ohne Namen.", "Schuscha liegt in Karabach."}, g)
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
			e := newEngine(t, tc.b)
			if e == nil {
				t.Skipf("the service has no %s answer", tc.b)
			}
			_, err := e.Translate(context.Background(), request([]string{"Hallo Welt."}, nil))
			if !errors.Is(err, tc.class) {
				t.Fatalf("error %v is not %v", err, tc.class)
			}
			if strings.Contains(err.Error(), Secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), Secret) {
				t.Fatalf("error shows the credential: %v", err)
			}
			if tc.b == Retryable {
				if d, ok := mt.RetryAfter(err); !ok || d != time.Second {
					t.Errorf("RetryAfter = %v, %v; want 1s from the Retry-After header", d, ok)
				}
			}
		})
	}
	t.Run("stops when the context ends", func(t *testing.T) {
		e := newEngine(t, Hang)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.Translate(ctx, request([]string{"Hallo Welt."}, nil))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v is not context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("took %v to give up", took)
		}
	})
}

func request(segs []string, g []mt.Term) mt.Request {
	return mt.Request{SourceLang: "de", TargetLang: "en", Segments: segs, Glossary: g}
}

func expect(t *testing.T, e mt.Engine, segs []string, g []mt.Term) {
	t.Helper()
	res, err := e.Translate(context.Background(), request(segs, g))
	if err != nil {
		t.Fatalf("Translate: %v", err)
	}
	if len(res.Translations) != len(segs) {
		t.Fatalf("got %d translations for %d segments", len(res.Translations), len(segs))
	}
	for i, s := range segs {
		want := Fake(s, g)
		got := res.Translations[i]
		if strings.TrimSpace(want) == "" {
			want, got = "", strings.TrimSpace(got)
		}
		if got != want {
			t.Errorf("segment %d: got %q, want %q", i, got, want)
		}
	}
}
