package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
	"github.com/alertchart/alertchart/pkg/delivery/queuetest"
	"github.com/alertchart/alertchart/pkg/settings"
)

// delivered lists the distinct alert fingerprints a fake named in a text.
func delivered(n *fakeNotifier) map[string]int {
	seen := map[string]int{}
	for _, m := range n.messages() {
		if m.part == channels.PartChart {
			continue
		}
		for _, fp := range m.fps {
			seen[fp]++
		}
	}
	return seen
}

// TestOrganisationsIsolated: two organisations of one process share the
// data directory (one engine) and name their channel and receiver alike;
// each alert reaches exactly its own organisation's robot, the same alert in
// both organisations is no duplicate, and neither organisation's records
// show or resend the other's.
func TestOrganisationsIsolated(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	dir := queuetest.DataDir(t)
	n1, n2 := newFake("ops", 0, false), newFake("ops", 0, false)
	svc1 := openTest(t, testSettings(t, "ops"), &fakeCharter{}, func(c *Config) { c.DataDir, c.OrgID = dir, 1 }, n1)
	svc2 := openTest(t, testSettings(t, "ops"), &fakeCharter{}, func(c *Config) { c.DataDir, c.OrgID = dir, 2 }, n2)
	if svc1.e != svc2.e {
		t.Fatal("two organisations on one data directory have two engines")
	}
	ctx := context.Background()
	const each = 40
	ids := map[int64][]string{}
	for i := range each {
		for _, s := range []*Service{svc1, svc2} {
			res, err := s.Accept(ctx, "ops", payload(1, fmt.Sprintf("o%d-%02d-", s.Org(), i)))
			if err != nil {
				t.Fatal(err)
			}
			ids[s.Org()] = append(ids[s.Org()], res.ID)
		}
	}
	// The very same alert in both organisations: each gets it once.
	for _, s := range []*Service{svc1, svc2} {
		if res, err := s.Accept(ctx, "ops", payload(1, "same-")); err != nil || res.Duplicates != 0 {
			t.Fatalf("org %d: the other organisation's alert counted as a duplicate: %+v %v", s.Org(), res, err)
		}
	}
	for org, n := range map[int64]*fakeNotifier{1: n1, 2: n2} {
		waitFor(t, 20*time.Second, fmt.Sprintf("org %d's texts", org), func() bool { return len(delivered(n)) == each+1 })
	}
	for org, n := range map[int64]*fakeNotifier{1: n1, 2: n2} {
		for fp := range delivered(n) {
			if !strings.HasPrefix(fp, fmt.Sprintf("o%d-", org)) && !strings.HasPrefix(fp, "same-") {
				t.Errorf("org %d's robot got %s", org, fp)
			}
		}
	}
	for _, s := range []*Service{svc1, svc2} {
		list, err := s.Deliveries(ctx, 500, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != each+1 {
			t.Errorf("org %d lists %d deliveries, want its %d", s.Org(), len(list), each+1)
		}
		for _, d := range list {
			if fp := d.Alerts[0].Fingerprint; !strings.HasPrefix(fp, fmt.Sprintf("o%d-", s.Org())) && fp != "same-0000" {
				t.Errorf("org %d lists org's delivery of %s", s.Org(), fp)
			}
		}
		recent, err := s.Recent(ctx, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recent {
			if fp := r.Alert.Fingerprint; !strings.HasPrefix(fp, fmt.Sprintf("o%d-", s.Org())) && fp != "same-0000" {
				t.Errorf("org %d's recent alerts show %s", s.Org(), fp)
			}
		}
	}
	other := ids[1][0]
	if _, err := svc2.Delivery(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("org 2 read org 1's delivery: %v", err)
	}
	if _, _, err := svc2.ChartImage(ctx, other, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("org 2 read org 1's chart: %v", err)
	}
	if _, err := svc2.Resend(ctx, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("org 2 resent org 1's delivery: %v", err)
	}
	if _, _, err := svc1.ChartImage(ctx, other, ""); err != nil {
		t.Errorf("org 1 cannot read its own chart: %v", err)
	}
}

// TestOrganisationBacklogWaitsForItsSettings: an organisation whose
// instance went away keeps its queued texts (nobody else sends them) until
// its settings are registered again, then they go to its own robot.
func TestOrganisationBacklogWaitsForItsSettings(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	defer func(d time.Duration) { unregisteredSnooze = d }(unregisteredSnooze)
	unregisteredSnooze = 200 * time.Millisecond
	dir := queuetest.DataDir(t)
	n1 := newFake("ops", 0, false)
	down := newFake("ops", 0, false)
	down.fail = func(int, *channels.Message) error {
		return &channels.Error{Kind: channels.Retryable, StatusCode: 503, Msg: "unavailable"}
	}
	openTest(t, testSettings(t, "ops"), nil, func(c *Config) { c.DataDir, c.OrgID = dir, 1 }, n1)
	svc2 := openTest(t, testSettings(t, "ops"), nil, func(c *Config) { c.DataDir, c.OrgID = dir, 2 }, down)
	ctx := context.Background()
	for i := range 5 {
		if _, err := svc2.Accept(ctx, "ops", payload(1, fmt.Sprintf("b%d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "org 2's first attempts", func() bool { down.mu.Lock(); defer down.mu.Unlock(); return down.calls >= 5 })
	if err := svc2.Close(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if got := len(delivered(n1)); got != 0 {
		t.Fatalf("org 1's robot sent %d of org 2's alerts", got)
	}
	up := newFake("ops", 0, false)
	openTest(t, testSettings(t, "ops"), nil, func(c *Config) { c.DataDir, c.OrgID = dir, 2 }, up)
	waitFor(t, 20*time.Second, "org 2's backlog after its settings are back", func() bool { return len(delivered(up)) == 5 })
	if got := len(delivered(n1)); got != 0 {
		t.Fatalf("org 1's robot sent %d of org 2's alerts", got)
	}
}

// TestSettingsSaveLosesNothing reproduces the settings-save race the
// browser test found: a save adds a channel (routed, rate limited so its
// texts wait in River) while the old instance still runs. Before engines,
// the old instance's worker took the new channel's jobs and failed them for
// good ("channel … is not configured"). Every alert must arrive, and none
// may be failed.
func TestSettingsSaveLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	dir := queuetest.DataDir(t)
	ops := newFake("ops", 0, false)
	old := openTest(t, testSettings(t, "ops"), nil, func(c *Config) { c.DataDir = dir; c.RateWindow = 3100 * time.Millisecond }, ops)
	s := testSettings(t, "ops", "pager")
	s.Routes = []settings.Route{{Receiver: "ops", Channels: []string{"ops", "pager"}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	pager := newFake("pager", 3, false)
	pager.window = 3 * time.Second
	cur := openTest(t, s, nil, func(c *Config) { c.DataDir = dir; c.RateWindow = 3100 * time.Millisecond }, ops, pager)
	ctx := context.Background()
	const total = 30
	var ids []string
	for i := range total {
		// Webhooks in flight reach either instance.
		svc := cur
		if i%3 == 0 {
			svc = old
		}
		res, err := svc.Accept(ctx, "ops", payload(1, fmt.Sprintf("s%02d-", i)))
		if err != nil {
			t.Fatal(err)
		}
		if svc == cur {
			ids = append(ids, res.ID)
		}
	}
	ctx5, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := old.Close(ctx5); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every alert on both channels", func() bool {
		return len(delivered(ops)) == total && len(delivered(pager)) == len(ids)
	})
	for _, id := range ids {
		d, err := cur.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Channels {
			if c.Status == "failed" {
				t.Errorf("%s to %s failed: %s", id, c.Channel, c.LastError)
			}
		}
	}
	if hits := rateHits(pager); hits != 0 {
		t.Errorf("the rate-limited robot refused %d sends", hits)
	}
}

// TestChannelRemovedBySaveIsHeld: a text waiting for a channel that a
// settings save removes is held, not failed, with a record that says why,
// and is sent once a later save brings the channel back.
func TestChannelRemovedBySaveIsHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	dir := queuetest.DataDir(t)
	two := testSettings(t, "ops", "extra")
	slow := newFake("extra", 0, false)
	var down = true
	slow.fail = func(int, *channels.Message) error {
		if down {
			return &channels.Error{Kind: channels.Retryable, StatusCode: 503, Msg: "unavailable", RetryAfter: 2 * time.Second}
		}
		return nil
	}
	first := openTest(t, two, nil, func(c *Config) { c.DataDir = dir }, newFake("ops", 0, false), slow)
	ctx := context.Background()
	res, err := first.Accept(ctx, "ops", payload(1, "held-"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the first attempt", func() bool { slow.mu.Lock(); defer slow.mu.Unlock(); return slow.calls > 0 })
	// The save drops "extra".
	second := openTest(t, testSettings(t, "ops"), nil, func(c *Config) { c.DataDir = dir }, newFake("ops", 0, false))
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the record to say the text is held", func() bool {
		d, err := second.Delivery(ctx, res.ID)
		if err != nil {
			return false
		}
		for _, c := range d.Channels {
			if c.Channel == "extra" {
				return c.Status == "pending" && strings.Contains(c.LastError, "not in the current settings")
			}
		}
		return false
	})
	// A later save brings it back.
	back := newFake("extra", 0, false)
	openTest(t, two, nil, func(c *Config) { c.DataDir = dir }, newFake("ops", 0, false), back)
	waitFor(t, 30*time.Second, "the held text", func() bool { return len(delivered(back)) == 1 })
	d, err := second.Delivery(ctx, res.ID)
	if err != nil || d.Status != "sent" {
		t.Fatalf("%v %+v", err, d)
	}
}

// TestBrokenChannelRefusesNotification: a routed channel that cannot be
// built (its robot URL is missing) makes Accept refuse the notification
// before anything is stored, so the webhook answers 503 and Alertmanager
// keeps it; nothing is recorded as failed.
func TestBrokenChannelRefusesNotification(t *testing.T) {
	t.Parallel()
	s := testSettings(t, "ops", "broken")
	ok := newFake("ops", 0, false)
	svc := openTest(t, s, nil, func(c *Config) {
		c.Broken = map[string]error{"broken": errors.New("secureJsonData channels.broken.url is required")}
	}, ok)
	ctx := context.Background()
	_, err := svc.Accept(ctx, "ops", payload(1, "x"))
	var ce *ChannelError
	if !errors.Is(err, ErrChannelUnavailable) || !errors.As(err, &ce) || ce.Channel != "broken" {
		t.Fatalf("Accept: %v", err)
	}
	if list, _ := svc.Deliveries(ctx, 10, "", ""); len(list) != 0 {
		t.Fatalf("a refused notification was stored: %+v", list)
	}
	time.Sleep(300 * time.Millisecond)
	if len(ok.messages()) != 0 {
		t.Fatal("a refused notification was sent")
	}
}

// TestTestSendsTakeRateSlots: a dozen clicks on a channel's test button
// take the robot's slots like real sends, but leave half of them to alerts:
// the next alerts go out at once and the robot never refuses a message.
func TestTestSendsTakeRateSlots(t *testing.T) {
	n := newFake("ops", 20, false)
	n.window = 3 * time.Second
	svc := openTest(t, testSettings(t, "ops"), nil, func(c *Config) { c.RateWindow = 3100 * time.Millisecond }, n)
	ctx := context.Background()
	sample := channels.SampleMessage("en", nil)
	okTests, refused := 0, 0
	for range 12 {
		_, err := svc.SendTest(ctx, "ops", n, sample)
		switch {
		case err == nil:
			okTests++
		case channels.KindOf(err) == channels.Retryable && strings.Contains(err.Error(), "try the test again"):
			refused++
		default:
			t.Fatalf("test send: %v", err)
		}
	}
	if okTests != 10 || refused != 2 {
		t.Fatalf("%d test sends went out and %d were refused, want 10 and 2", okTests, refused)
	}
	start := time.Now()
	for i := range 10 {
		if _, err := svc.Accept(ctx, "ops", payload(1, fmt.Sprintf("t%02d-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "ten alerts", func() bool { return len(delivered(n)) >= 10+1 })
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("the alerts waited %s for the robot's slots", d)
	}
	if hits := rateHits(n); hits != 0 {
		t.Fatalf("the robot refused %d messages", hits)
	}
}

// TestSharedRobotSharesLimit: one robot configured in two organisations
// (the same URL) has one rate limit, not one per organisation.
func TestSharedRobotSharesLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("long: runs in the full suite, not in the -short loop")
	}
	dir := queuetest.DataDir(t)
	robot := newFake("ops", 6, false)
	robot.window = 3 * time.Second
	mk := func() *settings.Settings {
		s := testSettings(t, "ops")
		s.Secrets = map[string]string{settings.ChannelSecretKey("ops", settings.SecretURL): "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
		return s
	}
	tune := func(org int64) func(*Config) {
		return func(c *Config) { c.DataDir, c.OrgID, c.RateWindow = dir, org, 3100*time.Millisecond }
	}
	svc1 := openTest(t, mk(), nil, tune(1), robot)
	svc2 := openTest(t, mk(), nil, tune(2), robot)
	if svc1.rt.robot("ops") != svc2.rt.robot("ops") || strings.Contains(svc1.rt.robot("ops"), "key=k") {
		t.Fatalf("robot keys %q and %q", svc1.rt.robot("ops"), svc2.rt.robot("ops"))
	}
	ctx := context.Background()
	const each = 12
	for i := range each {
		for _, s := range []*Service{svc1, svc2} {
			if _, err := s.Accept(ctx, "ops", payload(1, fmt.Sprintf("r%d-%02d-", s.Org(), i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, 60*time.Second, "every alert of both organisations", func() bool { return len(delivered(robot)) == 2*each })
	if hits := rateHits(robot); hits != 0 {
		t.Fatalf("the robot refused %d messages: each organisation counted its own limit", hits)
	}
}
