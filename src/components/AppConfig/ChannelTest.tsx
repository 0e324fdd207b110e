import React from 'react';
import { Alert, Button, Stack } from '@grafana/ui';
import { errorMessage, errorStatus, resourcePost } from '../../api/resources';
import type { TestAnswer } from '../../api/types';
import { t } from '../../i18n/i18n';

export type { TestAnswer } from '../../api/types';

interface Props {
  /** Saved channel name. */
  name: string;
  /** Why the test would not use what is on screen (unsaved changes), if so. */
  unsavedNote?: string;
}

/** "Send test notification": asks the backend to send a test through the saved channel and shows the platform's answer. */
export function ChannelTest({ name, unsavedNote }: Props) {
  const [busy, setBusy] = React.useState(false);
  const [answer, setAnswer] = React.useState<TestAnswer | null>(null);
  const [failure, setFailure] = React.useState('');

  const run = async () => {
    setBusy(true);
    setAnswer(null);
    setFailure('');
    try {
      setAnswer(await resourcePost<TestAnswer>(`channels/${encodeURIComponent(name)}/test`));
    } catch (e) {
      setFailure(errorStatus(e) === 404 ? t('test.unknownChannel', { name }) : errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const r = answer?.result;
  const details = r && (
    <Stack direction="column" gap={0.5}>
      {r.statusCode !== undefined && <div>{t('test.status', { code: r.statusCode })}</div>}
      {r.requests !== undefined && <div>{t('test.requests', { n: r.requests })}</div>}
      {r.note && <div>{r.note}</div>}
      {r.body && <pre style={{ whiteSpace: 'pre-wrap', margin: 0 }}>{r.body}</pre>}
    </Stack>
  );

  return (
    <Stack direction="column" gap={1}>
      <Stack gap={1} alignItems="center">
        <Button variant="secondary" icon="message" onClick={run} disabled={busy || !name}>
          {busy ? t('test.sending') : t('test.send')}
        </Button>
        {unsavedNote && <span>{unsavedNote}</span>}
      </Stack>
      {answer?.ok && (
        <Alert severity="success" title={t('test.ok')}>
          {details}
        </Alert>
      )}
      {answer && !answer.ok && (
        <Alert severity="error" title={t('test.failed', { kind: answer.kind ?? '' })}>
          <div>{answer.error}</div>
          {details}
        </Alert>
      )}
      {failure && (
        <Alert severity="error" title={t('test.requestFailed')}>
          {failure}
        </Alert>
      )}
    </Stack>
  );
}
