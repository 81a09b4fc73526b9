package alerts

import (
	"math"

	"weir/jobs/alerts/rules"
)

// excessPValue is the probability of a window value at least v when the
// group behaves as its baseline says: for a count, a Poisson count with
// mean base; for a ratio over n records, a binomial count of n trials with
// success probability base. A tiny p-value says the excess is not chance,
// whatever the group's volume. For a percentile, see percentilePValue.
func excessPValue(aggregate string, v, base float64, n int64) float64 {
	switch aggregate {
	case rules.Count:
		return poissonTail(int64(math.Ceil(v-1e-9)), base)
	case rules.Ratio:
		k := int64(math.Round(v * float64(n)))
		return binomialTail(n, k, base)
	}
	return 1
}

// percentilePValue is the probability that at least above of n values lie
// above the usual q-quantile when the group behaves as usual (each value
// does with probability 1 − q): a sign test of the quantile's shift.
func percentilePValue(q float64, above, n int64) float64 {
	return binomialTail(n, above, 1-q)
}

// poissonTail is P(X ≥ k) for X ~ Poisson(lambda).
func poissonTail(k int64, lambda float64) float64 {
	switch {
	case k <= 0:
		return 1
	case lambda <= 0:
		return 0
	}
	// Sum the terms from k upwards in log space; past the mode they shrink
	// geometrically, so a few hundred terms reach any useful precision.
	lk, _ := math.Lgamma(float64(k) + 1)
	logTerm := float64(k)*math.Log(lambda) - lambda - lk
	return tailSum(logTerm, func(j int64) float64 { return math.Log(lambda / float64(j+1)) }, k, math.MaxInt64)
}

// binomialTail is P(X ≥ k) for X ~ Binomial(n, p).
func binomialTail(n, k int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	ln, _ := math.Lgamma(float64(n) + 1)
	lk, _ := math.Lgamma(float64(k) + 1)
	lnk, _ := math.Lgamma(float64(n-k) + 1)
	logTerm := ln - lk - lnk + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
	ratio := math.Log(p) - math.Log1p(-p)
	return tailSum(logTerm, func(j int64) float64 { return math.Log(float64(n-j)/float64(j+1)) + ratio }, k, n)
}

// tailSum adds exp(logTerm) for j = k, k+1, ... up to last, where step(j)
// is log(term(j+1)/term(j)), until the terms no longer matter.
func tailSum(logTerm float64, step func(j int64) float64, k, last int64) float64 {
	sum := 0.0
	for j := k; j <= last; j++ {
		t := math.Exp(logTerm)
		sum += t
		if j >= k+10_000 || (t < sum*1e-12 && j > k) {
			break
		}
		if j == last {
			break
		}
		logTerm += step(j)
	}
	return min(sum, 1)
}
