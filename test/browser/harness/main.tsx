/**
 * The browser harness: mounts the BUILT plugin (dist/module.js, an AMD module
 * as Grafana loads it) inside a minimal Grafana-like page, with the real
 * @grafana/runtime, @grafana/ui and @grafana/data packages and the request
 * service of ./backendSrv.ts. browser_test.go serves it; smoke.mjs drives it.
 *
 * What it does as Grafana does:
 *  - window.grafanaBootData is written into the page by the server before
 *    this bundle runs, so @grafana/runtime's `config` reads it (language,
 *    theme, appUrl) exactly as in Grafana.
 *  - The plugin module is loaded with an AMD define() whose dependencies are
 *    the host's shared modules (Grafana shares react, react-router, rxjs,
 *    @emotion/css and the @grafana/* packages with plugins), and `module`
 *    carries the module's URL so webpack finds its chunks under
 *    public/plugins/<id>/.
 *  - Plugin meta comes from GET /api/plugins/<id>/settings and is handed to
 *    plugin.init(meta) and the pages, as Grafana's importAppPlugin and
 *    PluginDetailsPage / AppRootPage do.
 *  - /plugins/<id> renders the config page (plugin.configPages[0].body with
 *    {plugin, query}); /a/<id>/* renders plugin.root with meta, basename,
 *    path and query inside a react-router v6 route ending in "/*".
 *  - The theme is config.theme2 in ThemeContext with @grafana/ui's
 *    GlobalStyles, as Grafana's AppWrapper sets them.
 *  - Pages sit in a small frame: breadcrumb, the page's title from
 *    plugin.json (as Grafana's nav shows it), the content. @grafana/runtime's
 *    PluginPage stays its package default (a <div>): Grafana replaces it with
 *    its own Page through an internal setter that the package does not
 *    export. Grafana's mega-menu and nav tree are not the plugin's and are
 *    not drawn.
 */
import React from 'react';
import { createRoot } from 'react-dom/client';
import * as ReactRouter from 'react-router';
import { BrowserRouter, Link, Route, Routes, useLocation } from 'react-router-dom';
import * as emotionCss from '@emotion/css';
import { css } from '@emotion/css';
import * as grafanaData from '@grafana/data';
import type { AppPlugin, AppPluginMeta, GrafanaTheme2 } from '@grafana/data';
import * as grafanaUi from '@grafana/ui';
import { GlobalStyles, Icon, LoadingPlaceholder, Tab, TabsBar, useStyles2 } from '@grafana/ui';
import * as rxjs from 'rxjs';
import * as grafanaRuntime from '@grafana/runtime';
import { config, setBackendSrv, setDataSourceSrv } from '@grafana/runtime';
import type { DataSourceInstanceSettings, DataSourceSrv } from '@grafana/runtime';
import { HarnessBackendSrv } from './backendSrv';

const PLUGIN_ID = 'alertchart-webhook-app';
const MODULE_URL = `public/plugins/${PLUGIN_ID}/module.js`;

const backendSrv = new HarnessBackendSrv();
setBackendSrv(backendSrv);

/**
 * Grafana's data source service, holding one Prometheus data source (what the
 * config page's DataSourcePicker lists); the plugin never queries it in the
 * browser, so get() is not modelled.
 */
const prometheusDs = {
  uid: 'prometheus',
  name: 'Prometheus',
  type: 'prometheus',
  id: 1,
  access: 'proxy',
  readOnly: false,
  jsonData: {},
  meta: {
    id: 'prometheus',
    name: 'Prometheus',
    type: 'datasource',
    info: { logos: { small: '', large: '' } },
    metrics: true,
    alerting: true,
  },
} as unknown as DataSourceInstanceSettings;
const dataSourceSrv: DataSourceSrv = {
  get: () => Promise.reject(new Error('harness: DataSourceSrv.get is not modelled')),
  getList: (f) =>
    !f?.type || f.type === 'prometheus' || (Array.isArray(f.type) && f.type.includes('prometheus'))
      ? [prometheusDs]
      : [],
  getInstanceSettings: (ref) => {
    const uid = typeof ref === 'string' ? ref : ref?.uid;
    return uid === prometheusDs.uid || uid === prometheusDs.name ? prometheusDs : undefined;
  },
  reload: () => Promise.resolve(),
  registerRuntimeDataSource: () => {},
};
setDataSourceSrv(dataSourceSrv);

declare global {
  interface Window {
    define?: ((deps: string[], factory: (...args: unknown[]) => unknown) => void) & { amd?: boolean };
    __harness: { toasts: typeof backendSrv.toasts; errors: string[]; mounted: boolean };
  }
}
window.__harness = { toasts: backendSrv.toasts, errors: [], mounted: false };

/** The modules Grafana shares with plugins, by the names webpack's externals use. */
const shared: Record<string, unknown> = {
  react: React,
  'react-router': ReactRouter,
  rxjs,
  '@emotion/css': emotionCss,
  '@grafana/data': grafanaData,
  '@grafana/ui': grafanaUi,
  '@grafana/runtime': grafanaRuntime,
};

let modulePromise: Promise<{ plugin: AppPlugin }> | undefined;

/** Loads dist/module.js once, resolving its AMD dependencies to the shared modules. */
function importPluginModule(): Promise<{ plugin: AppPlugin }> {
  modulePromise ??= new Promise((resolve, reject) => {
    const define = (deps: string[], factory: (...args: unknown[]) => unknown) => {
      try {
        const args = deps.map((d) => {
          if (d === 'module') {
            return { uri: MODULE_URL };
          }
          if (!(d in shared)) {
            throw new Error(`harness: the plugin imports "${d}", which Grafana does not share`);
          }
          return shared[d];
        });
        resolve(factory(...args) as { plugin: AppPlugin });
      } catch (e) {
        reject(e);
      }
    };
    window.define = Object.assign(define, { amd: true });
    const s = document.createElement('script');
    s.src = MODULE_URL;
    s.onerror = () => reject(new Error(`harness: could not load ${MODULE_URL}`));
    document.head.appendChild(s);
  });
  return modulePromise;
}

/** GET /api/plugins/<id>/settings, then the plugin initialised with that meta. */
function usePlugin(): { plugin?: AppPlugin; error?: string } {
  const [state, setState] = React.useState<{ plugin?: AppPlugin; error?: string }>({});
  React.useEffect(() => {
    let cancelled = false;
    Promise.all([backendSrv.get<AppPluginMeta>(`/api/plugins/${PLUGIN_ID}/settings`), importPluginModule()])
      .then(([meta, mod]) => {
        mod.plugin.init(meta);
        mod.plugin.meta = meta;
        if (!cancelled) {
          setState({ plugin: mod.plugin });
        }
      })
      .catch((e) => {
        const msg = e instanceof Error ? e.message : JSON.stringify(e);
        window.__harness.errors.push(msg);
        if (!cancelled) {
          setState({ error: msg });
        }
      });
    return () => {
      cancelled = true;
    };
  }, []);
  return state;
}

/** Grafana's page frame, reduced to what a plugin page sits in. */
function Frame({
  title,
  crumbs,
  tabs,
  children,
}: {
  title: React.ReactNode;
  crumbs: string[];
  tabs?: React.ReactNode;
  children: React.ReactNode;
}) {
  const s = useStyles2(getStyles);
  return (
    <div className={s.app}>
      <header className={s.topbar}>
        <Icon name="grafana" size="lg" />
        {crumbs.map((c, i) => (
          <span key={i} className={s.crumb}>
            {i > 0 && <Icon name="angle-right" />} {c}
          </span>
        ))}
      </header>
      <main className={s.page} data-testid="harness-page">
        <h1 className={s.title}>{title}</h1>
        {tabs}
        <div className={s.content} data-testid="plugin-content">
          {children}
        </div>
      </main>
    </div>
  );
}

function ConfigPage() {
  const { plugin, error } = usePlugin();
  const Body = plugin?.configPages?.[0]?.body;
  React.useEffect(() => {
    if (Body) {
      window.__harness.mounted = true;
    }
  }, [Body]);
  return (
    <Frame
      title={
        <span style={{ display: 'inline-flex', alignItems: 'center', gap: 12 }}>
          <img src={`public/plugins/${PLUGIN_ID}/img/logo.svg`} alt="" width={40} height={40} />
          AlertChart
        </span>
      }
      crumbs={['Home', 'Administration', 'Plugins and data', 'Plugins', 'AlertChart']}
      tabs={
        <TabsBar>
          <Tab label="Overview" />
          <Tab label="Configuration" icon="cog" active />
        </TabsBar>
      }
    >
      {error && <pre data-testid="harness-error">{error}</pre>}
      {!plugin && !error && <LoadingPlaceholder text="Loading plugin…" />}
      {plugin && Body && <Body plugin={plugin} query={{}} />}
    </Frame>
  );
}

function AppRoot() {
  const { plugin, error } = usePlugin();
  const location = useLocation();
  const Root = plugin?.root;
  const page = (plugin?.meta?.includes ?? []).find(
    (i) => i.path && location.pathname.endsWith(i.path.split('/').pop() ?? '¬')
  );
  React.useEffect(() => {
    if (Root) {
      window.__harness.mounted = true;
    }
  }, [Root]);
  const title = page?.name ?? 'AlertChart';
  return (
    <Frame title={title} crumbs={['Home', 'Apps', 'AlertChart', title]}>
      {error && <pre data-testid="harness-error">{error}</pre>}
      {!plugin && !error && <LoadingPlaceholder text="Loading plugin…" />}
      {plugin && Root && (
        <Root
          meta={plugin.meta}
          basename={`/a/${PLUGIN_ID}`}
          onNavChanged={() => {}}
          query={Object.fromEntries(new URLSearchParams(location.search))}
          path={location.pathname}
        />
      )}
    </Frame>
  );
}

function NotFound() {
  return (
    <Frame title="Page not found" crumbs={['Home']}>
      <Link to={`/plugins/${PLUGIN_ID}`}>AlertChart</Link>
    </Frame>
  );
}

function HarnessApp() {
  return (
    <grafanaData.ThemeContext.Provider value={config.theme2}>
      <GlobalStyles />
      <BrowserRouter>
        <Routes>
          <Route path={`/plugins/${PLUGIN_ID}`} element={<ConfigPage />} />
          <Route path={`/a/${PLUGIN_ID}/*`} element={<AppRoot />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </BrowserRouter>
    </grafanaData.ThemeContext.Provider>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  app: css({ minHeight: '100vh', background: theme.colors.background.canvas }),
  topbar: css({
    display: 'flex',
    alignItems: 'center',
    gap: theme.spacing(1),
    height: 40,
    padding: theme.spacing(0, 2),
    background: theme.colors.background.primary,
    borderBottom: `1px solid ${theme.colors.border.weak}`,
    color: theme.colors.text.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  crumb: css({ display: 'inline-flex', alignItems: 'center', gap: theme.spacing(1) }),
  page: css({ padding: theme.spacing(3, 4) }),
  title: css({ ...theme.typography.h1, marginBottom: theme.spacing(2) }),
  content: css({ paddingTop: theme.spacing(3) }),
});

window.addEventListener('error', (e) => window.__harness.errors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__harness.errors.push(String(e.reason)));

createRoot(document.getElementById('reactRoot')!).render(<HarnessApp />);
