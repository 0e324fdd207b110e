// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
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
