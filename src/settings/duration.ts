/**
 * Go duration strings, as settings.Duration reads them: "10m", "1h30m",
 * "1.5h", "300ms", or a plain number of seconds.
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export type DurationParse = { ok: true; ms: number } | { ok: false; error: string };

/** Parses like time.ParseDuration (plus plain seconds); negative values are an error. */
export function parseDuration(v: string | number | undefined): DurationParse {
  if (v === undefined || v === '') {
    return { ok: true, ms: 0 };
  }
  if (typeof v === 'number') {
    return v < 0 ? { ok: false, error: `negative duration "${v}"` } : { ok: true, ms: v * 1000 };
  }
  const s = v.trim();
  const invalid: DurationParse = { ok: false, error: `invalid duration "${v}" (use e.g. "10m" or "1h30m")` };
  if (s === '0') {
    return { ok: true, ms: 0 };
  }
  let rest = s;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '') {
    return invalid;
  }
  let total = 0;
  const part = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m) {
      return invalid;
    }
    total += parseFloat(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  if (negative && total > 0) {
    return { ok: false, error: `negative duration "${v}"` };
  }
  return { ok: true, ms: total };
}

/** Formats milliseconds as Go's Duration.String does for whole milliseconds ("10m0s", "24h0m0s", "1.5s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) {
    return '0s';
  }
  if (ms < 1000) {
    return `${trimZeros(ms.toFixed(3))}ms`;
  }
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${trimZeros(s.toFixed(3))}s`;
  if (h > 0) {
    return `${h}h${m}m${sec}`;
  }
  if (m > 0) {
    return `${m}m${sec}`;
  }
  return sec;
}

function trimZeros(n: string): string {
  return n.includes('.') ? n.replace(/0+$/, '').replace(/\.$/, '') : n;
}

/**
 * A span for people, in the page's words: the two largest units, e.g.
 * "13 d 23 h", "2 h 5 min", "10 min", "30 s" (zh: "13 天 23 小时").
 * `unit` gives each unit's word ("d", "h", "min", "s").
 */
export function humanSpan(ms: number, unit: (u: 'd' | 'h' | 'min' | 's', n: number) => string): string {
  const steps: Array<['d' | 'h' | 'min' | 's', number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts: string[] = [];
  let rest = Math.round(Math.max(0, ms) / 1000) * 1000;
  for (const [u, size] of steps) {
    const n = Math.floor(rest / size);
    if (n > 0 || (parts.length === 0 && u === 's')) {
      parts.push(unit(u, n));
      rest -= n * size;
    }
    if (parts.length === 2 || (parts.length === 1 && rest === 0)) {
      break;
    }
  }
  return parts.join(' ');
}
