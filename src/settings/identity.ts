/**
 * Grafana identities as the plugin's settings name them
 * (webhook.allowedUsers): the login Grafana gives a service account, and the
 * backend's comparison of logins.
 */

/**
 * The login Grafana gives a service account named `name` in org `orgId`, as
 * Grafana's serviceaccounts.GenerateLogin builds it (Grafana ≥ 10.4):
 * "sa-<org>-<name>" lower-cased, the first "--" made "-", then every space
 * made "-" (in that order, as Grafana does). Surrounding spaces of the typed
 * name are dropped.
 */
export function serviceAccountLogin(orgId: number, name: string): string {
  return `sa-${orgId}-${name.trim().toLowerCase()}`.replace('--', '-').split(' ').join('-');
}

/** Whether webhook.allowedUsers lets `login` in (compared without regard to case, as pkg/resources does). */
export function loginAllowed(allowedUsers: readonly string[] | undefined, login: string): boolean {
  return (allowedUsers ?? []).some((u) => u.toLowerCase() === login.toLowerCase());
}
