package names_test

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRewrite checks that name rewriting replays, points its flags inside
// the text, and changes nothing on a second pass.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{
		"Nikolai Pashinyan sagte, sein Sohn Nikolai Pashinyan komme.",
		"Ekaterina Lavrova und Julia Navalnaya, @Aliyev_N, https://t.me/Shushi, #Kyiv",
		"Der Film „Shushi“, die Kyiv Post und Kiew (ukrainisch: Kyjiw).",
		"Gacharidze, Gacharidse, Tjahnybok und Tjagnybok; Kowaltschuk und Kovalchuk.",
		"Peskov nannte die Vorwürfe absurd. Der Kremlin und NATO.",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	de, en := rewriter(f, "de", ""), rewriter(f, "en", "")
	f.Fuzz(func(t *testing.T, s string, english bool) {
		if !utf8.ValidString(s) {
			return
		}
		rw := de
		if english {
			rw = en
		}
		out, res := rw.Text(s)
		r := s
		for _, e := range res.Edits {
			if e.Offset < 0 || e.Offset+len(e.Before) > len(r) || !strings.HasPrefix(r[e.Offset:], e.Before) {
				t.Fatalf("edit %+v does not apply to %q", e, r)
			}
			r = r[:e.Offset] + e.After + r[e.Offset+len(e.Before):]
		}
		if r != out {
			t.Fatalf("replay gives %q, want %q", r, out)
		}
		for _, fl := range res.Flags {
			if fl.Offset < 0 || fl.Offset > len(out) {
				t.Fatalf("flag %+v outside %q", fl, out)
			}
		}
		if again, res2 := rw.Text(out); again != out {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q\n%+v", s, out, again, res2.Edits)
		}
	})
}
