// Package ct2 runs CTranslate2 Transformer encoder-decoder models in pure Go:
// it reads model.bin with its vocabularies and configuration, translates
// batches with greedy or beam search, and implements mt.Engine on top.
//
// It must not call out to cgo, the network or any other process, and it keeps
// quantized weights quantized in memory instead of expanding them to float32,
// unless the float32 compute type (see ComputeType) asks for exactly that.
package ct2
