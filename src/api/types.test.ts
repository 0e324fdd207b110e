import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import * as ts from 'typescript';

// The API's answers are Go structs (pkg/resources, pkg/pipeline,
// pkg/delivery, pkg/chartplan, …); the pages read them through the
// interfaces of src/api/types.ts. This test reads both sources, as
// settings/model.test.ts does for the settings, and fails when a field is
// added to, renamed in or removed from either side.

const root = join(__dirname, '../..');

/** Go struct (found in any non-test file of its package) ↔ TypeScript interface. */
const PAIRS: Array<[pkg: string, goStruct: string, tsInterface: string]> = [
  ['pkg/resources', 'explainAnswer', 'ExplainAnswer'],
  ['pkg/resources', 'previewAnswer', 'PreviewAnswer'],
  ['pkg/resources', 'resendAnswer', 'ResendAnswer'],
  ['pkg/resources', 'testAnswer', 'TestAnswer'],
  ['pkg/resources', 'denial', 'Denial'],
  ['pkg/intake', 'Error', 'ErrorAnswer'],
  ['pkg/delivery', 'RecentAlert', 'RecentAlert'],
  ['pkg/pipeline', 'Health', 'Health'],
  ['pkg/pipeline', 'Check', 'HealthCheck'],
  ['pkg/channels', 'Result', 'SendResult'],
  ['pkg/delivery', 'Delivery', 'Delivery'],
  ['pkg/delivery', 'ChannelDelivery', 'ChannelDelivery'],
  ['pkg/delivery', 'Attempt', 'Attempt'],
  ['pkg/delivery', 'alertSummary', 'AlertSummary'],
  ['pkg/chartplan', 'Plan', 'Plan'],
  ['pkg/chartplan', 'Rule', 'PlanRule'],
  ['pkg/chartplan', 'AlertRef', 'PlanAlert'],
  ['pkg/chartplan', 'Part', 'PlanPart'],
  ['pkg/chartplan', 'Reference', 'PlanReference'],
  ['pkg/chartplan', 'Overview', 'PlanOverview'],
  ['pkg/chartplan', 'GrafanaPlan', 'GrafanaPlan'],
  ['pkg/chartplan', 'GrafanaQuery', 'GrafanaQuery'],
  ['pkg/series', 'Threshold', 'Threshold'],
];

/** Answers the Go code writes as a map literal, not a struct: handler → its one key. */
const MAP_ANSWERS: Array<[handler: string, tsInterface: string]> = [
  ['recent', 'RecentList'],
  ['deliveries', 'DeliveryList'],
];

/** Interfaces of types.ts that mirror no AlertChart Go type, and why. */
const NOT_GO: Record<string, string> = {
  AmAlert: 'Alertmanager’s own webhook alert (prometheus/alertmanager template.Alert)',
  WebhookPayload: 'Alertmanager’s own webhook payload (template.Data), which the pages post to explain/preview',
};

interface Field {
  name: string;
  optional: boolean;
  /** Go: a pointer written without omitempty (null when unset); TS: the type admits null. */
  nullable: boolean;
}

function goSources(pkg: string): string {
  const dir = join(root, pkg);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

/** The JSON fields of a Go struct as encoding/json writes them. */
function goFields(pkg: string, name: string): Field[] {
  const src = goSources(pkg);
  const m = new RegExp(`^type ${name} struct \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(src);
  if (!m) {
    throw new Error(`struct ${name} not found in ${pkg}`);
  }
  const fields: Field[] = [];
  for (const raw of m[1].split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) {
      continue;
    }
    const f = /^([A-Za-z_]\w*)\s+(\S+)\s*(`.*`)?$/.exec(line);
    if (!f) {
      throw new Error(
        `${pkg}.${name}: cannot read the field line "${raw.trim()}" (embedded struct?): extend this test`
      );
    }
    const [, goName, goType, tag] = f;
    const json = tag ? /json:"([^"]*)"/.exec(tag) : null;
    if (!/^[A-Z]/.test(goName) || json?.[1] === '-') {
      continue; // not marshalled
    }
    const [tagName, ...opts] = (json?.[1] ?? '').split(',');
    const omitempty = opts.includes('omitempty');
    fields.push({ name: tagName || goName, optional: omitempty, nullable: goType.startsWith('*') && !omitempty });
  }
  return fields;
}

const tsSource = ts.createSourceFile(
  'types.ts',
  readFileSync(join(__dirname, 'types.ts'), 'utf8'),
  ts.ScriptTarget.Latest,
  true
);
const tsInterfaces = new Map<string, Field[]>();
for (const st of tsSource.statements) {
  if (ts.isInterfaceDeclaration(st)) {
    tsInterfaces.set(
      st.name.text,
      st.members.filter(ts.isPropertySignature).map((p) => ({
        name: p.name.getText(tsSource).replace(/^['"]|['"]$/g, ''),
        optional: Boolean(p.questionToken),
        nullable: Boolean(p.type && /\bnull\b/.test(p.type.getText(tsSource))),
      }))
    );
  }
}

function tsFields(name: string): Field[] {
  const f = tsInterfaces.get(name);
  if (!f) {
    throw new Error(`interface ${name} not found in src/api/types.ts`);
  }
  return f;
}

const names = (fs: Field[]) => fs.map((f) => f.name).sort();

describe('src/api/types.ts has the Go answer types’ JSON fields', () => {
  test.each(PAIRS)('%s.%s ↔ %s: the same fields', (pkg, goStruct, tsName) => {
    expect(names(tsFields(tsName))).toEqual(names(goFields(pkg, goStruct)));
  });

  test.each(PAIRS)('%s.%s ↔ %s: what Go may leave out (omitempty) is optional', (pkg, goStruct, tsName) => {
    const byName = new Map(tsFields(tsName).map((f) => [f.name, f]));
    const mustBeOptional = goFields(pkg, goStruct)
      .filter((f) => f.optional && byName.has(f.name) && !byName.get(f.name)!.optional)
      .map((f) => f.name);
    expect(mustBeOptional).toEqual([]);
  });

  test.each(PAIRS)('%s.%s ↔ %s: what Go writes as null (a nil pointer) admits null', (pkg, goStruct, tsName) => {
    const byName = new Map(tsFields(tsName).map((f) => [f.name, f]));
    const mustAdmitNull = goFields(pkg, goStruct)
      .filter((f) => f.nullable && byName.has(f.name) && !byName.get(f.name)!.nullable)
      .map((f) => f.name);
    expect(mustAdmitNull).toEqual([]);
  });

  test.each(MAP_ANSWERS)('GET %s answers {"<key>": …} with the key of %s', (handler, tsName) => {
    const src = goSources('pkg/resources');
    const fn = new RegExp(`func \\(a \\*api\\) ${handler}\\([\\s\\S]*?\\n\\}`).exec(src);
    expect(fn).not.toBeNull();
    const keys = new Set([...fn![0].matchAll(/map\[string\]any\{"(\w+)":/g)].map((m) => m[1]));
    expect([...keys]).toEqual(names(tsFields(tsName)));
  });

  test('every interface of types.ts is checked against Go, or says why it mirrors no Go type', () => {
    const covered = new Set([...PAIRS.map((p) => p[2]), ...MAP_ANSWERS.map((m) => m[1]), ...Object.keys(NOT_GO)]);
    expect([...tsInterfaces.keys()].filter((n) => !covered.has(n))).toEqual([]);
  });

  test('the reader sees what it should (a self-check of this test)', () => {
    expect(goFields('pkg/delivery', 'ChannelDelivery')).toContainEqual({
      name: 'textSentAt',
      optional: false,
      nullable: true,
    });
    expect(goFields('pkg/intake', 'Error').map((f) => f.name)).toEqual(['error', 'field']);
    expect(tsFields('Plan').find((f) => f.name === 'grafana')).toEqual({
      name: 'grafana',
      optional: true,
      nullable: false,
    });
  });
});
