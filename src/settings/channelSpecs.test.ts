import { readFileSync } from 'fs';
import { join } from 'path';
import { CHANNEL_SPECS, CHANNEL_TYPES } from './model';

// Each chat platform is described once, by its Go package's Spec; the
// registry writes pkg/channels/registry/channel-specs.json from the specs
// (checked up to date by a Go test). The config page's channel form must
// offer exactly the fields and secrets the backend reads.
interface GoSpec {
  type: string;
  fields: string[];
  required: string[];
  secrets: Array<{ field: string; required: boolean }>;
}

const specs: GoSpec[] = JSON.parse(
  readFileSync(join(__dirname, '../../pkg/channels/registry/channel-specs.json'), 'utf8')
);

test('the channel types are the Go platforms, in order', () => {
  expect([...CHANNEL_TYPES]).toEqual(specs.map((s) => s.type));
});

test.each(specs.map((s) => [s.type, s] as const))('%s: fields and secrets match the Go spec', (type, spec) => {
  const page = CHANNEL_SPECS[type as keyof typeof CHANNEL_SPECS];
  expect(page).toBeDefined();
  expect([...page.options].sort()).toEqual([...spec.fields].sort());
  const bySecret = (a: { field: string }, b: { field: string }) => a.field.localeCompare(b.field);
  expect([...page.secrets].sort(bySecret)).toEqual([...spec.secrets].sort(bySecret));
});
