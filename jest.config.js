import { existsSync } from "node:fs";

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
  roots: ["src", "test", "modules", "conformance"]
    .filter((dir) => existsSync(dir))
    .map((dir) => `<rootDir>/${dir}`),
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/"],
  testTimeout: 30000,
  maxWorkers: 2,
  reporters: ["default", "<rootDir>/test/support/summary-reporter.cjs"],
};
