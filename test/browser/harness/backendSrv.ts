/**
 * The request service behind getBackendSrv() in the browser harness: a
 * stand-in for Grafana's BackendSrv (public/app/core/services/backend_srv.ts
 * and public/app/core/utils/fetch.ts in grafana/grafana, read at Grafana 12/13)
 * that sends real HTTP requests with window.fetch to the harness server, which
 * plays Grafana's HTTP API (test/browser/browser_test.go) and passes
 * /api/plugins/<id>/resources/* to the built plugin binary.
 *
 * Every place where it models Grafana's behaviour:
 *
 *  1. URL: a local URL loses its leading "/" and resolves against the page's
 *     <base href> (Grafana's appSubUrl + "/"); `params` become the query
 *     string, dropping undefined values and empty strings/arrays.
 *  2. Headers: `accept: application/json, text/plain, *∕*` unless set;
 *     POST, PUT and PATCH get `content-type: application/json` unless set;
 *     local URLs carry `X-Grafana-Org-Id` (org 1).
 *  3. Body: NO body when `data` is undefined or null (so a POST without data
 *     goes out with content-length 0 and content-type application/json —
 *     the request issue 18 point 1 was about); a string or Blob is sent as
 *     is; with a JSON content type anything else is JSON.stringify'd, else it
 *     is URL-encoded. Credentials: same-origin (the session cookie).
 *  4. Answer body: with a JSON content type (or responseType "json") it is
 *     parsed as JSON, an empty body (content-length 0) giving {}; otherwise
 *     the text is parsed as JSON when it can be and kept as a string when not.
 *  5. Failure: a non-2xx answer errors the Observable with a FetchError
 *     {status, statusText, data, config, traceId} — no `message`.
 *  6. processRequestError: `data` null/undefined becomes
 *     {message: "Unexpected error"}; a string body (plain text, HTML from a
 *     proxy) becomes {message: <text>, error: <statusText>, response: <text>};
 *     a body with `error` (a string) but no `message` gets message = error.
 *     This is what a page's errorMessage() sees (issue 18 point 5).
 *  7. Toasts: Grafana shows an error toast for a failed local API call unless
 *     showErrorAlert is false (and a success toast for a non-GET answer with a
 *     `message` unless showSuccessAlert is false). The harness does not draw
 *     them; it records them in window.__harness.toasts for the test to check.
 *  8. get/post/put/patch/delete/request resolve to the answer's data, as
 *     BackendSrv.request does (lastValueFrom(fetch(...)).data).
 *
 * Not modelled (the harness never needs them, and says so if asked): the
 * 401 login-ping / token-rotation retry, requestId cancellation,
 * datasourceRequest's data-proxy specifics, chunked responses, the inspector
 * stream, and the fetch queue's concurrency limit.
 */
import { Observable } from 'rxjs';
import type { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';

export interface Toast {
  kind: 'error' | 'warning' | 'success';
  message: string;
  url: string;
}

const isLocalUrl = (url: string) => !/^(https?:)?\/\//i.test(url);

function serializeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([, v]) => {
      if (v === undefined) {
        return false;
      }
      if (Array.isArray(v) || typeof v === 'string') {
        return v.length > 0;
      }
      return true;
    })
    .map(([k, v]) =>
      Array.isArray(v)
        ? v.map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`).join('&')
        : `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`
    )
    .join('&');
}

function requestUrl(options: BackendSrvRequest): string {
  let url = options.url;
  if (isLocalUrl(url) && url.startsWith('/')) {
    url = url.substring(1);
  }
  const q = options.params ? serializeParams(options.params as Record<string, unknown>) : '';
  return q ? `${url}?${q}` : url;
}

function requestHeaders(options: BackendSrvRequest): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    headers.set(k, String(v));
  }
  if (isLocalUrl(options.url)) {
    headers.set('X-Grafana-Org-Id', '1');
  }
  const method = (options.method ?? 'GET').toLowerCase();
  if (['post', 'put', 'patch'].includes(method) && !headers.get('content-type')) {
    headers.set('content-type', 'application/json');
  }
  if (!headers.get('accept')) {
    headers.set('accept', 'application/json, text/plain, */*');
  }
  return headers;
}

const jsonTypes = [
  'application/json',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

function requestBody(options: BackendSrvRequest, headers: Headers): BodyInit | undefined {
  const data = options.data;
  if (data === undefined || data === null) {
    return undefined;
  }
  if (typeof data === 'string' || data instanceof Blob) {
    return data;
  }
  if (jsonTypes.includes((headers.get('content-type') ?? '').toLowerCase())) {
    return JSON.stringify(data);
  }
  return new URLSearchParams(Object.entries(data as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

async function responseBody(response: Response, responseType?: BackendSrvRequest['responseType']): Promise<unknown> {
  const ct = response.headers.get('content-type') ?? '';
  const type = responseType ?? (ct.toLowerCase().startsWith('application/json') ? 'json' : undefined);
  switch (type) {
    case 'json':
      if (response.headers.get('Content-Length') === '0') {
        return {};
      }
      return response.json();
    case 'text':
      return response.text();
    case 'blob':
      return response.blob();
    case 'arraybuffer':
      return response.arrayBuffer();
  }
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Grafana's processRequestError: makes FetchError.data an object with a message. */
export function processRequestError(err: FetchError): FetchError {
  err.data = err.data ?? { message: 'Unexpected error' };
  if (typeof err.data === 'string') {
    err.data = { message: err.data, error: err.statusText, response: err.data };
  }
  if (err.data && !err.data.message && typeof err.data.error === 'string') {
    err.data.message = err.data.error;
  }
  return err;
}

export class HarnessBackendSrv implements BackendSrv {
  readonly toasts: Toast[] = [];

  fetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
    return new Observable<FetchResponse<T>>((sub) => {
      const controller = new AbortController();
      const headers = requestHeaders(options);
      const init: RequestInit = {
        method: options.method ?? 'GET',
        headers,
        body: requestBody(options, headers),
        credentials: options.credentials ?? 'same-origin',
        signal: controller.signal,
      };
      const url = requestUrl(options);
      window
        .fetch(url, init)
        .then(async (response) => {
          const data = (await responseBody(response, options.responseType)) as T;
          const { status, statusText, ok, headers: h, url: u, type, redirected } = response;
          if (!ok) {
            const err = processRequestError({
              status,
              statusText,
              data,
              config: options,
              traceId: h.get('grafana-trace-id') ?? undefined,
            });
            if (options.showErrorAlert !== false && isLocalUrl(options.url)) {
              this.toasts.push({ kind: status < 500 ? 'warning' : 'error', message: String(err.data.message), url });
            }
            sub.error(err);
            return;
          }
          const message = (data as { message?: unknown } | null)?.message;
          if (
            options.showSuccessAlert !== false &&
            (options.method ?? 'GET') !== 'GET' &&
            typeof message === 'string'
          ) {
            this.toasts.push({ kind: 'success', message, url });
          }
          sub.next({ data, status, statusText, ok, headers: h, url: u, type, redirected, config: options });
          sub.complete();
        })
        .catch((e) => sub.error(e));
      return () => controller.abort();
    });
  }

  request<T = unknown>(options: BackendSrvRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let data: T;
      this.fetch<T>(options).subscribe({
        next: (r) => (data = r.data),
        error: reject,
        complete: () => resolve(data),
      });
    });
  }

  get<T = any>(url: string, params?: any, requestId?: string, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, method: 'GET', url, params, requestId });
  }
  delete<T = unknown>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, method: 'DELETE', url, data });
  }
  post<T = any>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, method: 'POST', url, data });
  }
  patch<T = any>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, method: 'PATCH', url, data });
  }
  put<T = any>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>): Promise<T> {
    return this.request<T>({ ...options, method: 'PUT', url, data });
  }
  datasourceRequest<T = unknown>(): Promise<FetchResponse<T>> {
    throw new Error('harness: datasourceRequest is not modelled');
  }
  chunked(): Observable<FetchResponse<Uint8Array | undefined>> {
    throw new Error('harness: chunked is not modelled');
  }
}
