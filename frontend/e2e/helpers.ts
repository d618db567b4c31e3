import { expect, type Locator, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPO_ROOT = path.resolve(FRONTEND_DIR, "..");
/** The shared test corpus, `../shared/corpus` from the repository root. */
export const CORPUS_DIR = path.resolve(REPO_ROOT, "../shared/corpus");
export const SCREENSHOT_DIR = path.join(FRONTEND_DIR, "test-results", "screenshots");

export const PASSWORD = "correct-horse-battery-staple";
/** The first account of the e2e server (global.setup.ts), hence its administrator. */
export const ADMIN_EMAIL = "e2e-admin@example.com";

/**
 * Whether the committed OpenAPI document (src/lib/api/openapi.json) has a route. Tests of API
 * that another branch builds run once that branch is merged and `make client` has added it;
 * after that this is always true, so they can never be skipped silently.
 */
export function apiHasRoute(route: string): boolean {
  return route in (openapiDocument().paths ?? {});
}

let openapiCache: { paths?: Record<string, unknown> } | null = null;
function openapiDocument(): { paths?: Record<string, unknown> } {
  openapiCache ??= JSON.parse(readFileSync(path.join(FRONTEND_DIR, "src", "lib", "api", "openapi.json"), "utf-8")) as {
    paths?: Record<string, unknown>;
  };
  return openapiCache;
}

export function uniqueEmail(label: string): string {
  return `e2e-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** WCAG 2.1 A/AA checks (contrast, labels, roles) on the current page state. */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const { default: AxeBuilder } = await import("@axe-core/playwright");
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const problems = results.violations.map(
    (violation) => `${violation.id} (${violation.impact ?? "?"}): ${violation.help} — ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
  );
  expect(problems, `accessibility of ${label}`).toEqual([]);
}

/**
 * Presses Tab (Shift+Tab with `backwards`) until `target` has the focus, as a keyboard user
 * does; fails after `max` presses.
 */
export async function tabTo(page: Page, target: Locator, { backwards = false, max = 80 } = {}): Promise<void> {
  const focused = async () => (await target.count()) === 1 && (await target.evaluate((element) => element === document.activeElement));
  for (let press = 0; press < max && !(await focused()); press += 1) {
    await page.keyboard.press(backwards ? "Shift+Tab" : "Tab");
  }
  await expect(target, "reached with Tab").toBeFocused({ timeout: 1_000 });
}

/** Whether the focused element is outside `root` (and not the page body). */
export async function focusIsOutside(page: Page, root: Locator): Promise<boolean> {
  const rootHandle = await root.elementHandle();
  return page.evaluate((element) => {
    const focused = document.activeElement;
    return focused !== null && focused !== document.body && !element?.contains(focused);
  }, rootHandle);
}
