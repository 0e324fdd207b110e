package store

import (
	"context"
	"testing"
	"time"
)

// The statements a lane's text uses: rows read back many at a time, a held
// row left out of the digests other jobs may join, and its send recorded
// (on PostgreSQL in one statement) with the same row and attempt as the
// general path records.
func TestLaneStatements(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testLaneStatements(t, openTestStore(t), "") })
	t.Run("postgres", func(t *testing.T) {
		testLaneStatements(t, openTestPostgres(t), "replica-1")
	})
}

func testLaneStatements(t *testing.T, st *Store, holder string) {
	ctx := context.Background()
	at := time.UnixMilli(time.Now().UnixMilli())
	keys := map[string]Key{}
	for _, id := range []string{"d-lane", "d-river", "d-joiner"} {
		k := Key{Org: 1, DeliveryID: id, Channel: "ops"}
		keys[id] = k
		err := st.Tx(ctx, func(tx *Tx) error {
			if _, err := tx.InsertNotification(ctx, Notification{Org: 1, ID: id, ReceivedAt: at, Receiver: "r", GroupKey: "g-" + id,
				Payload: `{"id":"` + id + `"}`, Alerts: "[]"}, nil, at.Add(time.Hour)); err != nil {
				return err
			}
			c := NewChannel{Key: k, Type: "wecom", ReceivedAt: at, Status: Pending, Fingerprints: []string{"fp-" + id}}
			switch id {
			case "d-lane":
				c.Owner, c.Holder = k.Owner(), holder
			case "d-river":
				c.Owner = k.Owner() // a River job's own row: a digest others may join
			}
			return tx.InsertChannels(ctx, []NewChannel{c})
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	got, err := st.ChannelsWithNotifications(ctx, "ops", []string{"d-lane", "d-river", "d-missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["d-lane"].Notification.Payload != `{"id":"d-lane"}` || got["d-river"].Row.DigestOwner != keys["d-river"].Owner() ||
		got["d-lane"].Row.Holder != holder || got["d-lane"].Notification.GroupKey != "g-d-lane" || !got["d-lane"].Notification.ReceivedAt.Equal(at) {
		t.Fatalf("read back: %+v", got)
	}

	open, err := st.OpenDigests(ctx, 1, "ops")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{keys["d-river"].Owner()}
	if holder == "" {
		// SQLite marks no holder: the lane's row is listed, and its
		// record releases a row that joined it (below).
		want = []string{keys["d-lane"].Owner(), keys["d-river"].Owner()}
	}
	if len(open) != len(want) {
		t.Fatalf("open digests %+v, want owners %v", open, want)
	}
	for i, d := range open {
		if d.Owner != want[i] {
			t.Fatalf("open digests %+v, want owners %v", open, want)
		}
	}

	if holder == "" {
		// A row joined the lane's digest: its record hands it back.
		if err := st.Tx(ctx, func(tx *Tx) error { _, err := tx.Claim(ctx, keys["d-joiner"], keys["d-lane"].Owner()); return err }); err != nil {
			t.Fatal(err)
		}
	}
	done := at.Add(1500 * time.Millisecond)
	k := keys["d-lane"]
	left, err := st.RecordSentNow(ctx, Sending{Org: 1, Channel: "ops", Robot: "robot", Owner: k.Owner(), Held: holder != "",
		Rows:     []TextSent{{Key: k, At: done, Latency: 1500 * time.Millisecond, Part: "text", Chart: ChartPending, Note: "n"}},
		Attempts: []Attempt{{Key: k, Part: "text", At: at, OK: true, StatusCode: 200, Duration: 40 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	if holder == "" && (len(left) != 1 || left[0] != keys["d-joiner"]) {
		t.Fatalf("released %v, want the joined row", left)
	}
	if holder != "" && len(left) != 0 {
		t.Fatalf("released %v from a held row", left)
	}
	row, err := st.Channel(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != Sent || !row.TextSentAt.Valid || row.TextSentAt.Int64 != done.UnixMilli() || row.Attempts != 1 ||
		row.TextPart != "text" || row.ChartState != ChartPending || row.ChartNote != "n" || row.TextLatencyMs.Int64 != 1500 {
		t.Fatalf("recorded row: %+v", row)
	}
	atts, err := st.Attempts(ctx, "d-lane")
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 1 || atts[0].Channel != "ops" || atts[0].Part != "text" || !atts[0].OK || atts[0].StatusCode != 200 ||
		atts[0].Duration != 40*time.Millisecond || !atts[0].At.Equal(at) {
		t.Fatalf("attempts: %+v", atts)
	}

	// A lane that fell behind hands rows to River as one digest: the
	// oldest row it still holds owns them; rows it does not hold stay.
	var held []Key
	for i, id := range []string{"g-3", "g-1", "g-2", "g-other"} {
		k := Key{Org: 1, DeliveryID: id, Channel: "ops"}
		c := NewChannel{Key: k, Type: "wecom", ReceivedAt: at.Add(time.Duration(i) * time.Millisecond), Status: Pending,
			Fingerprints: []string{"fp"}, Owner: k.Owner(), Holder: holder}
		if id == "g-1" {
			c.ReceivedAt = at.Add(-time.Second) // the oldest, though not first in the lane's list
		}
		if id == "g-other" {
			c.Owner, c.Holder = "", "" // handed to River meanwhile
		}
		if err := st.InsertChannels(ctx, []NewChannel{c}); err != nil {
			t.Fatal(err)
		}
		held = append(held, k)
	}
	owner, n, err := st.GatherHeld(ctx, holder, held)
	if err != nil || n != 3 || owner != (Key{Org: 1, DeliveryID: "g-1", Channel: "ops"}) {
		t.Fatalf("gathered %d under %+v (%v), want 3 under g-1", n, owner, err)
	}
	for _, k := range held {
		row, err := st.Channel(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		want := owner.Owner()
		if k.DeliveryID == "g-other" {
			want = ""
		}
		if row.DigestOwner != want || row.Holder != "" {
			t.Fatalf("%s: owner %q holder %q, want owner %q and no holder", k.DeliveryID, row.DigestOwner, row.Holder, want)
		}
	}
	if holder != "" {
		// On PostgreSQL the rows are no longer marked as the lane's. (On
		// SQLite only the process knows which rows its lanes hold.)
		if _, n, err := st.GatherHeld(ctx, holder, held); err != nil || n != 0 {
			t.Fatalf("gathered %d rows a second time (%v)", n, err)
		}
	}
}
