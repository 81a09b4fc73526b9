package alerts

import (
	"math"
	"sort"
)

// sketchGamma sets the percentile sketch's relative accuracy: every value
// is reported within ±1% (gamma = (1+α)/(1−α), α = 0.01).
const sketchGamma = 1.0202

var logGamma = math.Log(sketchGamma)

// Sketch is a mergeable quantile sketch with logarithmic buckets (the
// DDSketch idea): bounded memory (≈1,000 buckets for 1 ms … 1 day) and a
// relative error of 1% on any quantile.
type Sketch struct {
	Buckets map[int32]int64
	Zeros   int64 // values ≤ 0
	N       int64
}

func newSketch() *Sketch { return &Sketch{Buckets: map[int32]int64{}} }

// Add inserts one value.
func (s *Sketch) Add(v float64) {
	s.N++
	if v <= 0 || math.IsNaN(v) {
		s.Zeros++
		return
	}
	s.Buckets[int32(math.Ceil(math.Log(v)/logGamma))]++
}

// Merge adds o into s.
func (s *Sketch) Merge(o *Sketch) {
	s.N += o.N
	s.Zeros += o.Zeros
	for k, c := range o.Buckets {
		s.Buckets[k] += c
	}
}

// Quantile returns the q-quantile (0 when empty).
func (s *Sketch) Quantile(q float64) float64 {
	if s.N == 0 {
		return 0
	}
	rank := int64(math.Ceil(q*float64(s.N))) - 1
	if rank < s.Zeros {
		return 0
	}
	keys := make([]int32, 0, len(s.Buckets))
	for k := range s.Buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	seen := s.Zeros
	for _, k := range keys {
		seen += s.Buckets[k]
		if seen > rank {
			return 2 * math.Pow(sketchGamma, float64(k)) / (sketchGamma + 1)
		}
	}
	return 2 * math.Pow(sketchGamma, float64(keys[len(keys)-1])) / (sketchGamma + 1)
}

// Above is the number of values greater than x (within the sketch's 1%).
func (s *Sketch) Above(x float64) int64 {
	var n int64
	for k, c := range s.Buckets {
		if 2*math.Pow(sketchGamma, float64(k))/(sketchGamma+1) > x {
			n += c
		}
	}
	if x < 0 {
		n += s.Zeros
	}
	return n
}
