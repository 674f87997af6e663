package ct2

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Vocabulary maps tokens to ids and back.
type Vocabulary struct {
	tokens []string
	ids    map[string]int
	unk    int
}

// NewVocabulary builds a vocabulary; like CTranslate2 it appends unk when the
// list lacks it.
func NewVocabulary(tokens []string, unk string) *Vocabulary {
	v := &Vocabulary{ids: make(map[string]int, len(tokens)+1)}
	for _, t := range tokens {
		if _, dup := v.ids[t]; !dup {
			v.ids[t] = len(v.tokens)
		}
		v.tokens = append(v.tokens, t)
	}
	if id, ok := v.ids[unk]; ok {
		v.unk = id
	} else {
		v.unk = len(v.tokens)
		v.ids[unk] = v.unk
		v.tokens = append(v.tokens, unk)
	}
	return v
}

// ReadVocabulary reads a vocabulary file: a JSON list of strings when json is
// true, else one token per line.
func ReadVocabulary(r io.Reader, json bool, unk string) (*Vocabulary, error) {
	if json {
		return readJSONVocabulary(r, unk)
	}
	var tokens []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		tokens = append(tokens, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ct2: read vocabulary: %w", err)
	}
	return NewVocabulary(tokens, unk), nil
}

func readJSONVocabulary(r io.Reader, unk string) (*Vocabulary, error) {
	var tokens []string
	if err := json.NewDecoder(r).Decode(&tokens); err != nil {
		return nil, fmt.Errorf("ct2: read vocabulary: expected a JSON list of strings: %w", err)
	}
	return NewVocabulary(tokens, unk), nil
}

// Len is the number of tokens, unk included.
func (v *Vocabulary) Len() int { return len(v.tokens) }

// ID returns the id of a token, or the unk id.
func (v *Vocabulary) ID(token string) int {
	if id, ok := v.ids[token]; ok {
		return id
	}
	return v.unk
}

// Lookup returns the id of a token and whether it is in the vocabulary.
func (v *Vocabulary) Lookup(token string) (int, bool) {
	id, ok := v.ids[token]
	return id, ok
}

// Token returns the token of an id.
func (v *Vocabulary) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return ""
	}
	return v.tokens[id]
}
