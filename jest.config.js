// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // The config page tests drive Grafana's heavy components with userEvent: a few take 10–20 s alone and
  // over 30 s when the two cores are shared. A limit that fails a correct test under load is a timed
  // assertion that flakes; this one only catches a test that hangs.
  testTimeout: 120_000,
  moduleNameMapper: {
    ...base.moduleNameMapper,
    // No Grafana runs in tests: @grafana/runtime is a recording fake with Grafana's real API shapes.
    '^@grafana/runtime$': '<rootDir>/src/test/runtime.tsx',
  },
  // @grafana/data 13 requires @react-hookz/web, which ships ESM only.
  transformIgnorePatterns: [nodeModulesToTransform([...grafanaESModules, '@react-hookz', '@ver0'])],
  transform: {
    ...base.transform,
    // d3-color and friends ship .mjs files that the scaffold's transform does not match.
    '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'],
  },
};
