import React from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { ClipboardButton, Stack, useStyles2 } from '@grafana/ui';
import { t } from '../i18n/i18n';

/**
 * A snippet to copy (YAML, shell): a small header with what it is (a file
 * name) and Grafana's copy button, over the code, which scrolls sideways
 * rather than wrap.
 */
export function CodeBlock({ code, title, testId }: { code: string; title?: string; testId?: string }) {
  const s = useStyles2(getStyles);
  return (
    <div className={s.wrap}>
      <div className={s.header}>
        <span className={s.title}>{title}</span>
        <ClipboardButton icon="copy" variant="secondary" size="sm" fill="text" getText={() => code}>
          {t('start.copy')}
        </ClipboardButton>
      </div>
      <pre className={s.code} data-testid={testId}>
        {code}
      </pre>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrap: css({
    maxWidth: '100%',
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    background: theme.colors.background.secondary,
    overflow: 'hidden',
  }),
  header: css({
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'space-between',
    gap: theme.spacing(1),
    padding: theme.spacing(0.25, 0.5, 0.25, 2),
    borderBottom: `1px solid ${theme.colors.border.weak}`,
  }),
  title: css({
    color: theme.colors.text.secondary,
    fontFamily: theme.typography.fontFamilyMonospace,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  code: css({
    fontFamily: theme.typography.fontFamilyMonospace,
    fontSize: theme.typography.bodySmall.fontSize,
    background: 'transparent',
    border: 'none',
    borderRadius: 0,
    padding: theme.spacing(1.5, 2),
    margin: 0,
    whiteSpace: 'pre',
    overflowX: 'auto',
  }),
});

/** A value to copy in a line of text (a URL): the value as code and a copy button. */
export function CopyValue({ value }: { value: string }) {
  return (
    <Stack gap={1} alignItems="center" wrap="wrap">
      <code>{value}</code>
      <ClipboardButton icon="copy" variant="secondary" size="sm" fill="text" getText={() => value}>
        {t('start.copy')}
      </ClipboardButton>
    </Stack>
  );
}

/** Label–value rows (not a data table: Grafana's InteractiveTable is for rows of records). */
export function DefinitionList({ rows }: { rows: Array<[string, React.ReactNode, string?]> }) {
  const s = useStyles2(getListStyles);
  return (
    <dl className={s.list}>
      {rows.map(([label, v, testId]) => (
        <div key={label} className={s.row} data-testid={testId}>
          <dt>{label}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const getListStyles = (theme: GrafanaTheme2) => ({
  list: css({
    display: 'grid',
    gridTemplateColumns: 'max-content 1fr',
    margin: 0,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
  }),
  row: css({
    display: 'contents',
    '& dt, & dd': {
      margin: 0,
      padding: theme.spacing(0.75, 1.5),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
    },
    '&:last-child dt, &:last-child dd': { borderBottom: 'none' },
    '& dt': {
      color: theme.colors.text.secondary,
      fontWeight: theme.typography.fontWeightMedium,
      whiteSpace: 'nowrap',
    },
    '& dd': { wordBreak: 'break-word', minWidth: 0 },
    // Long URLs and queries wrap inside the cell instead of running out of the list.
    '& dd code': { whiteSpace: 'pre-wrap', wordBreak: 'break-all' },
  }),
});
