package spm

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// pieceType mirrors ModelProto.SentencePiece.Type.
type pieceType uint8

const (
	typeNormal      pieceType = 1
	typeUnknown     pieceType = 2
	typeControl     pieceType = 3
	typeUserDefined pieceType = 4
	typeUnused      pieceType = 5
	typeByte        pieceType = 6
)

// modelTypeUnigram is TrainerSpec.ModelType UNIGRAM, also the proto default.
const modelTypeUnigram = 1

type protoPiece struct {
	piece string
	score float32
	typ   pieceType
}

// modelProto holds the fields of sentencepiece.ModelProto that encoding and
// decoding need; defaults follow sentencepiece_model.proto.
type modelProto struct {
	pieces []protoPiece

	modelType               int32
	byteFallback            bool
	treatWhitespaceAsSuffix bool
	unkSurface              string
	hasUnkSurface           bool

	precompiledCharsmap    []byte
	addDummyPrefix         bool
	removeExtraWhitespaces bool
	escapeWhitespaces      bool
}

// Field numbers from sentencepiece_model.proto.
const (
	fieldModelPieces     = 1
	fieldModelTrainer    = 2
	fieldModelNormalizer = 3

	fieldPiecePiece = 1
	fieldPieceScore = 2
	fieldPieceType  = 3

	fieldTrainerModelType       = 3
	fieldTrainerTreatWSAsSuffix = 24
	fieldTrainerByteFallback    = 35
	fieldTrainerUnkSurface      = 44

	fieldNormName                  = 1
	fieldNormPrecompiledCharsmap   = 2
	fieldNormAddDummyPrefix        = 3
	fieldNormRemoveExtraWhitespace = 4
	fieldNormEscapeWhitespaces     = 5
)

func parseModelProto(b []byte) (*modelProto, error) {
	m := &modelProto{
		modelType:              modelTypeUnigram,
		addDummyPrefix:         true,
		removeExtraWhitespaces: true,
		escapeWhitespaces:      true,
	}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case fieldModelPieces:
			if typ != protowire.BytesType {
				return wireTypeError("pieces", typ)
			}
			p, err := parsePiece(v)
			if err != nil {
				return fmt.Errorf("piece %d: %w", len(m.pieces), err)
			}
			m.pieces = append(m.pieces, p)
		case fieldModelTrainer:
			if typ != protowire.BytesType {
				return wireTypeError("trainer_spec", typ)
			}
			if err := m.parseTrainerSpec(v); err != nil {
				return fmt.Errorf("trainer_spec: %w", err)
			}
		case fieldModelNormalizer:
			if typ != protowire.BytesType {
				return wireTypeError("normalizer_spec", typ)
			}
			if err := m.parseNormalizerSpec(v); err != nil {
				return fmt.Errorf("normalizer_spec: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func parsePiece(b []byte) (protoPiece, error) {
	p := protoPiece{typ: typeNormal}
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case fieldPiecePiece:
			if typ != protowire.BytesType {
				return wireTypeError("piece", typ)
			}
			p.piece = string(v)
		case fieldPieceScore:
			if typ != protowire.Fixed32Type {
				return wireTypeError("score", typ)
			}
			p.score = math.Float32frombits(uint32(x))
		case fieldPieceType:
			if typ != protowire.VarintType {
				return wireTypeError("type", typ)
			}
			if x > 255 {
				x = 0 // rejected later as an unknown type
			}
			p.typ = pieceType(x)
		}
		return nil
	})
	return p, err
}

func (m *modelProto) parseTrainerSpec(b []byte) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case fieldTrainerModelType:
			if typ != protowire.VarintType {
				return wireTypeError("model_type", typ)
			}
			m.modelType = int32(x)
		case fieldTrainerTreatWSAsSuffix:
			if typ != protowire.VarintType {
				return wireTypeError("treat_whitespace_as_suffix", typ)
			}
			m.treatWhitespaceAsSuffix = x != 0
		case fieldTrainerByteFallback:
			if typ != protowire.VarintType {
				return wireTypeError("byte_fallback", typ)
			}
			m.byteFallback = x != 0
		case fieldTrainerUnkSurface:
			if typ != protowire.BytesType {
				return wireTypeError("unk_surface", typ)
			}
			m.unkSurface, m.hasUnkSurface = string(v), true
		}
		return nil
	})
}

func (m *modelProto) parseNormalizerSpec(b []byte) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		want := protowire.VarintType
		if num == fieldNormName || num == fieldNormPrecompiledCharsmap {
			want = protowire.BytesType
		}
		if num >= fieldNormName && num <= fieldNormEscapeWhitespaces && typ != want {
			return wireTypeError(fmt.Sprintf("field %d", num), typ)
		}
		switch num {
		case fieldNormPrecompiledCharsmap:
			m.precompiledCharsmap = v
		case fieldNormAddDummyPrefix:
			m.addDummyPrefix = x != 0
		case fieldNormRemoveExtraWhitespace:
			m.removeExtraWhitespaces = x != 0
		case fieldNormEscapeWhitespaces:
			m.escapeWhitespaces = x != 0
		}
		return nil
	})
}

// eachField walks one message's fields. For length-delimited fields v holds the
// payload (aliasing b); for scalar fields x holds the raw value.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: bad tag: %v", ErrInvalidModel, protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %v", ErrInvalidModel, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func wireTypeError(field string, typ protowire.Type) error {
	return fmt.Errorf("%w: %s has wire type %d", ErrInvalidModel, field, typ)
}
