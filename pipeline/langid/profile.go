package langid

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Function words: the most frequent words of each language. The German list
// leaves out words that are common in the others too (in, es, er, die in
// Dutch, war, was), so a hit is evidence for German alone.
const (
	germanWords = `der das und ist nicht sich mit von den dem des ein eine einen einem einer
		eines auf für dass daß zu im auch wurde wurden werden wird hat haben habe hätten
		sind sei seien nach bei aus über oder aber noch nur vom zum zur wir sie ihr ihre
		sein seine seiner diese dieser dieses sagte sagt durch gegen unter wenn weil
		schon sehr kein keine jetzt damit heute gestern laut sowie bereits zwischen`
	otherWords = `the and of to is that was for on with as by are from it this have has be
		at which were been their not they will would said
		het een van en niet zijn op met voor ook aan bij door naar wordt werd maar
		le la les des et est une un du dans que qui pour sur pas au aux avec ce il elle
		el los las del y por con para se al como más su
		di che per non della è sono dei gli nel
		w na się że jest jak od po przez oraz
		ve bir bu için ile olarak olan çok daha gibi
		və üçün ilə də`
)

// profile scores text by function words. Its maps are filled once by
// newProfile and only read afterwards.
type profile struct {
	deSet    map[string]struct{}
	otherSet map[string]struct{}
}

func newProfile() profile {
	set := func(words string) map[string]struct{} {
		m := make(map[string]struct{})
		for _, w := range strings.Fields(words) {
			m[w] = struct{}{}
		}
		return m
	}
	return profile{deSet: set(germanWords), otherSet: set(otherWords)}
}

// Thresholds of the profile: below them lingua decides.
const (
	profileMinWords   = 12   // fewer words say too little
	profileMinShare   = 0.15 // German function words per word
	profileMinRatio   = 3    // German hits per hit of the other lists
	profileMaxForeign = 0.05 // letters outside the Latin script per letter
	maxFunctionWord   = 16   // bytes of the longest function word, and then some
)

// german reports whether text is clearly German by its function words, and
// the German share of the function words found. ok is false when the profile
// cannot tell; that is not evidence against German.
func (p profile) german(text string) (confidence float64, ok bool) {
	var words, de, other, latin, foreign int
	var buf [maxFunctionWord]byte
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := text[start:end]
		start = -1
		words++
		if len(w) > maxFunctionWord {
			return // no function word is that long
		}
		lower := buf[:0]
		for _, r := range w {
			lower = utf8.AppendRune(lower, unicode.ToLower(r))
		}
		if len(lower) > maxFunctionWord {
			return
		}
		if _, hit := p.deSet[string(lower)]; hit {
			de++
		} else if _, hit := p.otherSet[string(lower)]; hit {
			other++
		}
	}
	for i, r := range text {
		switch {
		case r < utf8.RuneSelf:
			if (r|0x20) < 'a' || (r|0x20) > 'z' {
				flush(i)
				continue
			}
			latin++
		case r == utf8.RuneError || !unicode.IsLetter(r):
			flush(i)
			continue
		case unicode.Is(unicode.Latin, r):
			latin++
		default:
			foreign++
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(text))
	switch {
	case words < profileMinWords,
		float64(foreign) > profileMaxForeign*float64(latin+foreign),
		float64(de) < profileMinShare*float64(words),
		de < profileMinRatio*other:
		return 0, false
	}
	return float64(de) / float64(de+other), true
}
