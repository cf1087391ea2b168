// Unit tests (*.test.ts) need nothing running; integration tests (*.int.test.ts) talk to the
// services of bin/stack and read their settings from the environment (bin/test sets it).
const transform = {
  '^.+\\.ts$': ['ts-jest', {
    // Type-checking is `npm run typecheck`; here files are only transpiled, to CommonJS for jest.
    tsconfig: { isolatedModules: true, module: 'commonjs', moduleResolution: 'node10', verbatimModuleSyntax: false, allowImportingTsExtensions: true, noEmit: false, esModuleInterop: true },
  }],
};
const common = { transform, testEnvironment: 'node', roots: ['<rootDir>'], modulePathIgnorePatterns: ['<rootDir>/node_modules/'] };

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '\\.int\\.test\\.ts$'] },
    { ...common, displayName: 'integration', testMatch: ['**/*.int.test.ts'], slowTestThreshold: 30, testTimeout: 60_000 },
  ],
};
