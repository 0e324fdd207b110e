import React from 'react';
import { Alert, Button, Checkbox, Field, FieldSet, IconButton, Input, Stack, Text } from '@grafana/ui';
import { RouteDraft, newKey } from '../../settings/draft';
import { t } from '../../i18n/i18n';
import { TextField } from './fields';
import { SectionProps } from './types';

/** Receivers → channels routing, with optional label matchers. */
export function RoutesSection({ draft, update, issue }: SectionProps) {
  const channels = draft.channels.map((c) => ({ ref: c.key, name: c.data.name.trim() })).filter((c) => c.name);
  const setRoutes = (change: (r: RouteDraft[]) => RouteDraft[]) => update((d) => ({ ...d, routes: change(d.routes) }));
  const setRoute = (key: string, patch: Partial<RouteDraft>) =>
    setRoutes((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  return (
    <FieldSet label={t('routes.title')}>
      <Alert severity="info" title={t('routes.help.title')}>
        {draft.routes.length === 0 ? t('routes.none') : t('routes.help')}
      </Alert>
      {draft.routes.map((r, i) => {
        const p = `routes[${i}]`;
        // Names a route points at that are not (or no longer) channels, so they can be seen and removed.
        const dangling = r.channels.filter((ref) => ref.startsWith('?')).map((ref) => ({ ref, name: ref.slice(1) }));
        const channelErrors = [
          issue(`${p}.channels`),
          ...r.channels.map((_, k) => issue(`${p}.channels[${k}]`)),
        ].filter(Boolean);
        return (
          <div key={r.key} data-testid={`route-${i}`}>
            <Stack alignItems="center" justifyContent="space-between">
              <Text variant="h6">{t('routes.route', { n: i + 1 })}</Text>
              <IconButton
                name="trash-alt"
                tooltip={t('routes.remove', { n: i + 1 })}
                onClick={() => setRoutes((rs) => rs.filter((x) => x.key !== r.key))}
              />
            </Stack>
            <TextField
              id={`ac-route-${i}-receiver`}
              label={t('routes.receiver')}
              description={t('routes.receiver.desc')}
              placeholder="ops"
              value={r.receiver}
              error={issue(`${p}.receiver`)}
              onChange={(v) => setRoute(r.key, { receiver: v })}
            />
            <Field
              label={t('routes.channels')}
              invalid={channelErrors.length > 0 || undefined}
              error={channelErrors.join('; ')}
            >
              <Stack gap={2} wrap="wrap">
                {[...channels, ...dangling].map((c) => (
                  <Checkbox
                    key={c.ref}
                    label={c.ref.startsWith('?') ? `${c.name} ⚠` : c.name}
                    value={r.channels.includes(c.ref)}
                    onChange={(e) =>
                      setRoute(r.key, {
                        channels: e.currentTarget.checked
                          ? [...r.channels, c.ref]
                          : r.channels.filter((x) => x !== c.ref),
                      })
                    }
                  />
                ))}
                {channels.length === 0 && dangling.length === 0 && <span>{t('routes.noChannels')}</span>}
              </Stack>
            </Field>
            <Field label={t('routes.match')} description={t('routes.match.desc')}>
              <Stack direction="column" gap={1}>
                {r.match.map((m, k) => (
                  <Stack key={m.key} gap={1} alignItems="center">
                    <Input
                      width={20}
                      aria-label={t('routes.match.name', { n: k + 1 })}
                      placeholder="severity"
                      value={m.name}
                      onChange={(e) =>
                        setRoute(r.key, {
                          match: r.match.map((x) => (x.key === m.key ? { ...x, name: e.currentTarget.value } : x)),
                        })
                      }
                    />
                    <span>=</span>
                    <Input
                      width={20}
                      aria-label={t('routes.match.value', { n: k + 1 })}
                      placeholder="critical"
                      value={m.value}
                      onChange={(e) =>
                        setRoute(r.key, {
                          match: r.match.map((x) => (x.key === m.key ? { ...x, value: e.currentTarget.value } : x)),
                        })
                      }
                    />
                    <IconButton
                      name="times"
                      tooltip={t('routes.match.remove', { n: k + 1 })}
                      onClick={() => setRoute(r.key, { match: r.match.filter((x) => x.key !== m.key) })}
                    />
                  </Stack>
                ))}
                <div>
                  <Button
                    size="sm"
                    variant="secondary"
                    icon="plus"
                    onClick={() => setRoute(r.key, { match: [...r.match, { key: newKey('m'), name: '', value: '' }] })}
                  >
                    {t('routes.match.add')}
                  </Button>
                </div>
              </Stack>
            </Field>
          </div>
        );
      })}
      <Button
        icon="plus"
        variant="secondary"
        onClick={() => setRoutes((rs) => [...rs, { key: newKey('rt'), receiver: '', channels: [], match: [] }])}
      >
        {t('routes.add')}
      </Button>
    </FieldSet>
  );
}
