package spm

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

// Sentinel errors returned (wrapped) by Load.
var (
	// ErrInvalidModel reports a model file that is not a well-formed
	// SentencePiece ModelProto.
	ErrInvalidModel = errors.New("spm: invalid model")
	// ErrUnsupportedModel reports a well-formed model of a type other than unigram.
	ErrUnsupportedModel = errors.New("spm: unsupported model")
)

const (
	// MaxModelSize bounds how many bytes Load reads.
	MaxModelSize = 256 << 20
	// maxPieceLen bounds one piece; real models stay far below it.
	maxPieceLen = 4096
	// unkPenalty is subtracted from the lowest piece score to score unknown characters.
	unkPenalty = 10.0
	// spaceSymbol replaces ' ' in normalized text (U+2581).
	spaceSymbol = "\u2581"
	// defaultUnkSurface is what an <unk> piece decodes to unless the model says otherwise.
	defaultUnkSurface = " \u2047 "
)

// Model is a loaded SentencePiece unigram model. It is immutable after Load
// and safe for concurrent use.
type Model struct {
	texts  []string       // piece text by id
	scores []float32      // by id
	types  []pieceType    // by id
	ids    map[string]int // every piece, normal or reserved
	vocab  *trie          // normal, user-defined and unused pieces
	user   *trie          // user-defined pieces, matched before normalization; nil if none

	unkID    int
	minScore float32
	maxScore float32

	byteFallback bool
	bytePieces   [256]int // id of <0xXX>, valid when byteFallback
	unkSurface   string

	norm normalizer

	lattices sync.Pool // *[]bestPath scratch for segment
}

// Load reads a serialized SentencePiece ModelProto (a ".model" or ".spm" file).
func Load(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxModelSize+1))
	if err != nil {
		return nil, fmt.Errorf("spm: read model: %w", err)
	}
	if len(b) > MaxModelSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidModel, MaxModelSize)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrInvalidModel)
	}
	mp, err := parseModelProto(b)
	if err != nil {
		return nil, err
	}
	return newModel(mp)
}

func newModel(mp *modelProto) (*Model, error) {
	if mp.modelType != modelTypeUnigram {
		return nil, fmt.Errorf("%w: model_type %d, only unigram (1) is supported", ErrUnsupportedModel, mp.modelType)
	}
	if len(mp.pieces) == 0 {
		return nil, fmt.Errorf("%w: no pieces", ErrInvalidModel)
	}
	m := &Model{
		texts:        make([]string, len(mp.pieces)),
		scores:       make([]float32, len(mp.pieces)),
		types:        make([]pieceType, len(mp.pieces)),
		ids:          make(map[string]int, len(mp.pieces)),
		unkID:        -1,
		byteFallback: mp.byteFallback,
		unkSurface:   defaultUnkSurface,
	}
	if mp.hasUnkSurface {
		m.unkSurface = mp.unkSurface
	}
	var (
		vocabKeys, userKeys []trieKey
		normalSeen          = make(map[string]bool, len(mp.pieces))
		reservedSeen        = make(map[string]bool)
		bytesFound          int
		byteSeen            [256]bool
	)
	for i, p := range mp.pieces {
		if p.piece == "" {
			return nil, fmt.Errorf("%w: piece %d is empty", ErrInvalidModel, i)
		}
		if len(p.piece) > maxPieceLen {
			return nil, fmt.Errorf("%w: piece %d is longer than %d bytes", ErrInvalidModel, i, maxPieceLen)
		}
		switch p.typ {
		case typeNormal, typeUnknown, typeControl, typeUserDefined, typeUnused, typeByte:
		default:
			return nil, fmt.Errorf("%w: piece %d %q has unknown type %d", ErrInvalidModel, i, p.piece, p.typ)
		}
		m.texts[i], m.scores[i], m.types[i] = p.piece, p.score, p.typ
		// Normal-like and reserved pieces live in separate namespaces, as in
		// the reference; a reserved piece wins a lookup.
		isNormal := p.typ == typeNormal || p.typ == typeUserDefined || p.typ == typeUnused
		seen := reservedSeen
		if isNormal {
			seen = normalSeen
		}
		if seen[p.piece] {
			return nil, fmt.Errorf("%w: piece %q is defined twice", ErrInvalidModel, p.piece)
		}
		seen[p.piece] = true
		if isNormal {
			if !reservedSeen[p.piece] {
				m.ids[p.piece] = i
			}
			vocabKeys = append(vocabKeys, trieKey{p.piece, int32(i)})
		} else {
			m.ids[p.piece] = i
		}
		switch p.typ {
		case typeUserDefined:
			userKeys = append(userKeys, trieKey{p.piece, int32(i)})
		case typeUnknown:
			if m.unkID >= 0 {
				return nil, fmt.Errorf("%w: unknown piece defined twice", ErrInvalidModel)
			}
			m.unkID = i
		case typeByte:
			if !mp.byteFallback {
				return nil, fmt.Errorf("%w: byte piece %q although byte_fallback is false", ErrInvalidModel, p.piece)
			}
			b, ok := pieceToByte(p.piece)
			if !ok {
				return nil, fmt.Errorf("%w: byte piece %q is malformed", ErrInvalidModel, p.piece)
			}
			if !byteSeen[b] {
				byteSeen[b] = true
				bytesFound++
			}
			m.bytePieces[b] = i
		}
	}
	if m.unkID < 0 {
		return nil, fmt.Errorf("%w: no unknown piece", ErrInvalidModel)
	}
	if mp.byteFallback && bytesFound != 256 {
		return nil, fmt.Errorf("%w: byte_fallback is set but only %d of 256 byte pieces exist", ErrInvalidModel, bytesFound)
	}

	m.minScore, m.maxScore = math.MaxFloat32, minNormalFloat32
	for i, typ := range m.types {
		// Written as std::min and std::max are, so a NaN score is skipped.
		if sc := m.scores[i]; typ == typeNormal {
			if sc < m.minScore {
				m.minScore = sc
			}
			if m.maxScore < sc {
				m.maxScore = sc
			}
		}
	}
	if m.minScore == math.MaxFloat32 {
		m.minScore = 0
	}
	if m.maxScore == minNormalFloat32 {
		m.maxScore = 0
	}
	m.vocab = newTrie(vocabKeys)
	if len(userKeys) > 0 {
		m.user = newTrie(userKeys)
	}
	norm, err := newNormalizer(mp, m.user)
	if err != nil {
		return nil, err
	}
	m.norm = norm
	m.lattices.New = func() any { return new([]bestPath) }
	return m, nil
}

// minNormalFloat32 is C's FLT_MIN, the reference's starting maximum.
const minNormalFloat32 = 0x1p-126

// pieceToByte parses "<0xXX>" with upper-case hex digits, the only spelling
// the reference accepts.
func pieceToByte(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(s[3])
	lo, ok2 := hexDigit(s[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Size returns the number of pieces in the vocabulary.
func (m *Model) Size() int { return len(m.texts) }

// PieceToID returns the id of piece, or the unknown piece's id when the
// vocabulary lacks it.
func (m *Model) PieceToID(piece string) int {
	if id, ok := m.ids[piece]; ok {
		return id
	}
	return m.unkID
}

// IDToPiece returns the piece with the given id, or "" when id is out of range.
func (m *Model) IDToPiece(id int) string {
	if id < 0 || id >= len(m.texts) {
		return ""
	}
	return m.texts[id]
}

// UnknownID returns the id of the unknown piece (conventionally "<unk>").
func (m *Model) UnknownID() int { return m.unkID }
