// Package spm encodes and decodes text with a SentencePiece unigram model,
// piece for piece as the reference implementation does: the model's own
// normalization rules, Viterbi segmentation and byte fallback.
// It reads serialized ModelProto files only; it neither trains models nor
// supports BPE, word or char model types.
package spm
