package ct2

import (
	"errors"
	"fmt"
	"strings"
)

// ComputeType is how the matrix products of a model are computed.
type ComputeType int8

// Compute types, named as CTranslate2 names them.
const (
	// ComputeDefault, the zero value, is DefaultComputeType.
	ComputeDefault ComputeType = iota
	// ComputeInt8Float32 keeps int8 weights as int8 in memory and widens them to
	// float32 inside the product; float32 weights stay float32.
	ComputeInt8Float32
	// ComputeInt8 quantizes each input row to [-64, 64] (scale
	// max|x|/64) and multiplies it by int8 weights into exact int32 sums;
	// float32 weights are quantized per row to int8 at load.
	ComputeInt8
	// ComputeFloat32 dequantizes int8 weights to float32 at load.
	ComputeFloat32
)

// DefaultComputeType is the compute type of a model loaded without one.
const DefaultComputeType = ComputeInt8

var computeNames = [...]string{ComputeDefault: "default", ComputeInt8Float32: "int8_float32", ComputeInt8: "int8", ComputeFloat32: "float32"}

// ErrUnknownComputeType is returned by ParseComputeType for a name it does not know.
var ErrUnknownComputeType = errors.New("unknown compute type")

// ComputeTypeNames lists the names ParseComputeType accepts, the default first.
func ComputeTypeNames() []string {
	names := []string{DefaultComputeType.String()}
	for _, n := range computeNames[1:] {
		if n != names[0] {
			names = append(names, n)
		}
	}
	return names
}

// String is the compute type's name.
func (c ComputeType) String() string {
	if c >= 0 && int(c) < len(computeNames) {
		return computeNames[c]
	}
	return fmt.Sprintf("ComputeType(%d)", int(c))
}

// ParseComputeType reads a compute type name (case does not matter).
func ParseComputeType(s string) (ComputeType, error) {
	for i, n := range computeNames {
		if i > 0 && strings.EqualFold(s, n) {
			return ComputeType(i), nil
		}
	}
	return 0, fmt.Errorf("ct2: compute type %q: %w (want %s)", s, ErrUnknownComputeType, strings.Join(ComputeTypeNames(), ", "))
}

// LoadOption configures how a model is loaded.
type LoadOption func(*loadConfig)

type loadConfig struct {
	compute ComputeType
}

// WithCompute sets the compute type (default DefaultComputeType).
func WithCompute(c ComputeType) LoadOption { return func(l *loadConfig) { l.compute = c } }

func newLoadConfig(opts []LoadOption) (loadConfig, error) {
	l := loadConfig{compute: DefaultComputeType}
	for _, o := range opts {
		o(&l)
	}
	if l.compute < 0 || int(l.compute) >= len(computeNames) {
		return l, fmt.Errorf("ct2: %v: %w", l.compute, ErrUnknownComputeType)
	}
	if l.compute == ComputeDefault {
		l.compute = DefaultComputeType
	}
	return l, nil
}
