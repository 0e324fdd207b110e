// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  moduleNameMapper: {
    ...base.moduleNameMapper,
    // No Grafana runs in tests: @grafana/runtime is a recording fake with Grafana's real API shapes.
    '^@grafana/runtime$': '<rootDir>/src/test/runtime.tsx',
  },
  transform: {
    ...base.transform,
    // d3-color and friends ship .mjs files that the scaffold's transform does not match.
    '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'],
  },
};
