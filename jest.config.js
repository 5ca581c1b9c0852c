/** Jest runs the TypeScript sources through swc as native ES modules. */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript" }, target: "es2023", keepClassNames: true },
        module: { type: "es6" },
        sourceMaps: "inline",
      },
    ],
  },
  moduleNameMapper: {
    "^outrig/(sdk|errors|spi|smoke)$": "<rootDir>/src/$1/index.ts",
  },
  roots: ["<rootDir>/src", "<rootDir>/test", "<rootDir>/modules", "<rootDir>/conformance"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.cjs"],
};
