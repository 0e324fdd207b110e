/**
 * A stand-in for @grafana/runtime in tests, shaped like the real thing:
 * getBackendSrv().fetch returns an Observable of FetchResponse
 * ({data, status, statusText, ok, headers, url, config, ...}) and errors with a
 * FetchError ({status, statusText, data, config}) whose data Grafana's
 * processRequestError has normalised (a string body becomes
 * {message: <text>, error: <statusText>, response: <text>}; an `error` string
 * without `message` is copied to `message`); get/post resolve to the data like
 * the real BackendSrv. A reply with `text` stands for a non-JSON body. Every call is recorded so tests can assert
 * the exact requests. Unrouted requests fail with 404 as Grafana would.
 *
 * jest.config.js maps '@grafana/runtime' to this module for every test.
 */
import React from 'react';
import { Observable, lastValueFrom } from 'rxjs';
import type { BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';

export interface RecordedCall {
  method: string;
  url: string;
  params?: Record<string, unknown>;
  data?: unknown;
  options: BackendSrvRequest;
}

export interface FakeReply {
  status?: number;
  data?: unknown;
}

/** Grafana's processRequestError (in grafana/grafana's public/app/core/services/backend_srv.ts) on a failed answer's data. */
export function processRequestErrorData(data: unknown, statusText: string): unknown {
  let d = data ?? { message: 'Unexpected error' };
  if (typeof d === 'string') {
    d = { message: d, error: statusText, response: d };
  }
  const o = d as { message?: unknown; error?: unknown };
  if (!o.message && typeof o.error === 'string') {
    o.message = o.error;
  }
  return d;
}

type Handler = (call: RecordedCall) => FakeReply | Promise<FakeReply>;

interface RouteEntry {
  method: string;
  url: string | RegExp;
  handler: Handler;
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    200: 'OK',
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    413: 'Payload Too Large',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
  };
  return texts[status] ?? '';
}

/** The fake Grafana HTTP API behind getBackendSrv(). */
export class FakeBackend {
  calls: RecordedCall[] = [];
  private routes: RouteEntry[] = [];

  reset() {
    this.calls = [];
    this.routes = [];
  }

  /** Answers METHOD url (exact path without query, or a RegExp on the full URL). Later routes win. */
  on(method: string, url: string | RegExp, reply: FakeReply | Handler) {
    const handler = typeof reply === 'function' ? reply : () => reply;
    this.routes.unshift({ method, url, handler });
  }

  callsTo(method: string, path: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method && c.url.split('?')[0] === path);
  }

  fetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
    return new Observable<FetchResponse<T>>((sub) => {
      const method = (options.method ?? 'GET').toUpperCase();
      const call: RecordedCall = { method, url: options.url, params: options.params, data: options.data, options };
      this.calls.push(call);
      const route = this.routes.find(
        (r) =>
          r.method === method &&
          (typeof r.url === 'string' ? r.url === options.url.split('?')[0] : r.url.test(options.url))
      );
      const reply: Promise<FakeReply> = route
        ? Promise.resolve(route.handler(call))
        : Promise.resolve({ status: 404, data: { message: 'Not found' } });
      reply.then(
        ({ status = 200, data }) => {
          if (status >= 400) {
            const text = statusText(status);
            const err: FetchError = {
              status,
              statusText: text,
              data: processRequestErrorData(data, text),
              config: options,
            };
            sub.error(err);
            return;
          }
          sub.next({
            data: data as T,
            status,
            statusText: statusText(status),
            ok: true,
            headers: {} as Headers,
            redirected: false,
            type: 'basic',
            url: options.url,
            config: options,
          });
          sub.complete();
        },
        (e) => sub.error(e)
      );
    });
  }

  get<T>(url: string, params?: Record<string, unknown>, _requestId?: string, options?: Partial<BackendSrvRequest>) {
    return lastValueFrom(this.fetch<T>({ ...options, url, params, method: 'GET' })).then((r) => r.data);
  }

  post<T>(url: string, data?: unknown, options?: Partial<BackendSrvRequest>) {
    return lastValueFrom(this.fetch<T>({ ...options, url, data, method: 'POST' })).then((r) => r.data);
  }
}

export const backend = new FakeBackend();

/** The bits of GrafanaBootConfig the app reads. */
export const config = {
  appUrl: 'http://grafana.example:3000/',
  appSubUrl: '',
  language: 'en-US' as string | undefined,
  bootData: { user: { language: 'en-US', orgId: 1 } },
};

/** Sets Grafana's UI language as both config.language and the user's preference. */
export function setLanguage(tag: string) {
  config.language = tag;
  config.bootData.user.language = tag;
}

/** Data sources the fake DataSourcePicker offers (it filters by type, as the real one does). */
export const dataSources = [
  { uid: 'prom-main', name: 'Prometheus', type: 'prometheus' },
  { uid: 'prom-thanos', name: 'Thanos', type: 'prometheus' },
  { uid: 'loki-1', name: 'Loki', type: 'loki' },
];

export function DataSourcePicker(props: {
  current?: string | null;
  type?: string | string[];
  inputId?: string;
  onChange: (ds: { uid: string; name: string; type: string }) => void;
  onClear?: () => void;
}) {
  const types = props.type === undefined ? undefined : Array.isArray(props.type) ? props.type : [props.type];
  const list = dataSources.filter((d) => !types || types.includes(d.type));
  return (
    <select
      id={props.inputId}
      aria-label="Data source picker"
      value={props.current ?? ''}
      onChange={(e) => {
        const ds = list.find((d) => d.uid === e.currentTarget.value);
        if (ds) {
          props.onChange(ds);
        } else {
          props.onClear?.();
        }
      }}
    >
      <option value="">Select a data source</option>
      {list.map((d) => (
        <option key={d.uid} value={d.uid}>
          {d.name}
        </option>
      ))}
    </select>
  );
}

export function PluginPage({ children }: { children: React.ReactNode }) {
  return <div>{children}</div>;
}

export function isFetchError(e: unknown): e is FetchError {
  return typeof e === 'object' && e !== null && 'status' in e && 'data' in e;
}

/** getBackendSrv() of the fake: every call goes to `backend`. */
export function getBackendSrv() {
  return backend;
}
