import React from 'react';
import {
  Alert,
  Button,
  Collapse,
  Combobox,
  Field,
  FieldSet,
  RadioButtonGroup,
  Stack,
  Switch,
  TextArea,
} from '@grafana/ui';
import { ChannelDraft, SecretState, newKey, removeChannel } from '../../settings/draft';
import {
  CHANNEL_SPECS,
  CHANNEL_TYPES,
  Channel,
  ChannelOptionField,
  ChannelSecretField,
  isChannelType,
} from '../../settings/model';
import { MessageKey, hasMessage, t } from '../../i18n/i18n';
import { ListField, NumberField, SecretField, TextField } from './fields';
import { SectionProps } from './types';
import { ChannelTest } from './ChannelTest';

interface Props extends SectionProps {
  /** The saved settings differ from the form (tests run against saved settings). */
  dirty: boolean;
}

/** Chat channels: add, edit, remove, test. */
export function ChannelsSection({ draft, update, issue, dirty }: Props) {
  const [open, setOpen] = React.useState<Record<string, boolean>>({});

  const setChannels = (change: (c: ChannelDraft[]) => ChannelDraft[]) =>
    update((d) => ({ ...d, channels: change(d.channels) }));

  const add = () => {
    const key = newKey('ch');
    setChannels((cs) => [...cs, { key, originalName: null, data: { name: '', type: 'wecom' }, secrets: {} }]);
    setOpen((o) => ({ ...o, [key]: true }));
  };

  const remove = (c: ChannelDraft) => update((d) => removeChannel(d, c.key));

  // Routes refer to channels by key, so they follow a rename.
  const rename = (c: ChannelDraft, name: string) =>
    setChannels((cs) => cs.map((x) => (x.key === c.key ? { ...x, data: { ...x.data, name } } : x)));

  return (
    <FieldSet label={t('channels.title')}>
      {draft.channels.length === 0 && (
        <Alert severity="info" title={t('channels.none')}>
          {t('channels.none.desc')}
        </Alert>
      )}
      {draft.channels.map((c, i) => {
        const hasIssue =
          Object.keys(c.data).some((f) => issue(`channels[${i}].${f}`)) || Boolean(issue(`channels[${i}].name`));
        return (
          <Collapse
            key={c.key}
            isOpen={Boolean(open[c.key]) || hasIssue}
            onToggle={() => setOpen((o) => ({ ...o, [c.key]: !o[c.key] }))}
            label={`${c.data.name || t('channels.unnamed')} · ${typeLabel(c.data.type)}`}
          >
            <ChannelEditor
              channel={c}
              index={i}
              issue={issue}
              dirty={dirty}
              onRename={(name) => rename(c, name)}
              onChange={(next) => setChannels((cs) => cs.map((x) => (x.key === c.key ? next : x)))}
              onRemove={() => remove(c)}
            />
          </Collapse>
        );
      })}
      <Button icon="plus" variant="secondary" onClick={add}>
        {t('channels.add')}
      </Button>
    </FieldSet>
  );
}

function typeLabel(type: string): string {
  const key = `type.${type}`;
  return hasMessage(key) ? t(key) : type;
}

interface EditorProps {
  channel: ChannelDraft;
  index: number;
  issue: (path: string) => string | undefined;
  dirty: boolean;
  onRename: (name: string) => void;
  onChange: (c: ChannelDraft) => void;
  onRemove: () => void;
}

const secretLabel: Record<ChannelSecretField, MessageKey> = {
  url: 'channel.secret.url',
  secret: 'channel.secret.secret',
  token: 'channel.secret.token',
  appSecret: 'channel.secret.appSecret',
};

function ChannelEditor({ channel, index, issue, dirty, onRename, onChange, onRemove }: EditorProps) {
  const c = channel.data;
  const p = `channels[${index}]`;
  const spec = isChannelType(c.type) ? CHANNEL_SPECS[c.type] : undefined;
  const renamed = channel.originalName !== null && channel.originalName !== c.name.trim();
  const id = (f: string) => `ac-ch-${index}-${f}`;

  const set = (patch: Partial<Channel>) => onChange({ ...channel, data: { ...c, ...patch } });
  const setSecret = (field: ChannelSecretField, s: SecretState) =>
    onChange({ ...channel, secrets: { ...channel.secrets, [field]: s } });
  // A stored secret belongs to the saved name; after a rename it must be entered again.
  const secretState = (field: ChannelSecretField): SecretState => {
    const s = channel.secrets[field] ?? { configured: false, value: '' };
    return renamed ? { configured: false, value: s.value } : s;
  };

  const option = (f: ChannelOptionField) => {
    switch (f) {
      case 'mentionUsers':
        return (
          <ListField
            key={f}
            id={id(f)}
            label={t('channel.mentionUsers')}
            description={t(`channel.mentionUsers.${c.type}` as MessageKey)}
            value={c.mentionUsers}
            onChange={(v) => set({ mentionUsers: v })}
          />
        );
      case 'mentionMobiles':
        return (
          <ListField
            key={f}
            id={id(f)}
            label={t('channel.mentionMobiles')}
            value={c.mentionMobiles}
            onChange={(v) => set({ mentionMobiles: v })}
          />
        );
      case 'mentionAll':
        return (
          <Field key={f} label={t('channel.mentionAll')}>
            <Switch
              id={id(f)}
              value={Boolean(c.mentionAll)}
              onChange={(e) => set({ mentionAll: e.currentTarget.checked || undefined })}
            />
          </Field>
        );
      case 'mentionLabel':
        return (
          <TextField
            key={f}
            id={id(f)}
            label={t('channel.mentionLabel')}
            description={t('channel.mentionLabel.desc')}
            placeholder="oncall"
            value={c.mentionLabel}
            onChange={(v) => set({ mentionLabel: v.trim() || undefined })}
          />
        );
      case 'slackChannel':
        return (
          <TextField
            key={f}
            id={id(f)}
            label={t('channel.slackChannel')}
            description={t('channel.slackChannel.desc')}
            placeholder="C0123456789"
            value={c.slackChannel}
            onChange={(v) => set({ slackChannel: v.trim() || undefined })}
          />
        );
      case 'chatId':
        return (
          <TextField
            key={f}
            id={id(f)}
            label={t('channel.chatId')}
            placeholder="-1001234567890"
            value={c.chatId}
            onChange={(v) => set({ chatId: v.trim() || undefined })}
          />
        );
      case 'feishuAppId':
        return (
          <TextField
            key={f}
            id={id(f)}
            label={t('channel.feishuAppId')}
            description={t('channel.feishuAppId.desc')}
            placeholder="cli_a1b2c3"
            value={c.feishuAppId}
            onChange={(v) => set({ feishuAppId: v.trim() || undefined })}
          />
        );
      case 'lark':
        return (
          <Field key={f} label={t('channel.lark')}>
            <Switch
              id={id(f)}
              value={Boolean(c.lark)}
              onChange={(e) => set({ lark: e.currentTarget.checked || undefined })}
            />
          </Field>
        );
      case 'imageBase64':
        return (
          <Field key={f} label={t('channel.imageBase64')}>
            <Switch
              id={id(f)}
              value={Boolean(c.imageBase64)}
              onChange={(e) => set({ imageBase64: e.currentTarget.checked || undefined })}
            />
          </Field>
        );
      case 'keyword':
        return (
          <TextField
            key={f}
            id={id(f)}
            label={t('channel.keyword')}
            description={t('channel.keyword.desc')}
            placeholder={c.type === 'dingtalk' ? '告警' : 'alert'}
            value={c.keyword}
            onChange={(v) => set({ keyword: v.trim() || undefined })}
          />
        );
      case 'dir':
        return (
          <TextField
            key={f}
            id={id(f)}
            label={t('channel.dir')}
            placeholder="/var/lib/alertchart/inbox"
            value={c.dir}
            onChange={(v) => set({ dir: v.trim() || undefined })}
          />
        );
    }
  };

  const missing = (spec?.secrets ?? []).filter(
    (s) => s.required && !secretState(s.field).configured && !secretState(s.field).value
  );

  return (
    <Stack direction="column" gap={0}>
      <TextField
        id={id('name')}
        label={t('channel.name')}
        description={t('channel.name.desc')}
        placeholder="ops-wecom"
        value={c.name}
        error={issue(`${p}.name`)}
        onChange={onRename}
      />
      <Field label={t('channel.type')} invalid={Boolean(issue(`${p}.type`))} error={issue(`${p}.type`)}>
        <Combobox<string>
          id={id('type')}
          width={30}
          options={CHANNEL_TYPES.map((ty) => ({ value: ty, label: t(`type.${ty}` as MessageKey) }))}
          value={c.type}
          onChange={(o) => set({ type: o.value })}
        />
      </Field>
      {renamed && Object.values(channel.secrets).some((s) => s?.configured) && (
        <Alert severity="warning" title={t('channel.renamed')}>
          {t('channel.renamed.desc', { name: channel.originalName ?? '' })}
        </Alert>
      )}
      {spec?.secrets.map((s) => (
        <SecretField
          key={s.field}
          id={id(s.field)}
          label={t(secretLabel[s.field])}
          description={t(`channel.secret.${s.field}.${c.type}` as MessageKey)}
          state={secretState(s.field)}
          onChange={(next) => setSecret(s.field, renamed ? { ...next, configured: false } : next)}
        />
      ))}
      {missing.length > 0 && (
        <Alert
          severity="info"
          title={t('channel.missingSecret', { fields: missing.map((m) => t(secretLabel[m.field])).join(', ') })}
        />
      )}
      {spec?.options.map(option)}
      <Field label={t('channel.language')} invalid={Boolean(issue(`${p}.language`))} error={issue(`${p}.language`)}>
        <RadioButtonGroup
          options={[
            { label: t('channel.language.default'), value: '' },
            { label: '中文', value: 'zh' },
            { label: 'English', value: 'en' },
          ]}
          value={c.language ?? ''}
          onChange={(v) => set({ language: v || undefined })}
        />
      </Field>
      <Field label={t('channel.disableChart')} description={t('channel.disableChart.desc')}>
        <Switch
          id={id('disableChart')}
          value={Boolean(c.disableChart)}
          onChange={(e) => set({ disableChart: e.currentTarget.checked || undefined })}
        />
      </Field>
      <NumberField
        id={id('rateLimit')}
        label={t('channel.rateLimit')}
        description={t('channel.rateLimit.desc')}
        value={c.rateLimitPerMinute}
        error={issue(`${p}.rateLimitPerMinute`)}
        onChange={(v) => set({ rateLimitPerMinute: v })}
      />
      <TextField
        id={id('apiUrl')}
        label={t('channel.apiUrl')}
        description={t('channel.apiUrl.desc')}
        value={c.apiUrl}
        onChange={(v) => set({ apiUrl: v.trim() || undefined })}
      />
      <Field label={t('channel.template')} description={t('channel.template.desc')}>
        <TextArea
          id={id('template')}
          rows={4}
          value={c.template ?? ''}
          onChange={(e) => set({ template: e.currentTarget.value || undefined })}
        />
      </Field>
      <Stack justifyContent="space-between" alignItems="flex-start">
        {channel.originalName ? (
          <ChannelTest
            name={channel.originalName}
            unsavedNote={dirty ? t('test.unsaved', { name: channel.originalName }) : undefined}
          />
        ) : (
          <span>{t('test.saveFirst')}</span>
        )}
        <Button variant="destructive" icon="trash-alt" fill="outline" onClick={onRemove}>
          {t('channels.remove')}
        </Button>
      </Stack>
    </Stack>
  );
}
