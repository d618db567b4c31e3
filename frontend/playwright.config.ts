import { defineConfig, devices } from "@playwright/test";

/**
 * End-to-end tests against the REAL backend: ../scripts/e2e-server.sh starts the API with an
 * embedded Postgres in a temporary DATA_DIR, serving the built static export (out/) on :8123.
 * Browsers are never downloaded: Debian's /usr/bin/chromium is used.
 */
/** E2E_PORT (also read by e2e-server.sh) lets several clones run their browser tests at once. */
const PORT = Number(process.env.E2E_PORT ?? 8123);
const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 240_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: BASE_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    // The first account of the fresh server (its administrator, for the admin console's test).
    { name: "setup", testMatch: /global\.setup\.ts/ },
    { name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined }, dependencies: ["setup"] },
  ],
  webServer: {
    command: "bash ../scripts/e2e-server.sh",
    url: `${BASE_URL}/health`,
    timeout: 180_000,
    reuseExistingServer: !process.env.CI,
    stdout: "pipe",
    stderr: "pipe",
    // SIGTERM, not the default SIGKILL: `docchat serve` then stops its embedded PostgreSQL.
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});
