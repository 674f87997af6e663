package names

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed gazetteer.yaml
var defaultYAML []byte

// Entity kinds.
const (
	KindPerson = "person"
	KindPlace  = "place"
	KindOrg    = "org"
)

// Name is a name in German and English press form. In YAML it is either a
// mapping {de: …, en: …} or one string used for both languages.
type Name struct {
	DE string `yaml:"de"`
	EN string `yaml:"en"`
}

// UnmarshalYAML accepts a plain string as a name spelled alike in both languages.
func (n *Name) UnmarshalYAML(v *yaml.Node) error {
	if v.Kind == yaml.ScalarNode {
		n.DE, n.EN = v.Value, v.Value
		return nil
	}
	type plain Name
	var p plain
	if err := v.Decode(&p); err != nil {
		return err
	}
	*n = Name(p)
	return nil
}

// In returns the name in the language ("de" or "en").
func (n Name) In(lang string) string {
	if lang == "en" {
		return n.EN
	}
	return n.DE
}

// Entity is one person, place or organization with its canonical press forms.
type Entity struct {
	ID      string `yaml:"id,omitempty"`
	Kind    string `yaml:"kind,omitempty"`
	Country string `yaml:"country,omitempty"`
	DE      string `yaml:"de"`
	EN      string `yaml:"en"`
	// Aliases are other spellings; a mention is rewritten to the canonical form.
	Aliases []string `yaml:"aliases,omitempty"`
	// Variants are other accepted forms; a mention is recognised and kept.
	Variants []string `yaml:"variants,omitempty"`
	// Contested are names another party uses for a place; the desk's
	// contested-name policy decides what happens to them.
	Contested []Name `yaml:"contested,omitempty"`
	// Bare says whether a person's surname alone is matched (default true).
	Bare *bool `yaml:"bare,omitempty"`
	// SharesKey lists entities whose keys may collide with this one.
	SharesKey []string `yaml:"shares_key,omitempty"`
}

// In returns the entity's canonical form in the language ("de" or "en").
func (e *Entity) In(lang string) string {
	if lang == "en" {
		return e.EN
	}
	return e.DE
}

// File is the YAML layout of a gazetteer file, the embedded one and a desk's alike.
type File struct {
	GivenNames []string `yaml:"given_names,omitempty"`
	Persons    []Entity `yaml:"persons,omitempty"`
	Places     []Entity `yaml:"places,omitempty"`
	Orgs       []Entity `yaml:"orgs,omitempty"`
	// Entities takes entries of any kind; each must say its kind.
	Entities []Entity `yaml:"entities,omitempty"`
}

// ErrInvalid is returned (wrapped) for a gazetteer file that cannot be used.
var ErrInvalid = errors.New("names: invalid gazetteer")

// ParseFile reads a gazetteer file. Unknown keys are an error.
func ParseFile(r io.Reader) (*File, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &f, nil
}

// DefaultFile parses the gazetteer shipped inside the binary.
func DefaultFile() (*File, error) {
	return ParseFile(bytes.NewReader(defaultYAML))
}

// Default returns the gazetteer shipped inside the binary. It parses and
// indexes on every call, so callers keep the result.
func Default() (*Gazetteer, error) {
	f, err := DefaultFile()
	if err != nil {
		return nil, err
	}
	return New(f)
}

// fuzzyCountries are the countries whose names reach German and English
// through transliteration, so their entities match by key and not only by
// their declared forms.
func fuzzyCountry(c string) bool {
	switch c {
	case "ru", "ua", "by", "md", "ge", "am", "az", "kz", "uz", "kg", "tj", "tm":
		return true
	}
	return false
}

type role uint8

const (
	roleCanonical role = iota // de or en form
	roleAlias
	roleVariant
	roleContested
)

// form is one declared way of writing an entity, split into words.
type form struct {
	ent       *entry
	text      string
	words     []string
	keys      []string
	role      role
	contested int  // index into Contested when role is roleContested
	surname   bool // a person's surname without given names
}

// entry is an entity with what matching needs to know about it.
type entry struct {
	Entity
	order     int
	fuzzy     bool
	bare      bool
	givenKeys map[string]bool
	surname   Name // surname in each language (persons)
}

// Gazetteer is an immutable, indexed set of entities; it is safe for
// concurrent use.
type Gazetteer struct {
	entries  []*entry
	byID     map[string]*entry
	given    map[string]bool
	exact    map[string][]*form // by the exact last word of a form
	keyed    map[string][]*form // by the key of the last word (fuzzy entities)
	prefixes prefixSet          // first three key letters of every keyed word
	prefix4  *prefix4Set        // first four, for keyed words long enough
	wild     prefixSet          // first three of short keyed words: any fourth letter passes
	words    wordFilter         // every key of exact
}

// wordFilter is a Bloom filter over the words that key exact; most
// capitalised words of a text fail it and skip the map lookup.
type wordFilter [1 << 10]uint64

// wordBits returns the two filter bits of a word from its length and its
// first and last two bytes; words under two bytes always pass.
func wordBits(w string) (a, b uint32, ok bool) {
	n := len(w)
	if n < 2 {
		return 0, 0, false
	}
	h := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[n-2])<<16 | uint64(w[n-1])<<24 | uint64(n)<<32
	h *= 0x9E3779B97F4A7C15
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	const mask = 1<<16 - 1
	return uint32(h>>48) & mask, uint32(h>>20) & mask, true
}

func (wf *wordFilter) add(w string) {
	if a, b, ok := wordBits(w); ok {
		wf[a/64] |= 1 << (a % 64)
		wf[b/64] |= 1 << (b % 64)
	}
}

// may reports whether w may be a key of exact.
func (wf *wordFilter) may(w string) bool {
	a, b, ok := wordBits(w)
	return !ok || wf[a/64]&(1<<(a%64)) != 0 && wf[b/64]&(1<<(b%64)) != 0
}

// prefixSet is a bitset over the first three letters of transliterated keys;
// it lets most words that cannot be a name skip every further lookup.
type prefixSet [32 * 32 * 32 / 64]uint64

func prefixIndex(k []byte) (int, bool) {
	if len(k) < 3 {
		return 0, false
	}
	code := func(c byte) int {
		switch {
		case c >= 'a' && c <= 'z':
			return int(c - 'a')
		case c == 'S':
			return 26
		case c == 'C':
			return 27
		case c == '@':
			return 28
		}
		return 29
	}
	return code(k[0])<<10 | code(k[1])<<5 | code(k[2]), true
}

func (p *prefixSet) add(k []byte) {
	if i, ok := prefixIndex(k); ok {
		p[i/64] |= 1 << (i % 64)
	}
}

// has reports whether a key (or a transliteration before the ending fold)
// starts like a keyed word; words under three letters always pass.
func (p *prefixSet) has(k []byte) bool {
	i, ok := prefixIndex(k)
	return !ok || p[i/64]&(1<<(i%64)) != 0
}

// prefix4Set is a bitset over the first four letters of transliterated keys.
type prefix4Set [32 * 32 * 32 * 32 / 64]uint64

func prefix4Index(k []byte) (int, bool) {
	i, ok := prefixIndex(k)
	if !ok || len(k) < 4 {
		return 0, false
	}
	j, _ := prefixIndex(k[1:4])
	return i<<5 | j&31, true
}

func (p *prefix4Set) add(k []byte) {
	if i, ok := prefix4Index(k); ok {
		p[i/64] |= 1 << (i % 64)
	}
}

// mayKey reports whether the transliteration m of a word (at least its
// first four bytes) starts like a keyed word, or like an inflected or
// possessive form of one.
func (g *Gazetteer) mayKey(m []byte) bool {
	if !g.prefixes.has(m) {
		return false
	}
	i, ok := prefix4Index(m)
	if !ok || g.wild.has(m) {
		return true
	}
	return g.prefix4[i/64]&(1<<(i%64)) != 0
}

// addPrefixes indexes the first letters of a keyed word: its key k and its
// transliteration t before the ending fold. Where an ending may reach the
// fourth letter (Alijew is al@, Schuscha inflects to Schuschi), only the
// first three letters count.
func (g *Gazetteer) addPrefixes(k, t []byte) {
	g.prefixes.add(k)
	g.prefixes.add(t)
	g.prefix4.add(k)
	g.prefix4.add(t)
	stem := len(k)
	if at := bytes.IndexByte(k, '@'); at >= 0 {
		stem = at
	}
	if stem < 4 || len(k) <= 5 || len(t) <= 5 {
		g.wild.add(k)
		g.wild.add(t)
	}
	if stem == 2 {
		// al@ is Aliyev, Aliev, Alev-: the ending's first vowel is the third letter.
		for _, v := range []byte("ieo") {
			g.wild.add([]byte{k[0], k[1], v})
		}
	}
}

// New builds a gazetteer from files; an entity in a later file replaces one
// with the same id in an earlier file, other entities are added.
func New(files ...*File) (*Gazetteer, error) {
	g := &Gazetteer{
		byID:    map[string]*entry{},
		given:   map[string]bool{},
		exact:   map[string][]*form{},
		keyed:   map[string][]*form{},
		prefix4: new(prefix4Set),
	}
	for fi, f := range files {
		if f == nil {
			continue
		}
		for _, n := range f.GivenNames {
			g.given[Key(n)] = true
		}
		add := func(list []Entity, kind string) error {
			for _, e := range list {
				if e.Kind == "" {
					e.Kind = kind
				}
				if err := g.add(e); err != nil {
					return fmt.Errorf("file %d: %w", fi+1, err)
				}
			}
			return nil
		}
		if err := add(f.Persons, KindPerson); err != nil {
			return nil, err
		}
		if err := add(f.Places, KindPlace); err != nil {
			return nil, err
		}
		if err := add(f.Orgs, KindOrg); err != nil {
			return nil, err
		}
		if err := add(f.Entities, ""); err != nil {
			return nil, err
		}
	}
	for _, e := range g.entries {
		g.index(e)
	}
	return g, nil
}

func (g *Gazetteer) add(e Entity) error {
	if strings.TrimSpace(e.DE) == "" || strings.TrimSpace(e.EN) == "" {
		return fmt.Errorf("%w: entity %q needs both de and en", ErrInvalid, e.ID+e.DE+e.EN)
	}
	switch e.Kind {
	case KindPerson, KindPlace, KindOrg:
	default:
		return fmt.Errorf("%w: entity %q: kind %q (want person, place or org)", ErrInvalid, e.EN, e.Kind)
	}
	if e.ID == "" {
		e.ID = slug(e.EN)
	}
	en := &entry{Entity: e, fuzzy: fuzzyCountry(e.Country), bare: e.Bare == nil || *e.Bare}
	if old, ok := g.byID[e.ID]; ok {
		en.order = old.order
		g.entries[old.order] = en
	} else {
		en.order = len(g.entries)
		g.entries = append(g.entries, en)
	}
	g.byID[e.ID] = en
	return nil
}

// slug makes an id from an English name: "Vladimir Putin" → "vladimir-putin".
func slug(s string) string {
	var b strings.Builder
	for i, w := range splitWords(s) {
		if i > 0 {
			b.WriteByte('-')
		}
		b.Write(appendFold(nil, w))
	}
	return b.String()
}

func (g *Gazetteer) index(e *entry) {
	e.givenKeys = map[string]bool{}
	add := func(text string, r role, ci int) {
		g.addForm(e, text, r, ci, false)
		if e.Kind != KindPerson || r == roleContested {
			return
		}
		given, sur := splitPerson(text)
		if given == "" {
			return
		}
		for _, w := range strings.Fields(given) {
			for _, p := range strings.Split(w, "-") {
				e.givenKeys[Key(p)] = true
			}
			g.given[Key(w)] = true
		}
		g.addForm(e, sur, r, ci, true)
	}
	add(e.DE, roleCanonical, 0)
	add(e.EN, roleCanonical, 0)
	if e.Kind == KindPerson {
		_, e.surname.DE = splitPerson(e.DE)
		_, e.surname.EN = splitPerson(e.EN)
	}
	for _, a := range e.Aliases {
		add(a, roleAlias, 0)
	}
	for _, v := range e.Variants {
		add(v, roleVariant, 0)
	}
	for i, c := range e.Contested {
		add(c.DE, roleContested, i)
		if c.EN != c.DE {
			add(c.EN, roleContested, i)
		}
	}
}

// splitPerson splits "Ursula von der Leyen" into "Ursula" and "von der Leyen".
func splitPerson(s string) (given, surname string) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return "", s
	}
	k := len(f) - 1
	for k > 1 && isParticle(f[k-1]) {
		k--
	}
	return strings.Join(f[:k], " "), strings.Join(f[k:], " ")
}

func isParticle(w string) bool {
	switch w {
	case "von", "van", "der", "den", "de", "da", "di", "al", "el", "bin", "ibn":
		return true
	}
	return false
}

func (g *Gazetteer) addForm(e *entry, text string, r role, ci int, surname bool) {
	words := splitWords(text)
	if len(words) == 0 {
		return
	}
	f := &form{ent: e, text: text, words: words, role: r, contested: ci, surname: surname}
	for _, w := range words {
		f.keys = append(f.keys, Key(w))
	}
	last := words[len(words)-1]
	g.exact[last] = appendForm(g.exact[last], f)
	g.words.add(last)
	if e.fuzzy {
		k := f.keys[len(f.keys)-1]
		g.keyed[k] = appendForm(g.keyed[k], f)
		// Inflected forms (Shushi for Shusha) share the first letters too,
		// but the ending fold can shorten a key: index the raw form as well.
		g.addPrefixes([]byte(k), appendTranslit(nil, last))
	}
}

// appendForm adds f unless the same entity already has a form with the same words.
func appendForm(list []*form, f *form) []*form {
	for _, o := range list {
		if o.ent == f.ent && o.surname == f.surname && o.role == f.role && strings.Join(o.words, " ") == strings.Join(f.words, " ") {
			return list
		}
	}
	return append(list, f)
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}

// Len is the number of entities.
func (g *Gazetteer) Len() int { return len(g.entries) }

// Entities returns a copy of every entity in gazetteer order.
func (g *Gazetteer) Entities() []Entity {
	out := make([]Entity, len(g.entries))
	for i, e := range g.entries {
		out[i] = e.Entity
	}
	return out
}

// Entity returns the entity with the id.
func (g *Gazetteer) Entity(id string) (Entity, bool) {
	e, ok := g.byID[id]
	if !ok {
		return Entity{}, false
	}
	return e.Entity, true
}

// Lookup returns the entities that have a declared form (canonical, alias,
// variant or contested) whose key equals the key of name; for entities
// outside the transliterated countries the name must match exactly.
func (g *Gazetteer) Lookup(name string) []Entity {
	words := splitWords(name)
	if len(words) == 0 {
		return nil
	}
	k := Key(name)
	last := words[len(words)-1]
	var out []Entity
	seen := map[string]bool{}
	consider := func(list []*form, exact bool) {
		for _, f := range list {
			if f.surname || seen[f.ent.ID] {
				continue
			}
			if exact && strings.Join(f.words, " ") != strings.Join(words, " ") {
				continue
			}
			if !exact && strings.Join(f.keys, " ") != k {
				continue
			}
			seen[f.ent.ID] = true
			out = append(out, f.ent.Entity)
		}
	}
	consider(g.exact[last], true)
	consider(g.keyed[Key(last)], false)
	return out
}
