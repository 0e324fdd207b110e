// Package delivery is AlertChart's durable delivery pipeline: the part that
// keeps the product's promise that an accepted alert is never lost and its
// text never waits for a chart.
//
// # Flow
//
// Whether a notification may be accepted is intake's decision alone
// (pkg/intake validates the payload and the receiver and answers client
// mistakes with 4xx); Accept trusts it. Accept persists the notification
// and one outbox row per channel (alertchart_channel) in a single
// transaction, shared with the webhooks that arrived meanwhile (group
// commit), and only then returns; the webhook
// answers 200. If anything fails Accept returns an error and the webhook
// answers 503, so Alertmanager retries (it drops notifications answered
// with 4xx). Alerts routed to a channel that already had the same
// (receiver, channel, fingerprint, status, startsAt) within
// delivery.dedupeWindow are recorded as duplicates and not sent again
// (Alertmanager retries, HA Alertmanager pairs, repeat_interval).
//
// The text goes out at once, sent by the channel's lane (lane.go): one
// goroutine per channel that Accept hands the committed row to with the
// notification in memory, so a first attempt costs no River job round trip
// (insert, fetch, completion, reading back the row). The lane takes the
// rate slots, sends and records the outcome in one transaction; whatever it
// cannot finish becomes a River text job: a robot without a free slot (its
// backlog is merged into digests, see Storm control), a failed send
// (retried as below), a text that may wait for its chart on a platform
// that combines text and image, a closing Service. Texts of channels
// without a lane (unconfigured, or a lane full) get their River job in
// Accept's transaction. The River text job does what the lane does, plus
// digests. A lane of a channel without charts that falls a second behind
// (a flood to a robot without a rate limit) hands what waits to River as
// one digest (laneCatchUp): every alert in chat within seconds, and still
// one message in flight per channel. Its charts (at most
// Config.MaxChartsPerNotification per notification) are rendered in the
// background by the Charter, once per alert however many channels wait. A
// platform whose Limits().CombinesTextAndImage is true gets one message
// (channels.PartBoth) if the chart is ready within chart.budget of
// acceptance; otherwise the text goes alone (PartText) and a chart job sends
// the chart as its own message (PartChart) or, if there is no chart, one
// short note: a PartChart message with Chart == nil and a ChartNote in the
// channel's language from pkg/nochart ("图表不可用：Prometheus 查询失败"; no
// URL, query or upstream error — the record's chart_note keeps the full
// reason). A chart already known to have failed within the budget puts
// the note in the combined platform's text instead; quiet reasons (no data
// source, chart_disable) are recorded and not sent. Charts are asked in each
// channel's language when the Charter is a LanguageCharter, and cached and
// stored (alertchart_chart) per language.
//
// # Retries
//
// A failed send is retried with exponential backoff and jitter (0.5 s doubling
// to 5 min), never earlier than the platform's Retry-After, which also pauses
// the whole channel for every replica. Permanent and BadCredentials errors
// fail at once; a combined message that is TooBig is retried as text + chart.
// After delivery.retryHorizon (default 1 h) the delivery is marked failed.
// As a safety net, the periodic maintenance job gives a fresh text job to
// any pending text that has been waiting a while without a live job to send
// it (its own or its digest owner's) and not held by a lane of the process,
// and logs it as an error.
//
// # Storm control
//
// Every send first reserves slots in a per-channel sliding window stored in
// the queue database (see ratelimit.go; a lane sending to a robot with a
// high limit takes them in small blocks, see lease.go), one per platform
// message the send
// will cost (channels.CostOf: a WeCom text followed by its mention message
// costs two), so a robot's limits hold across replicas: every window of
// Limits().Rates() — the platform's short window (Feishu 5 a second, Slack
// one a second…) and its minute (Limits().PerMinute, or the channel's
// rateLimitPerMinute, which replaces only the minute). A text refused by
// the short window alone waits its turn and goes on its own; Result.Pause
// on a successful answer holds the robot like Retry-After. When a robot
// has no free slot in its minute, or more texts wait for it than its short
// window sends in 10 s, waiting notifications are merged:
// the first job to wait becomes the owner of a digest, later ones join it
// (up to Config.MaxDigestAlerts alerts), and when a slot frees the owner
// sends one message (Message.Digest). A digest is sized by what the
// platform's message can carry, not by a count: the channel says which
// alerts the text of a message will name once shrunk to its size limit
// (channels.Fitter, the limit its Send uses), and the digest carries only
// the notifications it names whole, measured again after dropping the
// others (digest.go fitDigest). Only those are recorded sent. The rest stay
// claimed and pass, with the record of the send, to the oldest of them:
// its job sends the next digest as soon as the next slot frees, so a
// backlog goes out one message per free slot. A notification too big for
// any message goes alone, shrunk as its own message would be. Follow-up
// charts, and the note that says a chart is unavailable, take a slot only
// when the window has room for every text waiting for the robot and for
// them (chart.go, spareSlot): they are skipped, and the record says so,
// when waiting text needs the slots, and wait for a slot when none is free
// but no text needs one. Images are given up first when the budget is
// short; no alert text is dropped.
//
// A digest carries at most one image, an overview of its alerts, when the
// Charter is also an OverviewCharter (see overview.go). Drawing starts when
// the digest send starts and may take chart.budget (never more than
// Config.ChartTimeout). On a platform that combines text and image the
// digest goes as one PartBoth message if the overview is ready in time and
// the slots it costs are free (several slots only while no
// other text waits); otherwise the text goes alone. On a platform that needs
// separate messages (WeCom) the text goes at once and the overview follows
// as a PartChart digest message only if it is ready in time, a slot is free
// and no other text is pending for the robot, checked under the same lock
// that joins texts to digests. A failed overview image is not retried. The
// outcome ("overview chart sent with the digest", "… skipped: robot rate
// limit", "… skipped: alert text is waiting for the robot", "… unavailable:
// <reason>") is the chart_note of every digested delivery, and the image is
// stored once, with the digest's first delivery, under the fingerprint
// "overview/<channel>".
//
// # Queue and data directory
//
// The queue is River (github.com/riverqueue/river). By default it uses SQLite
// (riversqlite over modernc.org/sqlite, CGO-free) in a file delivery.db of
// the data directory chosen by ChooseDataDir:
//
//  1. settings delivery.dataDir;
//  2. $GF_PLUGIN_DATA_DIR, which Grafana sets from
//     `[plugin.alertchart-webhook-app]` `data_dir = /var/lib/grafana/alertchart`
//     in grafana.ini (every key of a plugin's ini section reaches the plugin
//     as GF_PLUGIN_<KEY>);
//  3. $GF_PATHS_DATA/alertchart (Grafana's data path, when exported);
//  4. a directory under the system temp dir, with a health warning
//     (Service.Warning), since it may not survive a reboot.
//
// One process owns a data directory: it holds an OS lock on
// delivery.lock there, and a second process is refused with an error that
// names the directory. Services of the same process (a settings change
// creates the new instance before disposing the old one) share the SQLite
// connection. That one connection serves the webhook, River and the
// workers; a priority gate (internal/store/sqlitegate.go) lets Accept's
// group commit go first so the webhook answers quickly under load. When the
// first Service of a process opens the file, jobs left "running" by a
// crashed process are made available again, and pending texts no job will
// send (those a dead process held in its lanes) get one.
//
// # Durability
//
// The SQLite file runs in WAL mode with synchronous=NORMAL: an acknowledged
// notification survives a killed process, not an OS crash or power loss.
// With delivery.sync "full", Accept's group commit returns only after the
// write-ahead log was fsynced (see store.Sync), so it survives those too;
// the fsync is shared by every webhook committed while the previous one
// ran, and runs after the connection is released. Send records are never
// fsynced: a power loss may repeat a message, never lose one. Checkpoints
// run from a connection of their own, off the webhook's path.
//
// A kill -9 repeats at most one message per channel: a lane, and a River
// job, sends a channel's next text only after the previous one is recorded
// (lockChannel), and a crash can only repeat what was sent but not yet
// recorded.
//
// With delivery.queue = "postgres" (secret postgresDsn) the queue and the
// records live in PostgreSQL (riverpgxv5) and several Grafana replicas share
// them: River hands each job to one replica, and the rate-limit window and
// digests are shared through the same tables. Every replica writes a
// heartbeat every Config.HeartbeatInterval; one silent for
// Config.ReplicaTimeout is taken over by another (liveness.go): the jobs it
// was running and the rows its lanes held go back to the queue, about 12 s
// after it died with the defaults (River's rescue after Config.RescueAfter
// stays as a backstop). Texts a lane could not hand to River while the
// database was away are handed over as soon as it answers (untilStored).
// Robots with a small limit (under 1,200 a minute) are sent to through
// River only on PostgreSQL.
//
// # Decisions and storage
//
// This package decides what to send, when, and what to do after a failure;
// internal/store holds every SQL statement, the schema, the SQLite gate,
// group commit and the River client bound to the database, with typed
// statuses (store.Pending, store.Sent, …). The work is split by concern:
// engine.go and register.go (the process's engine per queue database, and
// the organisations registered with it), accept.go (Accept), lane.go and
// lease.go (first attempts), holds.go (the rows lanes hold), catchup.go (a
// lane that fell behind sends a digest), handoff.go (texts a lane lets go,
// back to River), liveness.go (replicas' heartbeats and take-over), text.go
// (claims, single sends), outcome.go (recording a send: sent, failed,
// handed back), digest.go (storm digests), overview.go (a digest's overview
// chart), chart.go (follow-up charts and notes), retry.go (the one retry
// decision: backoff, Retry-After pause, retry horizon), ratelimit.go.
// Job args carry their River insert options (river.JobArgsWithInsertOpts).
//
// # Records, metrics, shutdown
//
// Every delivery, channel outcome, attempt and chart image is kept for
// delivery.retention in tables next to River's and read through Deliveries,
// Delivery, ChartImage and Resend (package resources serves them as
// GET /deliveries…, behind its caller checks), and through Recent, the one
// list of the last alerts received (GET /recent): read from the queue
// database, per organisation, so every replica and every settings save
// see the same. Self-metrics (alertchart_*) are registered on
// Config.Registerer. Close stops taking work, hands the lanes' waiting texts
// to River, lets running sends finish until its context ends and then
// cancels them; a cancelled send is re-queued, so a send cut short may be
// repeated (at least once), never lost.
package delivery
