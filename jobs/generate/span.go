package generate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseSpan reads a duration that may also be given in days ("40d", "1d12h")
// besides everything time.ParseDuration accepts.
func ParseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse span %q: bad day count", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("parse span: %w", err)
	}
	return days + d, nil
}

// ParseFaults reads "none", "default", or a comma list like
// "malformed=0.01,duplicate=0.02" (unlisted kinds are 0).
func ParseFaults(s string) (FaultRates, error) {
	switch s = strings.TrimSpace(s); s {
	case "", "default":
		return DefaultFaults, nil
	case "none":
		return FaultRates{}, nil
	}
	var f FaultRates
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		rate, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return FaultRates{}, fmt.Errorf("parse faults: %q: want kind=rate", kv)
		}
		switch k {
		case FaultMalformed:
			f.Malformed = rate
		case FaultNonUTF8:
			f.NonUTF8 = rate
		case FaultDuplicate:
			f.Duplicate = rate
		case FaultOutOfOrder:
			f.OutOfOrder = rate
		case FaultFuture:
			f.Future = rate
		default:
			return FaultRates{}, fmt.Errorf("parse faults: unknown kind %q (want one of %v)", k, FaultKinds)
		}
	}
	return f, nil
}

// ParseAnomalies reads "all", "none" or a comma list of kinds.
func ParseAnomalies(s string) ([]string, error) {
	switch s = strings.TrimSpace(s); s {
	case "", "all":
		return nil, nil
	case "none":
		return []string{}, nil
	}
	var kinds []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if !knownKind(k) {
			return nil, fmt.Errorf("parse anomalies: unknown kind %q (want one of %v)", k, AnomalyKinds)
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}
