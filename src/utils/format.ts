import { dateTimeFormat } from '@grafana/data';

/**
 * A time as Grafana shows times (its own "YYYY-MM-DD HH:mm:ss" in the user's
 * time zone), not the browser's locale format; '–' when there is none.
 */
export function formatTime(s: string | number | null | undefined): string {
  if (s === null || s === undefined || s === '') {
    return '–';
  }
  const ms = typeof s === 'number' ? s : Date.parse(s);
  return Number.isFinite(ms) ? dateTimeFormat(ms) : String(s);
}
