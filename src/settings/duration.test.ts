import { formatDuration, parseDuration } from './duration';

describe('parseDuration (Go time.ParseDuration + plain seconds)', () => {
  test.each([
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2h45m30.5s', 9_930_500],
    ['0', 0],
    ['', 0],
    [90, 90_000],
  ])('%p → %p ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, ms });
  });

  test.each(['10', '10 m', 'abc', '1d', 'm', '-'])('rejects %p like Go does', (input) => {
    const p = parseDuration(input);
    expect(p.ok).toBe(false);
    expect(!p.ok && p.error).toBe(`invalid duration "${input}" (use e.g. "10m" or "1h30m")`);
  });

  test('rejects negative durations', () => {
    expect(parseDuration('-5m')).toEqual({ ok: false, error: 'negative duration "-5m"' });
    expect(parseDuration(-3)).toEqual({ ok: false, error: 'negative duration "-3"' });
  });
});

describe('formatDuration (Go Duration.String)', () => {
  test.each([
    [0, '0s'],
    [600_000, '10m0s'],
    [86_400_000, '24h0m0s'],
    [5_400_000, '1h30m0s'],
    [1_500, '1.5s'],
    [250, '250ms'],
  ])('%p ms → %p', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });
});
