import pluginJson from './plugin.json';

/** The plugin id, as declared in plugin.json. */
export const PLUGIN_ID = pluginJson.id;

/** Base path of the app's pages inside Grafana. */
export const PLUGIN_BASE_URL = `/a/${PLUGIN_ID}`;

/** Path of the plugin's resource API (pkg/resources; answer types in src/api/types.ts), relative to Grafana's root. */
export const RESOURCE_PATH = `/api/plugins/${PLUGIN_ID}/resources`;

/** Sub-paths of the app pages declared in plugin.json. */
export enum ROUTES {
  Start = 'start',
  Deliveries = 'deliveries',
}
