import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { PluginPage } from '@grafana/runtime';
import {
  Alert,
  Badge,
  BadgeColor,
  Button,
  Column,
  Drawer,
  Field,
  Input,
  InteractiveTable,
  LoadingPlaceholder,
  RadioButtonGroup,
  Stack,
  useStyles2,
} from '@grafana/ui';
import { accessDenied, errorMessage, errorStatus, resourcePost, resourceUrl } from '../api/resources';
import type { Attempt, ChannelDelivery, Delivery, DeliveryList, ResendAnswer, SendPart } from '../api/types';
import { resourcePath, useResource } from '../api/useResource';
import { hasMessage, t } from '../i18n/i18n';
import { formatTime } from '../utils/format';

export type { Attempt, ChannelDelivery, Delivery } from '../api/types';

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
  const [status, setStatus] = React.useState<StatusFilter>('');
  const [receiver, setReceiver] = React.useState('');
  // The list follows the receiver filter once typing pauses, not on every key.
  const [receiverQuery, setReceiverQuery] = React.useState('');
  React.useEffect(() => {
    const id = setTimeout(() => setReceiverQuery(receiver.trim()), 300);
    return () => clearTimeout(id);
  }, [receiver]);
  const [openId, setOpenId] = React.useState<string | null>(null);
  const query = new URLSearchParams({ limit: '50', status, receiver: receiverQuery }).toString();
  const answer = useResource<DeliveryList>(resourcePath(`deliveries?${query}`));
  const list = answer.data ? (answer.data.deliveries ?? []) : null;
  const failure = answer.error ? errorMessage(answer.error) : '';
  // A caller without the Editor role: the page says which role it needs, not an error.
  const denied = accessDenied(answer.error);
  const columns = useListColumns(setOpenId);

  return (
    <PluginPage>
      <Stack direction="column" gap={2}>
        {!denied && (
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
              <Button icon="sync" variant="secondary" onClick={answer.reload}>
                {t('deliveries.refresh')}
              </Button>
            </Field>
          </Stack>
        )}

        {denied && (
          <Alert severity="info" title={t('access.title')} data-testid="access-denied">
            {denied}
          </Alert>
        )}
        {failure && !denied && (
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
        {list && list.length > 0 && <InteractiveTable<Delivery> columns={columns} data={list} getRowId={(d) => d.id} />}
      </Stack>
      {openId && <DeliveryDrawer id={openId} onClose={() => setOpenId(null)} onResent={answer.reload} />}
    </PluginPage>
  );
}

export default Deliveries;

/** What a send carried, in words ("text + chart", "digest"). */
function partText(part: SendPart | undefined): string {
  if (!part) {
    return '';
  }
  const key = `part.${part}`;
  return hasMessage(key) ? t(key) : part;
}

/** One channel's line in the list: status, timings, what was sent, the last error. */
function ChannelLine({ c }: { c: ChannelDelivery }) {
  const s = useStyles2(getStyles);
  return (
    <div title={c.lastError || undefined}>
      {c.channel} <StatusBadge status={c.status} />
      {c.textSentAt && c.textLatencyMs !== null && (
        <span className={s.weak}> {t('deliveries.textMs', { ms: c.textLatencyMs })}</span>
      )}
      {c.chartSentAt && c.chartLatencyMs !== null && (
        <span className={s.weak}> {t('deliveries.chartMs', { ms: c.chartLatencyMs })}</span>
      )}
      {c.part && c.part !== 'text' && <span className={s.weak}> · {partText(c.part)}</span>}
      {c.lastError && <div className={s.error}>{c.lastError}</div>}
    </div>
  );
}

/** The list's columns (InteractiveTable wants them memoised). */
function useListColumns(open: (id: string) => void): Array<Column<Delivery>> {
  const s = useStyles2(getStyles);
  return React.useMemo<Array<Column<Delivery>>>(
    () => [
      {
        id: 'receivedAt',
        header: t('deliveries.col.received'),
        sortType: 'string',
        cell: ({ row: { original: d } }) => <span data-testid={`delivery-${d.id}`}>{formatTime(d.receivedAt)}</span>,
      },
      { id: 'receiver', header: t('deliveries.col.receiver'), sortType: 'string' },
      {
        id: 'alerts',
        header: t('deliveries.col.alerts'),
        cell: ({ row: { original: d } }) => (
          <div>
            {d.alerts.slice(0, 3).map((a) => (
              <div key={a.fingerprint}>
                {a.alertname}
                {a.instance ? ` · ${a.instance}` : ''} <StatusBadge status={a.status} />
              </div>
            ))}
            {d.alerts.length > 3 && <div>{t('deliveries.more', { n: d.alerts.length - 3 })}</div>}
          </div>
        ),
      },
      {
        id: 'status',
        header: t('deliveries.col.status'),
        sortType: 'string',
        cell: ({ row: { original: d } }) => <StatusBadge status={d.status} />,
      },
      {
        id: 'channels',
        header: t('deliveries.col.channels'),
        cell: ({ row: { original: d } }) => (
          <div>
            {d.channels.map((c) => (
              <ChannelLine key={c.channel} c={c} />
            ))}
          </div>
        ),
      },
      {
        id: 'hasChart',
        header: t('deliveries.col.chart'),
        cell: ({ row: { original: d } }) =>
          d.hasChart ? (
            <ChartImage
              id={d.id}
              fingerprint={d.alerts[0]?.fingerprint}
              className={s.thumb}
              alt={t('deliveries.chartAlt', { name: d.alerts[0]?.alertname ?? '' })}
            />
          ) : (
            '–'
          ),
      },
      {
        id: 'actions',
        cell: ({ row: { original: d } }) => (
          <Button size="sm" variant="secondary" onClick={() => open(d.id)}>
            {t('deliveries.details')}
          </Button>
        ),
      },
    ],
    [open, s]
  );
}

const channelColumns: Array<Column<ChannelDelivery>> = [
  {
    id: 'channel',
    header: () => t('deliveries.col.channel'),
    cell: ({ row: { original: c } }) => (
      <>
        {c.channel} <Weak>({c.type})</Weak>
      </>
    ),
  },
  {
    id: 'status',
    header: () => t('deliveries.col.status'),
    cell: ({ row: { original: c } }) => <StatusBadge status={c.status} />,
  },
  { id: 'attempts', header: () => t('deliveries.col.attempts') },
  {
    id: 'textSentAt',
    header: () => t('deliveries.col.text'),
    cell: ({ row: { original: c } }) =>
      c.textSentAt ? (
        <>
          {`${formatTime(c.textSentAt)}${latency(c.textLatencyMs)}`}
          {c.part && c.part !== 'text' && <Weak> · {partText(c.part)}</Weak>}
        </>
      ) : (
        '–'
      ),
  },
  {
    id: 'chartSentAt',
    header: () => t('deliveries.col.chart'),
    cell: ({ row: { original: c } }) =>
      c.chartSentAt ? `${formatTime(c.chartSentAt)}${latency(c.chartLatencyMs)}` : c.chartNote || '–',
  },
  {
    id: 'renderer',
    header: () => t('deliveries.col.renderer'),
    cell: ({ row: { original: c } }) => (
      <>
        {c.renderer || '–'}
        {c.fallbackReason && <Weak block>{t('deliveries.fallback', { reason: c.fallbackReason })}</Weak>}
      </>
    ),
  },
  {
    id: 'lastError',
    header: () => t('deliveries.col.error'),
    cell: ({ row: { original: c } }) => <ErrorText>{c.lastError}</ErrorText>,
  },
];

const attemptColumns: Array<Column<Attempt>> = [
  { id: 'at', header: () => t('deliveries.col.time'), cell: ({ row: { original: a } }) => formatTime(a.at) },
  { id: 'channel', header: () => t('deliveries.col.channel') },
  { id: 'part', header: () => t('deliveries.col.part'), cell: ({ row: { original: a } }) => partText(a.part) },
  {
    id: 'ok',
    header: () => t('deliveries.col.result'),
    cell: ({ row: { original: a } }) => (
      <Badge color={a.ok ? 'green' : 'red'} text={a.ok ? t('deliveries.ok') : t('deliveries.notOk')} />
    ),
  },
  { id: 'statusCode', header: 'HTTP', cell: ({ row: { original: a } }) => a.statusCode || '–' },
  {
    id: 'durationMs',
    header: () => t('deliveries.col.duration'),
    cell: ({ row: { original: a } }) => `${a.durationMs} ms`,
  },
  {
    id: 'error',
    header: () => t('deliveries.col.error'),
    cell: ({ row: { original: a } }) => <ErrorText>{a.error}</ErrorText>,
  },
];

function Weak({ children, block }: { children: React.ReactNode; block?: boolean }) {
  const s = useStyles2(getStyles);
  return block ? <div className={s.weak}>{children}</div> : <span className={s.weak}>{children}</span>;
}

function ErrorText({ children }: { children: React.ReactNode }) {
  const s = useStyles2(getStyles);
  return <span className={s.error}>{children}</span>;
}

/** Detail view: every channel, every attempt, the charts, and resend. */
function DeliveryDrawer({ id, onClose, onResent }: { id: string; onClose: () => void; onResent: () => void }) {
  const s = useStyles2(getStyles);
  const answer = useResource<Delivery>(resourcePath(`deliveries/${encodeURIComponent(id)}`));
  const d = answer.data;
  const failure = answer.error
    ? errorStatus(answer.error) === 404
      ? t('deliveries.gone')
      : errorMessage(answer.error)
    : '';
  const [resend, setResend] = React.useState<{ ok: boolean; text: string } | null>(null);
  const [resending, setResending] = React.useState(false);

  const doResend = async () => {
    setResending(true);
    setResend(null);
    try {
      const r = await resourcePost<ResendAnswer>(`deliveries/${encodeURIComponent(id)}/resend`);
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
          <Stack gap={2} alignItems="center" wrap="wrap" minWidth={0}>
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
          <div className={s.scroll}>
            <InteractiveTable<ChannelDelivery> columns={channelColumns} data={d.channels} getRowId={(c) => c.channel} />
          </div>

          <h4>{t('deliveries.attempts')}</h4>
          {(d.attempts ?? []).length === 0 ? (
            <span>{t('deliveries.noAttempts')}</span>
          ) : (
            <div className={s.scroll}>
              <InteractiveTable<Attempt>
                columns={attemptColumns}
                data={d.attempts ?? []}
                getRowId={(_a, i) => String(i)}
              />
            </div>
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
  // Wide tables scroll inside the drawer instead of widening it past the window.
  scroll: css({ maxWidth: '100%', overflowX: 'auto' }),
  thumb: css({ width: 160, height: 'auto', borderRadius: theme.shape.radius.default }),
  full: css({ maxWidth: '100%', borderRadius: theme.shape.radius.default }),
  weak: css({ color: theme.colors.text.secondary }),
  error: css({ color: theme.colors.error.text, wordBreak: 'break-word' }),
});
