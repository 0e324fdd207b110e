package fakelimit

import (
	"testing"
	"time"
)

func TestEveryWindowIsEnforcedAndSlides(t *testing.T) {
	l := New(Window{Max: 5, Per: time.Second}, Window{Max: 7, Per: time.Minute})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		if d := l.Take("bot", t0.Add(time.Duration(i)*10*time.Millisecond)); !d.OK || d.Remaining != 4-i {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d := l.Take("bot", t0.Add(100*time.Millisecond))
	if d.OK || d.Wait != 900*time.Millisecond {
		t.Fatalf("6th in a second: %+v", d)
	}
	if d := l.Take("other", t0.Add(100*time.Millisecond)); !d.OK {
		t.Fatal("keys share a window")
	}
	// After the second: two more fit the minute, the third does not.
	for i := range 2 {
		if d := l.Take("bot", t0.Add(2*time.Second+time.Duration(i)*100*time.Millisecond)); !d.OK {
			t.Fatalf("minute slot %d: %+v", i, d)
		}
	}
	d = l.Take("bot", t0.Add(3*time.Second))
	if d.OK || d.Wait != 57*time.Second {
		t.Fatalf("8th in a minute: %+v", d)
	}
	if d := l.Take("bot", t0.Add(61*time.Second)); !d.OK {
		t.Fatalf("after the minute: %+v", d)
	}
}

func TestRefusedRequestsCountWhenAsked(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	strict := CountingRefused(Window{Max: 2, Per: time.Minute})
	lenient := New(Window{Max: 2, Per: time.Minute})
	for i := range 4 {
		at := t0.Add(time.Duration(i) * 20 * time.Second)
		strict.Take("r", at)
		lenient.Take("r", at)
	}
	// At 81 s the lenient window holds only the accepted request at 60 s;
	// the strict one also holds the refused one at 40 s.
	at := t0.Add(81 * time.Second)
	if d := lenient.Take("r", at); !d.OK {
		t.Fatalf("lenient: %+v", d)
	}
	if d := strict.Take("r", at); d.OK {
		t.Fatalf("strict: %+v", d)
	}
}
