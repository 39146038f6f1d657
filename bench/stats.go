package bench

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted, by the
// nearest-rank method: the smallest sample such that at least p percent
// of the samples are less than or equal to it. It returns 0 for an empty
// slice; p ≤ 0 gives the minimum and p > 100 the maximum.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// Median returns the median of xs (the mean of the two middle values for
// an even count), or 0 when xs is empty. xs is not modified.
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// mergeSorted concatenates the per-worker samples and sorts them.
func mergeSorted(parts [][]time.Duration) []time.Duration {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	all := make([]time.Duration, 0, total)
	for _, p := range parts {
		all = append(all, p...)
	}
	slices.Sort(all)
	return all
}
