// Package slices is our stand-in for Go 1.21's standard "slices" (only
// SortFunc), see ../cmp.
package slices

import "sort"

// SortFunc sorts x by f (negative when a sorts before b); stable, which
// the standard one does not promise, but the avl package only sorts sets
// by size before a union, whose result does not depend on that order.
func SortFunc[S ~[]E, E any](x S, f func(a, b E) int) {
	sort.SliceStable(x, func(i, j int) bool { return f(x[i], x[j]) < 0 })
}
