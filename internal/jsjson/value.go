// Package jsjson is a small JSON model that behaves like JavaScript's
// JSON.parse and JSON.stringify, so that hashes computed over serialised
// documents match the ones the official JavaScript packages compute.
//
// Differences from encoding/json that matter here:
//   - numbers are IEEE-754 doubles and are printed with the algorithm of
//     Number.prototype.toString (1e21 -> "1e+21", 2.0 -> "2", -0 -> "0");
//   - strings are escaped only where JSON.stringify escapes them (no HTML
//     escaping, no escaping of U+2028/U+2029, lone surrogates as \udxxx);
//   - object keys keep the order a JavaScript object would give them:
//     array-index keys first in numeric order, then the rest in insertion
//     order; duplicate keys keep the position of the first occurrence and the
//     value of the last one.
//
// Strings are held in Go strings encoded as WTF-8: valid UTF-8 plus lone
// UTF-16 surrogates encoded as three-byte sequences (0xED 0xA0..0xBF ..), so
// that every JavaScript string that JSON can carry survives a round trip.
//
// The API is what the SDK needs: Parse, a few accessors, Value.Without
// (object spread minus keys), Value.Sorted (the sortObject helper of the
// JavaScript packages), Value.Stringify, AppendString, ObjectMembers and
// HasLoneSurrogate.
package jsjson

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects that Parse accepts.
const MaxDepth = 1000

// Kind is the JSON type of a Value.
type Kind uint8

// The kinds of Value.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// Value is one parsed JSON value. Values are immutable once parsed: the
// methods that change a document return a new Value.
type Value struct {
	kind Kind
	b    bool
	num  float64 // may be ±Inf when the literal overflowed, as in JavaScript
	str  string  // WTF-8
	arr  []*Value
	obj  *object
}

// Kind returns the JSON type of v.
func (v *Value) Kind() Kind { return v.kind }

// AsString returns the string of a String value (WTF-8); ok is false for
// other kinds and for a nil v.
func (v *Value) AsString() (s string, ok bool) {
	if v == nil || v.kind != String {
		return "", false
	}
	return v.str, true
}

// Member returns the member key of an Object value; ok is false when it is
// absent or v is not an object.
func (v *Value) Member(key string) (*Value, bool) {
	if v.kind != Object {
		return nil, false
	}
	return v.obj.get(key)
}

// Truthy reports whether v is truthy in JavaScript.
func (v *Value) Truthy() bool {
	switch v.kind {
	case Null:
		return false
	case Bool:
		return v.b
	case Number:
		return v.num != 0 && !math.IsNaN(v.num)
	case String:
		return v.str != ""
	}
	return true
}

// Without returns a shallow copy of an Object value without the given keys,
// like the spread {...v} followed by delete. The other keys keep their
// order. A value that is not an object is returned as it is.
func (v *Value) Without(keys ...string) *Value {
	if v.kind != Object {
		return v
	}
	o := v.obj.clone()
	for _, k := range keys {
		o.del(k)
	}
	return &Value{kind: Object, obj: o}
}

// Sorted reproduces the sortObject helper of the JavaScript packages: plain
// objects get their keys sorted by UTF-16 code units (recursively, also
// inside arrays). Two JavaScript quirks are kept: an object with an own
// "constructor" property is not a plain object to that helper and is left
// as it is (without descending into it), and a "__proto__" key vanishes
// from sorted objects because assigning it changes the prototype instead
// of adding a property.
func (v *Value) Sorted() *Value {
	switch v.kind {
	case Array:
		out := make([]*Value, len(v.arr))
		for i, e := range v.arr {
			out[i] = e.Sorted()
		}
		return &Value{kind: Array, arr: out}
	case Object:
		if _, ok := v.obj.get("constructor"); ok {
			return v
		}
		keys := slices.Clone(v.obj.keys)
		slices.SortStableFunc(keys, compareUTF16)
		o := &object{index: make(map[string]int, len(keys))}
		for _, k := range keys {
			if k == "__proto__" {
				continue
			}
			e, _ := v.obj.get(k)
			o.set(k, e.Sorted())
		}
		return &Value{kind: Object, obj: o}
	}
	return v
}

// ErrNotObject is returned by ObjectMembers for valid JSON whose top-level
// value is not an object.
var ErrNotObject = errors.New("JSON value is not an object")

// ObjectMembers returns the members of the JSON object data with their raw
// values (sub-slices of data, whitespace around them excluded). Keys keep
// unpaired surrogate escapes as WTF-8, which encoding/json would replace;
// a repeated key keeps its last value. Invalid JSON gives Parse's error,
// another top-level value ErrNotObject.
func ObjectMembers(data []byte) (map[string][]byte, error) {
	if _, err := Parse(data); err != nil {
		return nil, err
	}
	// data is valid: walk it again, keeping the raw text of each value.
	p := &parser{s: string(data)}
	p.ws()
	if p.s[p.i] != '{' {
		return nil, ErrNotObject
	}
	p.i++
	out := map[string][]byte{}
	for {
		p.ws()
		if p.s[p.i] == '}' {
			return out, nil
		}
		if p.s[p.i] == ',' {
			p.i++
			p.ws()
		}
		k, _ := p.str()
		p.ws()
		p.i++ // ':'
		p.ws()
		start := p.i
		p.value()
		out[k] = data[start:p.i]
	}
}

// HasLoneSurrogate reports whether the JSON value raw is a string, or an
// array holding one at any depth, with an unpaired UTF-16 surrogate escape,
// which a Go string cannot carry. Object members are not inspected; invalid
// JSON gives false.
func HasLoneSurrogate(raw []byte) bool {
	v, err := Parse(raw)
	if err != nil {
		return false
	}
	var walk func(v *Value) bool
	walk = func(v *Value) bool {
		switch v.kind {
		case String:
			return !utf8.ValidString(v.str)
		case Array:
			return slices.ContainsFunc(v.arr, walk)
		}
		return false
	}
	return walk(v)
}

// object keeps properties in first-insertion order.
type object struct {
	keys  []string
	vals  []*Value
	index map[string]int
}

func newObject() *object { return &object{index: map[string]int{}} }

func (o *object) get(k string) (*Value, bool) {
	i, ok := o.index[k]
	if !ok {
		return nil, false
	}
	return o.vals[i], true
}

// set adds or replaces a property like CreateDataProperty: a replaced key
// keeps its position.
func (o *object) set(k string, v *Value) {
	if i, ok := o.index[k]; ok {
		o.vals[i] = v
		return
	}
	o.index[k] = len(o.keys)
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *object) del(k string) {
	i, ok := o.index[k]
	if !ok {
		return
	}
	o.keys = slices.Delete(o.keys, i, i+1)
	o.vals = slices.Delete(o.vals, i, i+1)
	delete(o.index, k)
	for j := i; j < len(o.keys); j++ {
		o.index[o.keys[j]] = j
	}
}

// clone makes a shallow copy, like the object spread {...o}.
func (o *object) clone() *object {
	c := &object{
		keys:  slices.Clone(o.keys),
		vals:  slices.Clone(o.vals),
		index: make(map[string]int, len(o.keys)),
	}
	for i, k := range c.keys {
		c.index[k] = i
	}
	return c
}

// arrayIndex reports whether k is a canonical array index (0..2^32-2),
// which JavaScript enumerates before all other keys, in numeric order.
func arrayIndex(k string) (uint64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, n <= math.MaxUint32-1
}

// ownKeys returns the keys in the order JavaScript enumerates them.
func (o *object) ownKeys() []string {
	var idx []string
	var rest []string
	for _, k := range o.keys {
		if _, ok := arrayIndex(k); ok {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	if len(idx) == 0 {
		return rest
	}
	slices.SortStableFunc(idx, func(a, b string) int {
		x, _ := arrayIndex(a)
		y, _ := arrayIndex(b)
		return cmp.Compare(x, y)
	})
	return append(idx, rest...)
}
