package ct2

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// DType is the element type of a variable as recorded in model.bin.
type DType uint8

// Element types, numbered as CTranslate2 numbers them in binary version 4 and later.
const (
	Float32  DType = 0
	Int8     DType = 1
	Int16    DType = 2
	Int32    DType = 3
	Float16  DType = 4
	BFloat16 DType = 5
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	case Float16:
		return "float16"
	case BFloat16:
		return "bfloat16"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the width of one element in bytes, 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case Float32, Int32:
		return 4
	case Int16, Float16, BFloat16:
		return 2
	case Int8:
		return 1
	}
	return 0
}

// MaxBinaryVersion is the newest model.bin layout this package reads.
const MaxBinaryVersion = 6

// ErrFormat is returned (wrapped) for any model.bin that is not a valid CTranslate2 model.
var ErrFormat = errors.New("ct2: invalid model file")

// Variable is one named array of a model. Float16 and bfloat16 data are
// widened to float32 on read (DType keeps the stored type); int8, int16 and
// int32 data stay in their own types.
type Variable struct {
	Name  string
	Shape []int
	DType DType
	F32   []float32 // Float32, Float16, BFloat16
	I8    []int8
	I16   []int16
	I32   []int32

	packed bool // F32 or I8 rearranged in place into panels by NewModel
	quads  bool // I8 rearranged in place into the int8 compute layout by NewModel
}

// Len is the number of elements.
func (v *Variable) Len() int {
	n := 1
	for _, d := range v.Shape {
		n *= d
	}
	return n
}

// Scalar returns the value of a rank-0 (or single element) variable as float64.
func (v *Variable) Scalar() (float64, bool) {
	switch {
	case len(v.F32) == 1:
		return float64(v.F32[0]), true
	case len(v.I8) == 1:
		return float64(v.I8[0]), true
	case len(v.I16) == 1:
		return float64(v.I16[0]), true
	case len(v.I32) == 1:
		return float64(v.I32[0]), true
	}
	return 0, false
}

// File is the content of a model.bin.
type File struct {
	BinaryVersion int
	Spec          string // model specification name, e.g. TransformerSpec; empty for version 1
	Revision      int    // specification revision
	Variables     map[string]*Variable
	Order         []string          // variable names in file order
	Aliases       map[string]string // alias -> variable name
}

// Lookup returns a variable by name, following aliases (including the
// implicit "_scale" alias of an aliased weight).
func (f *File) Lookup(name string) *Variable {
	if v, ok := f.Variables[name]; ok {
		return v
	}
	if target, ok := f.Aliases[name]; ok {
		return f.Variables[target]
	}
	if base, ok := cutSuffix(name, "_scale"); ok {
		if target, ok := f.Aliases[base]; ok {
			return f.Variables[target+"_scale"]
		}
	}
	return nil
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// fileReader reads little-endian fields and knows how many bytes remain, so
// that no length read from the file can make it allocate more than the file holds.
type fileReader struct {
	r    io.Reader
	off  int64
	size int64
	buf  [8]byte
}

func (fr *fileReader) remaining() int64 { return fr.size - fr.off }

func (fr *fileReader) read(p []byte, what string) error {
	if int64(len(p)) > fr.remaining() {
		return fmt.Errorf("%w: model.bin: %s of %d bytes at offset %d exceeds file size %d", ErrFormat, what, len(p), fr.off, fr.size)
	}
	if _, err := io.ReadFull(fr.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: model.bin: truncated %s at offset %d", ErrFormat, what, fr.off)
		}
		return fmt.Errorf("ct2: model.bin: read %s at offset %d: %w", what, fr.off, err)
	}
	fr.off += int64(len(p))
	return nil
}

func (fr *fileReader) u8(what string) (uint8, error) {
	if err := fr.read(fr.buf[:1], what); err != nil {
		return 0, err
	}
	return fr.buf[0], nil
}

func (fr *fileReader) u16(what string) (uint16, error) {
	if err := fr.read(fr.buf[:2], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(fr.buf[:2]), nil
}

func (fr *fileReader) u32(what string) (uint32, error) {
	if err := fr.read(fr.buf[:4], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(fr.buf[:4]), nil
}

// str reads a u16-length-prefixed, NUL-terminated string.
func (fr *fileReader) str(what string) (string, error) {
	n, err := fr.u16(what + " length")
	if err != nil {
		return "", err
	}
	if int64(n) > fr.remaining() {
		return "", fmt.Errorf("%w: model.bin: %s length %d exceeds file size", ErrFormat, what, n)
	}
	b := make([]byte, n)
	if err := fr.read(b, what); err != nil {
		return "", err
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b), nil
}

// ReadModel reads a CTranslate2 model.bin of the given size in bytes
// (binary versions 1 to 6). Every length in the file is checked against
// the bytes that remain before anything is allocated.
func ReadModel(r io.Reader, size int64) (*File, error) {
	fr := &fileReader{r: r, size: size}
	version, err := fr.u32("binary version")
	if err != nil {
		return nil, err
	}
	if version < 1 || version > MaxBinaryVersion {
		return nil, fmt.Errorf("%w: model.bin: binary version %d, expected 1 to %d", ErrFormat, version, MaxBinaryVersion)
	}
	f := &File{BinaryVersion: int(version), Revision: 1, Variables: map[string]*Variable{}, Aliases: map[string]string{}}
	if version >= 2 {
		if f.Spec, err = fr.str("spec name"); err != nil {
			return nil, err
		}
		rev, err := fr.u32("spec revision")
		if err != nil {
			return nil, err
		}
		if rev > 1<<16 {
			return nil, fmt.Errorf("%w: model.bin: spec revision %d is implausible", ErrFormat, rev)
		}
		f.Revision = int(rev)
	}
	count, err := fr.u32("variable count")
	if err != nil {
		return nil, err
	}
	// A variable takes at least 2 (name) + 1 (rank) + 1 (dtype) + 4 (size) bytes.
	if int64(count)*8 > fr.remaining() {
		return nil, fmt.Errorf("%w: model.bin: variable count %d exceeds file size", ErrFormat, count)
	}
	for i := uint32(0); i < count; i++ {
		v, err := readVariable(fr, f.BinaryVersion)
		if err != nil {
			return nil, fmt.Errorf("variable %d of %d: %w", i, count, err)
		}
		if _, dup := f.Variables[v.Name]; dup {
			return nil, fmt.Errorf("%w: model.bin: duplicate variable %q", ErrFormat, v.Name)
		}
		f.Variables[v.Name] = v
		f.Order = append(f.Order, v.Name)
	}
	if version >= 3 {
		n, err := fr.u32("alias count")
		if err != nil {
			return nil, err
		}
		if int64(n)*4 > fr.remaining() {
			return nil, fmt.Errorf("%w: model.bin: alias count %d exceeds file size", ErrFormat, n)
		}
		for i := uint32(0); i < n; i++ {
			alias, err := fr.str("alias name")
			if err != nil {
				return nil, err
			}
			target, err := fr.str("alias target")
			if err != nil {
				return nil, err
			}
			f.Aliases[alias] = target
		}
	}
	return f, nil
}

func readVariable(fr *fileReader, version int) (*Variable, error) {
	name, err := fr.str("variable name")
	if err != nil {
		return nil, err
	}
	rank, err := fr.u8("rank of " + name)
	if err != nil {
		return nil, err
	}
	if int64(rank)*4 > fr.remaining() {
		return nil, fmt.Errorf("%w: model.bin: rank %d of %q exceeds file size", ErrFormat, rank, name)
	}
	v := &Variable{Name: name, Shape: make([]int, rank)}
	elems := int64(1)
	for d := range v.Shape {
		dim, err := fr.u32("dimension of " + name)
		if err != nil {
			return nil, err
		}
		v.Shape[d] = int(dim)
		if dim != 0 && elems > fr.size/int64(dim) {
			return nil, fmt.Errorf("%w: model.bin: shape %v of %q exceeds file size", ErrFormat, v.Shape[:d+1], name)
		}
		elems *= int64(dim)
	}
	var nbytes int64
	if version >= 4 {
		id, err := fr.u8("dtype of " + name)
		if err != nil {
			return nil, err
		}
		v.DType = DType(id)
		if v.DType.Size() == 0 {
			return nil, fmt.Errorf("%w: model.bin: variable %q has unknown dtype %d, expected 0 to 5", ErrFormat, name, id)
		}
		n, err := fr.u32("byte size of " + name)
		if err != nil {
			return nil, err
		}
		nbytes = int64(n)
	} else {
		width, err := fr.u8("item size of " + name)
		if err != nil {
			return nil, err
		}
		switch width {
		case 4:
			v.DType = Float32
		case 2:
			v.DType = Int16
		case 1:
			v.DType = Int8
		default:
			return nil, fmt.Errorf("%w: model.bin: variable %q has item size %d, expected 1, 2 or 4", ErrFormat, name, width)
		}
		n, err := fr.u32("element count of " + name)
		if err != nil {
			return nil, err
		}
		nbytes = int64(n) * int64(width)
	}
	if nbytes > fr.remaining() {
		return nil, fmt.Errorf("%w: model.bin: variable %q of %d bytes exceeds file size (%d bytes left)", ErrFormat, name, nbytes, fr.remaining())
	}
	if nbytes != elems*int64(v.DType.Size()) {
		return nil, fmt.Errorf("%w: model.bin: variable %q has %d bytes, expected %d for shape %v of %s", ErrFormat, name, nbytes, elems*int64(v.DType.Size()), v.Shape, v.DType)
	}
	if err := readData(fr, v, int(elems)); err != nil {
		return nil, err
	}
	return v, nil
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func readData(fr *fileReader, v *Variable, n int) error {
	what := "data of " + v.Name
	switch v.DType {
	case Float32:
		v.F32 = make([]float32, n)
		if n == 0 {
			return nil
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(&v.F32[0])), 4*n)
		if err := fr.read(b, what); err != nil {
			return err
		}
		if !littleEndian {
			for i := range v.F32 {
				v.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	case Int8:
		v.I8 = make([]int8, n)
		if n == 0 {
			return nil
		}
		return fr.read(unsafe.Slice((*byte)(unsafe.Pointer(&v.I8[0])), n), what)
	case Int16:
		v.I16 = make([]int16, n)
		if n == 0 {
			return nil
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(&v.I16[0])), 2*n)
		if err := fr.read(b, what); err != nil {
			return err
		}
		if !littleEndian {
			for i := range v.I16 {
				v.I16[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
			}
		}
	case Int32:
		v.I32 = make([]int32, n)
		if n == 0 {
			return nil
		}
		b := unsafe.Slice((*byte)(unsafe.Pointer(&v.I32[0])), 4*n)
		if err := fr.read(b, what); err != nil {
			return err
		}
		if !littleEndian {
			for i := range v.I32 {
				v.I32[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	case Float16, BFloat16:
		v.F32 = make([]float32, n)
		const chunk = 4096
		var buf [2 * chunk]byte
		for i := 0; i < n; i += chunk {
			m := min(chunk, n-i)
			if err := fr.read(buf[:2*m], what); err != nil {
				return err
			}
			for j := 0; j < m; j++ {
				h := binary.LittleEndian.Uint16(buf[2*j:])
				if v.DType == BFloat16 {
					v.F32[i+j] = math.Float32frombits(uint32(h) << 16)
				} else {
					v.F32[i+j] = halfToFloat(h)
				}
			}
		}
	}
	return nil
}

// halfToFloat widens an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
