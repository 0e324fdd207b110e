import { lastValueFrom } from 'rxjs';
import { backend, getBackendSrv } from '../test/runtime';
import { errorMessage } from './resources';

beforeEach(() => backend.reset());

/** The FetchError Grafana's request service gives for an answer (the runtime fake models processRequestError). */
async function failure(status: number, data: unknown): Promise<unknown> {
  backend.on('GET', '/x', { status, data });
  try {
    await lastValueFrom(getBackendSrv().fetch({ url: '/x' }));
  } catch (e) {
    return e;
  }
  throw new Error('no failure');
}

test('the resource API’s {"error", "field"} is shown with its field', async () => {
  expect(errorMessage(await failure(400, { error: 'must be positive', field: 'chart.width' }))).toBe(
    'chart.width: must be positive (HTTP 400)'
  );
});

test('Grafana’s own {"message"} is shown', async () => {
  expect(errorMessage(await failure(403, { message: 'Permission denied' }))).toBe('Permission denied (HTTP 403)');
});

test('a plain-text body shows its reason, not the status text Grafana puts in "error"', async () => {
  const err = await failure(502, 'upstream connect error: connection refused');
  // What Grafana's processRequestError builds from a non-JSON body.
  expect((err as { data: unknown }).data).toEqual({
    message: 'upstream connect error: connection refused',
    error: 'Bad Gateway',
    response: 'upstream connect error: connection refused',
  });
  expect(errorMessage(err)).toBe('upstream connect error: connection refused (HTTP 502)');
});

test('a proxy’s HTML error page is reduced to its words', async () => {
  const html =
    '<html><head><title>502 Bad Gateway</title><style>body{}</style></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';
  expect(errorMessage(await failure(502, html))).toBe('502 Bad Gateway 502 Bad Gateway nginx (HTTP 502)');
});

test('an empty body falls back to the status text', async () => {
  expect(errorMessage(await failure(503, ''))).toBe('Service Unavailable (HTTP 503)');
  expect(errorMessage(await failure(500, undefined))).toBe('Unexpected error (HTTP 500)');
});

test('other errors', () => {
  expect(errorMessage(new Error('network down'))).toBe('network down');
  expect(errorMessage('odd')).toBe('odd');
});
