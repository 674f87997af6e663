package spm_test

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// testPiece is one vocabulary entry of a hand-built model.
type testPiece struct {
	piece string
	score float32
	typ   int // 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
}

// testModel describes a ModelProto to serialize in tests.
type testModel struct {
	pieces       []testPiece
	modelType    int // 0: leave unset (unigram)
	byteFallback bool
	charsmap     []byte
	noDummy      bool
}

func (tm testModel) bytes() []byte {
	var b []byte
	for _, p := range tm.pieces {
		var pb []byte
		pb = protowire.AppendTag(pb, 1, protowire.BytesType)
		pb = protowire.AppendString(pb, p.piece)
		pb = protowire.AppendTag(pb, 2, protowire.Fixed32Type)
		pb = protowire.AppendFixed32(pb, math.Float32bits(p.score))
		if p.typ != 0 && p.typ != 1 {
			pb = protowire.AppendTag(pb, 3, protowire.VarintType)
			pb = protowire.AppendVarint(pb, uint64(p.typ))
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, pb)
	}
	var ts []byte
	if tm.modelType != 0 {
		ts = protowire.AppendTag(ts, 3, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(tm.modelType))
	}
	if tm.byteFallback {
		ts = protowire.AppendTag(ts, 35, protowire.VarintType)
		ts = protowire.AppendVarint(ts, 1)
	}
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, ts)
	var ns []byte
	ns = protowire.AppendTag(ns, 1, protowire.BytesType)
	ns = protowire.AppendString(ns, "identity")
	if tm.charsmap != nil {
		ns = protowire.AppendTag(ns, 2, protowire.BytesType)
		ns = protowire.AppendBytes(ns, tm.charsmap)
	}
	if tm.noDummy {
		ns = protowire.AppendTag(ns, 3, protowire.VarintType)
		ns = protowire.AppendVarint(ns, 0)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, ns)
	return b
}

// tinyModel is a small unigram model with an identity normalizer.
func tinyModel(byteFallback bool) []byte {
	pieces := []testPiece{
		{"<unk>", 0, 2}, {"<s>", 0, 3}, {"</s>", 0, 3}, {"<sep>", 0, 4},
		{"▁", -2, 1}, {"▁die", -3, 1}, {"▁Stadt", -5, 1}, {"▁St", -6, 1},
		{"adt", -6, 1}, {"▁Berlin", -5, 1}, {"er", -4, 1}, {"▁für", -4, 1},
		{"e", -4, 1}, {"r", -4, 1}, {"i", -4, 1}, {"d", -4, 1}, {"S", -5, 1},
		{"t", -4, 1}, {"a", -4, 1}, {"n", -4, 1}, {"l", -4, 1}, {"B", -5, 1},
		{"ü", -5, 1}, {"f", -5, 1}, {"alt", -1, 5},
	}
	if byteFallback {
		for i := 0; i < 256; i++ {
			pieces = append(pieces, testPiece{fmt.Sprintf("<0x%02X>", i), 0, 6})
		}
	}
	return testModel{pieces: pieces, byteFallback: byteFallback}.bytes()
}
