import { lastValueFrom } from 'rxjs';
import { config, getBackendSrv, isFetchError } from '@grafana/runtime';
import { RESOURCE_PATH } from '../constants';

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

/** Full URL of a resource as Alertmanager must call it (root_url, else the browser's origin). */
export function externalResourceUrl(path: string): string {
  let base = config.appUrl;
  if (!base) {
    base = `${window.location.origin}${config.appSubUrl ?? ''}/`;
  }
  return `${base.replace(/\/+$/, '')}${RESOURCE_PATH}/${path}`;
}

/**
 * Plain words for a failed call: the resource API's {"error": ...}, Grafana's
 * {"message": ...}, else the HTTP status.
 */
export function errorMessage(err: unknown): string {
  if (isFetchError(err)) {
    const data = err.data as { error?: unknown; message?: unknown; field?: unknown } | string | undefined;
    let text = '';
    if (typeof data === 'string') {
      text = data;
    } else if (data && typeof data.error === 'string') {
      text = data.error;
      if (typeof data.field === 'string' && data.field) {
        text = `${data.field}: ${text}`;
      }
    } else if (data && typeof data.message === 'string') {
      text = data.message;
    }
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

/** HTTP status of a failed call, when there is one. */
export function errorStatus(err: unknown): number | undefined {
  return isFetchError(err) ? err.status : undefined;
}
