// Package cmp is our stand-in for Go 1.21's standard "cmp", just what
// nats-server 8188ea93a's server/avl uses, so that package builds with
// Debian's Go 1.19 (GOPATH mode finds it when GOROOT has none).
package cmp

// Ordered is the set of types Compare accepts.
type Ordered interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr | ~float32 | ~float64 | ~string
}

// Compare returns -1, 0 or +1 as a is less than, equal to or greater than b.
func Compare[T Ordered](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
