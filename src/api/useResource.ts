import React from 'react';
import { getBackendSrv } from '@grafana/runtime';
import { RESOURCE_PATH } from '../constants';

/** What useResource knows about one GET. */
export interface ResourceState<T> {
  /** The last answer for this URL (kept while a reload runs, and after a failed reload). */
  data: T | undefined;
  /** The failure of the last request (a FetchError; see errorMessage / errorStatus), cleared by a success. */
  error: unknown;
  /** A request for the current URL is running. */
  loading: boolean;
  /** Asks again (a Refresh button). */
  reload: () => void;
}

/** Grafana URL of a resource path, e.g. "health" → /api/plugins/<id>/resources/health. */
export function resourcePath(path: string): string {
  return `${RESOURCE_PATH}/${path}`;
}

/**
 * GETs a Grafana URL through getBackendSrv().fetch and follows it: a new URL
 * (or reload()) asks again, and a request whose answer is no longer wanted
 * (URL changed, component gone) is unsubscribed, which aborts it. `null`
 * asks nothing. Errors are shown by the page, never as Grafana toasts.
 */
export function useResource<T>(url: string | null): ResourceState<T> {
  const [generation, setGeneration] = React.useState(0);
  // The last settled request: its URL and generation, its answer or failure.
  const [settled, setSettled] = React.useState<{ url: string | null; generation: number; data?: T; error?: unknown }>({
    url: null,
    generation: -1,
  });

  React.useEffect(() => {
    if (url === null) {
      return;
    }
    const sub = getBackendSrv()
      .fetch<T>({ url, method: 'GET', showErrorAlert: false, showSuccessAlert: false })
      .subscribe({
        next: (r) => setSettled({ url, generation, data: r.data }),
        // A failed reload keeps the last answer for this URL next to the error.
        error: (e) =>
          setSettled((prev) => ({ url, generation, data: prev.url === url ? prev.data : undefined, error: e })),
      });
    return () => sub.unsubscribe();
  }, [url, generation]);

  const reload = React.useCallback(() => setGeneration((g) => g + 1), []);
  const sameUrl = url !== null && settled.url === url;
  return {
    data: sameUrl ? settled.data : undefined,
    error: sameUrl ? settled.error : undefined,
    loading: url !== null && !(sameUrl && settled.generation === generation),
    reload,
  };
}
