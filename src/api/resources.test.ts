import { lastValueFrom } from 'rxjs';
import { backend, getBackendSrv, setLanguage } from '../test/runtime';
import { accessDenied, errorMessage } from './resources';

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

test('a 403 from the resource API says in the user’s language which role is needed', async () => {
  const denial = (role: string) => ({
    error: `GET /deliveries needs the ${role} role; the caller is viewer (Viewer)`,
    requiredRole: role,
  });
  setLanguage('en-US');
  const editor = await failure(403, denial('Editor'));
  expect(errorMessage(editor)).toBe(
    'This needs the Editor role in this organisation; ask a Grafana administrator for it.'
  );
  expect(accessDenied(editor)).toBe(errorMessage(editor));
  expect(errorMessage(await failure(403, denial('Admin')))).toContain('the Admin role');
  expect(errorMessage(await failure(403, denial('Alertmanager')))).toBe(
    'Only Alertmanager’s service account may do this (webhook.allowedUsers).'
  );
  setLanguage('zh-Hans');
  expect(errorMessage(editor)).toBe('需要本组织的编辑者（Editor）角色；请向 Grafana 管理员申请。');
  setLanguage('en-US');
  // Grafana's own 403 and other failures are not access denials of the API.
  expect(accessDenied(await failure(403, { message: 'Permission denied' }))).toBeUndefined();
  expect(accessDenied(await failure(400, { error: 'bad', requiredRole: 'Admin' }))).toBeUndefined();
  expect(accessDenied(new Error('x'))).toBeUndefined();
});
