import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Badge,
  BadgeColor,
  Button,
  Drawer,
  Field,
  Input,
  LoadingPlaceholder,
  RadioButtonGroup,
  Stack,
  useStyles2,
} from '@grafana/ui';
import { errorMessage, errorStatus, resourceGet, resourcePost, resourceUrl } from '../api/resources';
import { hasMessage, t } from '../i18n/i18n';

/** One accepted webhook notification (notes/API.md "Delivery"). */
export interface Delivery {
  id: string;
  receivedAt: string;
  receiver: string;
  status: 'pending' | 'sent' | 'partial' | 'failed';
  groupKey: string;
  /** Set on a resent notification: the id it copies. */
  resentFrom?: string;
  alerts: Array<{ fingerprint: string; alertname: string; status: string; instance?: string; severity?: string }>;
  channels: DeliveryChannel[];
  hasChart: boolean;
  attempts?: Attempt[];
}

export interface DeliveryChannel {
  channel: string;
  type: string;
  status: 'pending' | 'sent' | 'failed' | 'deduplicated';
  attempts: number;
  lastError: string;
  textSentAt: string | null;
  chartSentAt: string | null;
  /** Milliseconds from receipt to the text / chart being accepted; null until sent. */
  textLatencyMs: number | null;
  chartLatencyMs: number | null;
  renderer: string;
  fallbackReason: string;
  chartNote: string;
}

export interface Attempt {
  channel: string;
  part: 'text' | 'chart' | 'both' | 'digest';
  at: string;
  ok: boolean;
  error: string;
  statusCode: number;
  durationMs: number;
}

const statusColor: Record<string, BadgeColor> = {
  sent: 'green',
  partial: 'orange',
  failed: 'red',
  pending: 'blue',
  deduplicated: 'purple',
  firing: 'red',
  resolved: 'green',
};

export function StatusBadge({ status }: { status: string }) {
  const key = `status.${status}`;
  return <Badge color={statusColor[status] ?? 'darkgrey'} text={hasMessage(key) ? t(key) : status} />;
}

const formatTime = (s: string | null | undefined) => (s ? new Date(s).toLocaleString() : '–');
const latency = (ms: number | null) => (ms === null ? '' : ` · ${ms} ms`);

/** URL of a delivery's chart image for one alert. */
export function chartUrl(id: string, fingerprint?: string): string {
  const q = fingerprint ? `?fingerprint=${encodeURIComponent(fingerprint)}` : '';
  return resourceUrl(`deliveries/${encodeURIComponent(id)}/chart${q}`);
}

/** A chart image that disappears quietly when the backend has none (404). */
function ChartImage({
  id,
  fingerprint,
  className,
  alt,
}: {
  id: string;
  fingerprint?: string;
  className?: string;
  alt: string;
}) {
  const [failed, setFailed] = React.useState(false);
  if (failed) {
    return <span>{t('deliveries.noChart')}</span>;
  }
  return (
    <img
      className={className}
      src={chartUrl(id, fingerprint)}
      alt={alt}
      loading="lazy"
      onError={() => setFailed(true)}
    />
  );
}

type StatusFilter = '' | Delivery['status'];

/** "Deliveries": recent notifications, per-channel status, timings, errors, charts, resend. */
function Deliveries() {
  const s = useStyles2(getStyles);
  const [status, setStatus] = React.useState<StatusFilter>('');
  const [receiver, setReceiver] = React.useState('');
  // The list follows the receiver filter once typing pauses, not on every key.
  const [receiverQuery, setReceiverQuery] = React.useState('');
  React.useEffect(() => {
    const id = setTimeout(() => setReceiverQuery(receiver.trim()), 300);
    return () => clearTimeout(id);
  }, [receiver]);
  const [list, setList] = React.useState<Delivery[] | null>(null);
  const [failure, setFailure] = React.useState('');
  const [openId, setOpenId] = React.useState<string | null>(null);
  const [reload, setReload] = React.useState(0);

  React.useEffect(() => {
    let cancelled = false;
    const q = new URLSearchParams({ limit: '50', status, receiver: receiverQuery });
    resourceGet<{ deliveries: Delivery[] }>(`deliveries?${q.toString()}`)
      .then((r) => {
        if (!cancelled) {
          setFailure('');
          setList(r.deliveries ?? []);
        }
      })
      .catch((e) => !cancelled && setFailure(errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [status, receiverQuery, reload]);

  return (
    <PluginPage>
      <Stack direction="column" gap={2}>
        <Stack gap={2} alignItems="flex-end" wrap="wrap">
          <Field label={t('deliveries.filter.status')}>
            <RadioButtonGroup<StatusFilter>
              options={[
                { label: t('deliveries.filter.all'), value: '' },
                { label: t('status.pending'), value: 'pending' },
                { label: t('status.sent'), value: 'sent' },
                { label: t('status.partial'), value: 'partial' },
                { label: t('status.failed'), value: 'failed' },
              ]}
              value={status}
              onChange={setStatus}
            />
          </Field>
          <Field label={t('deliveries.filter.receiver')}>
            <Input
              id="ac-filter-receiver"
              width={25}
              value={receiver}
              onChange={(e) => setReceiver(e.currentTarget.value)}
            />
          </Field>
          <Field label="">
            <Button icon="sync" variant="secondary" onClick={() => setReload((n) => n + 1)}>
              {t('deliveries.refresh')}
            </Button>
          </Field>
        </Stack>

        {failure && (
          <Alert severity="error" title={t('deliveries.loadFailed')}>
            {failure}
          </Alert>
        )}
        {!list && !failure && <LoadingPlaceholder text={t('deliveries.loading')} />}
        {list && list.length === 0 && (
          <Alert severity="info" title={t('deliveries.none')}>
            {t('deliveries.none.desc')}
          </Alert>
        )}
        {list && list.length > 0 && (
          <table className={s.table}>
            <thead>
              <tr>
                <th>{t('deliveries.col.received')}</th>
                <th>{t('deliveries.col.receiver')}</th>
                <th>{t('deliveries.col.alerts')}</th>
                <th>{t('deliveries.col.status')}</th>
                <th>{t('deliveries.col.channels')}</th>
                <th>{t('deliveries.col.chart')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.id} data-testid={`delivery-${d.id}`}>
                  <td>{formatTime(d.receivedAt)}</td>
                  <td>{d.receiver}</td>
                  <td>
                    {d.alerts.slice(0, 3).map((a) => (
                      <div key={a.fingerprint}>
                        {a.alertname}
                        {a.instance ? ` · ${a.instance}` : ''} <StatusBadge status={a.status} />
                      </div>
                    ))}
                    {d.alerts.length > 3 && <div>{t('deliveries.more', { n: d.alerts.length - 3 })}</div>}
                  </td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>
                    {d.channels.map((c) => (
                      <div key={c.channel} title={c.lastError || undefined}>
                        {c.channel} <StatusBadge status={c.status} />
                        {c.textSentAt && c.textLatencyMs !== null && (
                          <span className={s.weak}> {t('deliveries.textMs', { ms: c.textLatencyMs })}</span>
                        )}
                        {c.chartSentAt && c.chartLatencyMs !== null && (
                          <span className={s.weak}> {t('deliveries.chartMs', { ms: c.chartLatencyMs })}</span>
                        )}
                        {c.lastError && <div className={s.error}>{c.lastError}</div>}
                      </div>
                    ))}
                  </td>
                  <td>
                    {d.hasChart ? (
                      <ChartImage
                        id={d.id}
                        fingerprint={d.alerts[0]?.fingerprint}
                        className={s.thumb}
                        alt={t('deliveries.chartAlt', { name: d.alerts[0]?.alertname ?? '' })}
                      />
                    ) : (
                      '–'
                    )}
                  </td>
                  <td>
                    <Button size="sm" variant="secondary" onClick={() => setOpenId(d.id)}>
                      {t('deliveries.details')}
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Stack>
      {openId && (
        <DeliveryDrawer id={openId} onClose={() => setOpenId(null)} onResent={() => setReload((n) => n + 1)} />
      )}
    </PluginPage>
  );
}

export default Deliveries;

/** Detail view: every channel, every attempt, the charts, and resend. */
function DeliveryDrawer({ id, onClose, onResent }: { id: string; onClose: () => void; onResent: () => void }) {
  const s = useStyles2(getStyles);
  const [d, setD] = React.useState<Delivery | null>(null);
  const [failure, setFailure] = React.useState('');
  const [resend, setResend] = React.useState<{ ok: boolean; text: string } | null>(null);
  const [resending, setResending] = React.useState(false);

  React.useEffect(() => {
    let cancelled = false;
    resourceGet<Delivery>(`deliveries/${encodeURIComponent(id)}`)
      .then((x) => !cancelled && setD(x))
      .catch((e) => !cancelled && setFailure(errorStatus(e) === 404 ? t('deliveries.gone') : errorMessage(e)));
    return () => {
      cancelled = true;
    };
  }, [id]);

  const doResend = async () => {
    setResending(true);
    setResend(null);
    try {
      const r = await resourcePost<{ ok: boolean; id: string }>(`deliveries/${encodeURIComponent(id)}/resend`);
      setResend({ ok: true, text: t('deliveries.resent', { id: r.id }) });
      onResent();
    } catch (e) {
      setResend({ ok: false, text: errorStatus(e) === 404 ? t('deliveries.gone') : errorMessage(e) });
    } finally {
      setResending(false);
    }
  };

  return (
    <Drawer title={t('deliveries.detail', { id })} onClose={onClose} size="lg">
      {failure && (
        <Alert severity="error" title={t('deliveries.detailFailed')}>
          {failure}
        </Alert>
      )}
      {!d && !failure && <LoadingPlaceholder text={t('deliveries.loading')} />}
      {d && (
        <Stack direction="column" gap={2}>
          <Stack gap={2} alignItems="center" wrap="wrap">
            <StatusBadge status={d.status} />
            <span>{formatTime(d.receivedAt)}</span>
            <span>
              {t('deliveries.col.receiver')}: {d.receiver}
            </span>
            <code>{d.groupKey}</code>
            {d.resentFrom && <span>{t('deliveries.resentFrom', { id: d.resentFrom })}</span>}
          </Stack>
          <Stack gap={1} alignItems="center">
            <Button icon="repeat" onClick={doResend} disabled={resending}>
              {resending ? t('deliveries.resending') : t('deliveries.resend')}
            </Button>
          </Stack>
          {resend && (
            <Alert
              severity={resend.ok ? 'success' : 'error'}
              title={resend.ok ? t('deliveries.resendOk') : t('deliveries.resendFailed')}
            >
              {resend.text}
            </Alert>
          )}

          <h4>{t('deliveries.col.channels')}</h4>
          <table className={s.table}>
            <thead>
              <tr>
                <th>{t('deliveries.col.channel')}</th>
                <th>{t('deliveries.col.status')}</th>
                <th>{t('deliveries.col.attempts')}</th>
                <th>{t('deliveries.col.text')}</th>
                <th>{t('deliveries.col.chart')}</th>
                <th>{t('deliveries.col.renderer')}</th>
                <th>{t('deliveries.col.error')}</th>
              </tr>
            </thead>
            <tbody>
              {d.channels.map((c) => (
                <tr key={c.channel}>
                  <td>
                    {c.channel} <span className={s.weak}>({c.type})</span>
                  </td>
                  <td>
                    <StatusBadge status={c.status} />
                  </td>
                  <td>{c.attempts}</td>
                  <td>{c.textSentAt ? `${formatTime(c.textSentAt)}${latency(c.textLatencyMs)}` : '–'}</td>
                  <td>
                    {c.chartSentAt ? `${formatTime(c.chartSentAt)}${latency(c.chartLatencyMs)}` : c.chartNote || '–'}
                  </td>
                  <td>
                    {c.renderer || '–'}
                    {c.fallbackReason && (
                      <div className={s.weak}>{t('deliveries.fallback', { reason: c.fallbackReason })}</div>
                    )}
                  </td>
                  <td className={s.error}>{c.lastError}</td>
                </tr>
              ))}
            </tbody>
          </table>

          <h4>{t('deliveries.attempts')}</h4>
          {(d.attempts ?? []).length === 0 ? (
            <span>{t('deliveries.noAttempts')}</span>
          ) : (
            <table className={s.table}>
              <thead>
                <tr>
                  <th>{t('deliveries.col.time')}</th>
                  <th>{t('deliveries.col.channel')}</th>
                  <th>{t('deliveries.col.part')}</th>
                  <th>{t('deliveries.col.result')}</th>
                  <th>HTTP</th>
                  <th>{t('deliveries.col.duration')}</th>
                  <th>{t('deliveries.col.error')}</th>
                </tr>
              </thead>
              <tbody>
                {(d.attempts ?? []).map((a, i) => (
                  <tr key={i}>
                    <td>{formatTime(a.at)}</td>
                    <td>{a.channel}</td>
                    <td>{a.part}</td>
                    <td>
                      <Badge color={a.ok ? 'green' : 'red'} text={a.ok ? t('deliveries.ok') : t('deliveries.notOk')} />
                    </td>
                    <td>{a.statusCode || '–'}</td>
                    <td>{a.durationMs} ms</td>
                    <td className={s.error}>{a.error}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          {d.hasChart && (
            <>
              <h4>{t('deliveries.charts')}</h4>
              {d.alerts.map((a) => (
                <div key={a.fingerprint}>
                  <div>
                    {a.alertname}
                    {a.instance ? ` · ${a.instance}` : ''}
                  </div>
                  <ChartImage
                    id={d.id}
                    fingerprint={a.fingerprint}
                    className={s.full}
                    alt={t('deliveries.chartAlt', { name: a.alertname })}
                  />
                </div>
              ))}
            </>
          )}
        </Stack>
      )}
    </Drawer>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    '& th, & td': {
      textAlign: 'left',
      verticalAlign: 'top',
      padding: theme.spacing(0.75, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
    },
    '& th': { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightMedium },
  }),
  thumb: css({ width: 160, height: 'auto', borderRadius: theme.shape.radius.default }),
  full: css({ maxWidth: '100%', borderRadius: theme.shape.radius.default }),
  weak: css({ color: theme.colors.text.secondary }),
  error: css({ color: theme.colors.error.text, wordBreak: 'break-word' }),
});
