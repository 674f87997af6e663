package normalize_test

import (
	"math/rand"
	"testing"
)

// TestRandomWireFragmentsReplayAndAreIdempotent normalizes random strings of the
// fragments every rule reacts to: the edits must replay to the output, flags
// must point inside it, and a second pass must change nothing.
func TestRandomWireFragmentsReplayAndAreIdempotent(t *testing.T) {
	toks := []string{"a", "Wir", " ", " ", ".", ",", "“", "„", "\"", "'", "‚", "‘", "’", "!", "?", ":", "1", "2", "sagte", "er", "unser", "Foto:", "dpa", "/", "Lesen Sie auch", "Seite", "(", ")", "-", "«", "»", "www.", "@", "#", "ich", "Aliyev", "Pashinyan", "Lavrova", "Nikolai", "Peskov", "Sohn", "Kyiv", "Post", "Film", "ukrainisch", "nannte", "Gacharidze", "Gacharidse", "Tjahnybok", "Tjagnybok", "\u200b", "\u00ad", "\u202e", "Werbung", "Anzeige", "Teilen", "Facebook", "Twitter", "Quelle:", "2022", ".12"}
	for _, lang := range []string{"de", "en"} {
		n := normalizer(t, lang)
		rng := rand.New(rand.NewSource(3))
		for it := 0; it < 20000; it++ {
			k := 1 + rng.Intn(24)
			s := ""
			for j := 0; j < k; j++ {
				s += toks[rng.Intn(len(toks))]
			}
			once, edits, flags := n.Text(s)
			r := s
			for _, e := range edits {
				if e.Offset < 0 || e.Offset+len(e.Before) > len(r) || r[e.Offset:e.Offset+len(e.Before)] != e.Before {
					t.Fatalf("%s: edit %+v does not apply to %q (in %q)", lang, e, r, s)
				}
				r = r[:e.Offset] + e.After + r[e.Offset+len(e.Before):]
			}
			if r != once {
				t.Fatalf("%s: replay %q != %q (in %q)", lang, r, once, s)
			}
			for _, f := range flags {
				if f.Offset < 0 || f.Offset > len(once) {
					t.Fatalf("%s: flag %+v outside %q", lang, f, once)
				}
			}
			twice, e2, _ := n.Text(once)
			if twice != once {
				t.Fatalf("%s not idempotent:\nin    %q\nonce  %q\ntwice %q\n%+v", lang, s, once, twice, e2)
			}
		}
	}
}
