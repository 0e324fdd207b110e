/**
 * Reloads the page so Grafana re-reads the plugin's settings (there is no
 * supported in-place refresh of plugin meta). A module of its own so tests
 * can observe it: jsdom cannot navigate.
 */
export function reloadPage(): void {
  window.location.reload();
}
