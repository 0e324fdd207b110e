import { lastValueFrom } from 'rxjs';
import { config, getBackendSrv, isFetchError } from '@grafana/runtime';
import { RESOURCE_PATH } from '../constants';
import { hasMessage, t } from '../i18n/i18n';
import type { Denial } from './types';

/**
 * Calls the plugin's resource API through Grafana's backend service, so the
 * user's session cookie authenticates the call. Errors are not toasted by
 * Grafana: each page shows them where the user acted.
 */
export async function resourceRequest<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await lastValueFrom(
    getBackendSrv().fetch<T>({
      url: `${RESOURCE_PATH}/${path}`,
      method,
      data: body,
      showErrorAlert: false,
      showSuccessAlert: false,
    })
  );
  return response.data;
}

/** GET a resource path. */
export function resourceGet<T>(path: string): Promise<T> {
  return resourceRequest<T>('GET', path);
}

/** POST to a resource path. */
export function resourcePost<T>(path: string, body?: unknown): Promise<T> {
  return resourceRequest<T>('POST', path, body);
}

/** Absolute-path URL of a resource (for <img src>), honouring Grafana's sub path. */
export function resourceUrl(path: string): string {
  return `${config.appSubUrl ?? ''}${RESOURCE_PATH}/${path}`;
}

/** Grafana's address for callers outside the browser: root_url, else the browser's origin and sub path; no trailing slash. */
export function grafanaBaseUrl(): string {
  const base = config.appUrl || `${window.location.origin}${config.appSubUrl ?? ''}/`;
  return base.replace(/\/+$/, '');
}

/** Full URL of a resource as Alertmanager must call it: `base` (default grafanaBaseUrl()) + the resource path. */
export function externalResourceUrl(path: string, base: string = grafanaBaseUrl()): string {
  return `${base.trim().replace(/\/+$/, '')}${RESOURCE_PATH}/${path}`;
}

/**
 * Plain words for a failed call. FetchError.data is what Grafana's request
 * service made of the answer body: the resource API's JSON
 * {"error": ..., "field"?: ...}; Grafana's own {"message": ...}; or, for a
 * body that is not JSON (a proxy's "502 Bad Gateway" page, plain text), the
 * object {message: <the text>, error: <statusText>, response: <the text>}
 * that its processRequestError builds — there `error` is only the status
 * text and the reason is in `message`.
 */
export function errorMessage(err: unknown): string {
  const denied = accessDenied(err);
  if (denied) {
    return denied;
  }
  if (isFetchError(err)) {
    const data = err.data as
      { error?: unknown; message?: unknown; field?: unknown; response?: unknown } | string | null | undefined;
    let text = '';
    if (typeof data === 'string') {
      text = data;
    } else if (data && typeof data.response === 'string' && typeof data.message === 'string') {
      text = plainText(data.message);
    } else if (data && typeof data.error === 'string' && data.error) {
      text = data.error;
      if (typeof data.field === 'string' && data.field) {
        text = `${data.field}: ${text}`;
      }
    } else if (data && typeof data.message === 'string') {
      text = data.message;
    }
    text = text.trim();
    if (!text) {
      text = err.statusText || err.message || '';
    }
    return err.status ? `${text} (HTTP ${err.status})`.trim() : text;
  }
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}

/** A non-JSON error body in a line: tags of an HTML error page dropped, whitespace folded, at most 300 characters. */
function plainText(body: string): string {
  const s = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > 300 ? `${s.slice(0, 299)}…` : s;
}

/**
 * The plain-words reason of a 403 from the resource API ({error,
 * requiredRole}, pkg/resources' denial) in the user's language — "needs the
 * Editor role…" — or undefined for any other failure. The backend's English
 * `error` names the route and the caller; the page says what the user can do.
 */
export function accessDenied(err: unknown): string | undefined {
  if (!isFetchError(err) || err.status !== 403) {
    return undefined;
  }
  const data = err.data as Partial<Denial> | null | undefined;
  const role = data && typeof data === 'object' ? data.requiredRole : undefined;
  if (typeof role !== 'string' || !role) {
    return undefined;
  }
  if (role === 'Alertmanager') {
    return t('access.denied.alertmanager');
  }
  const key = `role.${role}`;
  return t('access.denied', { role: hasMessage(key) ? t(key) : role });
}

/** HTTP status of a failed call, when there is one. */
export function errorStatus(err: unknown): number | undefined {
  return isFetchError(err) ? err.status : undefined;
}
