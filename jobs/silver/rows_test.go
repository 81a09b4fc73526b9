package silver

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"weir/events"
	"weir/lakehouse"
)

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{"/a/b?x=1": "/a/b", "/a#frag": "/a", "/plain": "/plain", "": ""} {
		t.Run(in, func(t *testing.T) {
			if got := Endpoint(in); got != want {
				t.Errorf("Endpoint(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestUnixDay(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(86399, 0), 0},
		{time.Unix(86400, 0), 1},
		{time.Unix(-1, 0), -1},
	} {
		t.Run(tc.at.String(), func(t *testing.T) {
			if got := unixDay(tc.at); got != tc.want {
				t.Errorf("unixDay = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRejectClass(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    string
	}{
		{"", lakehouse.RejectEmpty},
		{"\xff{}", lakehouse.RejectNotUTF8},
		{"{\"truncated", lakehouse.RejectSyntax},
		{`{"event_id":"e"}`, lakehouse.RejectMissing},
	} {
		t.Run(tc.payload, func(t *testing.T) {
			_, err := events.ParseAppEvent([]byte(tc.payload))
			if err == nil {
				t.Fatal("parsed")
			}
			if got := errorClass(err); got != tc.want {
				t.Errorf("class = %s, want %s (%v)", got, tc.want, err)
			}
		})
	}
}

func TestFutureRejectedAndDedup(t *testing.T) {
	rows := newTyped(appEventCodec())
	ingested := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	mk := func(id string, ts time.Time, off int64) *bronzeRow {
		e := events.AppEvent{EventID: id, ActionID: "a", TS: ts, Service: "s", Type: events.TypePageView, Status: events.StatusOK}
		// The Kafka timestamp comes from the producer's clock: only
		// ingested_at decides what is from the future.
		return &bronzeRow{topic: "app.events", offset: off, kafkaTS: ts.UnixMicro(), ingestedAt: ingested.UnixMicro(), value: e.AppendJSON(nil)}
	}
	rejects := &rejectRows{}
	for _, r := range []*bronzeRow{
		mk("e1", ingested.Add(-time.Hour), 2), mk("e1", ingested.Add(-time.Hour), 1),
		mk("e2", ingested.Add(events.DefaultMaxFuture+time.Second), 3), // the future
		mk("e3", ingested, 4), mk("e4", ingested.Add(events.DefaultMaxFuture), 5), // at the limit: kept
	} {
		if err := rows.add(r, events.DefaultMaxFuture); err != nil {
			rejects.add(r, err)
		}
	}
	if len(rejects.rows) != 1 || rejects.future() != 1 || rejects.rows[0].src.offset != 3 || rejects.rows[0].field != lakehouse.ColEventTS {
		t.Fatalf("rejects %+v, want offset 3 only, class %s on %s", rejects.rows, lakehouse.RejectFuture, lakehouse.ColEventTS)
	}
	if dropped := rows.dedup(map[string]struct{}{"e3": {}}); dropped != 2 {
		t.Errorf("dropped %d, want 2 (a copy of e1 and the existing e3)", dropped)
	}
	if rows.len() != 2 || rows.rows[0].src.offset != 1 {
		t.Errorf("kept %d rows, first at offset %d; want 2, the first copy (offset 1)", rows.len(), rows.rows[0].src.offset)
	}
}

// TestOrderMatchesStringOrder: sorting by string ranks gives the order a
// direct comparison of the strings gives.
func TestOrderMatchesStringOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	base := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	rows := newTyped(appEventCodec())
	for i := range 2000 {
		e := events.AppEvent{
			EventID: fmt.Sprint("e", i), ActionID: pick("a1", "a10", "a2", "b"), Item: "i1", Service: pick("cart", "checkout", "auth"),
			Type: pick(events.TypePageView, events.TypeBuy, events.TypeRefund), Status: events.StatusOK,
			TS: base.Add(time.Duration(rng.IntN(3*86400)) * time.Second),
		}
		r := &bronzeRow{topic: "app.events", partition: int32(rng.IntN(3)), offset: int64(i), kafkaTS: base.UnixMicro(), ingestedAt: base.Add(4 * 24 * time.Hour).UnixMicro(), value: e.AppendJSON(nil)}
		if err := rows.add(r, events.DefaultMaxFuture); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]int32, len(rows.rows))
	for i := range want {
		want[i] = int32(i)
	}
	slices.SortFunc(want, func(x, y int32) int {
		a, b := &rows.rows[x], &rows.rows[y]
		return cmp.Or(cmp.Compare(a.day, b.day), strings.Compare(a.v.Service, b.v.Service), strings.Compare(a.v.Type, b.v.Type),
			a.v.TS.Compare(b.v.TS), strings.Compare(a.v.ActionID, b.v.ActionID), a.src.less(&b.src))
	})
	got := rows.order()
	for i := range got {
		if got[i].idx != want[i] {
			t.Fatalf("position %d: row %d, want row %d", i, got[i].idx, want[i])
		}
	}
	for i := 1; i < len(got); i++ {
		a, b := &rows.rows[got[i-1].idx], &rows.rows[got[i].idx]
		if same := samePartition(&got[i-1], &got[i]); same != (a.day == b.day && a.v.Service == b.v.Service) {
			t.Fatalf("position %d: samePartition = %v for days %d/%d, services %s/%s", i, same, a.day, b.day, a.v.Service, b.v.Service)
		}
	}
}

// TestAppendPromoted: a promoted column takes the field's JSON text
// converted to its type; absent, null-typed or mistyped values are null.
func TestAppendPromoted(t *testing.T) {
	ts, _ := arrow.TimestampFromTime(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), arrow.Microsecond)
	for _, tc := range []struct {
		typ  arrow.DataType
		raws []string // "" = absent
		want string
	}{
		{arrow.BinaryTypes.String, []string{`"SAVE\u0031"`, `"plain"`, "12", `{"a":1}`, ""}, `["SAVE1" "plain" "12" "{\"a\":1}" (null)]`},
		{arrow.PrimitiveTypes.Int64, []string{"42", "-7", "3.0", "3.5", `"42"`, "true", ""}, "[42 -7 3 (null) (null) (null) (null)]"},
		{arrow.PrimitiveTypes.Float64, []string{"12.5", "1e3", `"12.5"`, "null", ""}, "[12.5 1000 (null) (null) (null)]"},
		{arrow.FixedWidthTypes.Boolean, []string{"true", "false", `"true"`, ""}, "[true false (null) (null)]"},
		{arrow.FixedWidthTypes.Timestamp_us, []string{`"2026-03-14T16:09:26+01:00"`, `"yesterday"`, "1773500966", ""},
			fmt.Sprintf("[%d (null) (null) (null)]", ts)},
	} {
		b := array.NewBuilder(memory.DefaultAllocator, tc.typ)
		for _, raw := range tc.raws {
			appendPromoted(b, raw, raw != "")
		}
		arr := b.NewArray()
		if got := arr.String(); got != tc.want {
			t.Errorf("%s from %q:\n got %s\nwant %s", tc.typ, tc.raws, got, tc.want)
		}
		arr.Release()
		b.Release()
	}
}
