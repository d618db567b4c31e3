import { expect, type Locator, type Page } from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPO_ROOT = path.resolve(FRONTEND_DIR, "..");
/** The shared test corpus, `../shared/corpus` from the repository root. */
export const CORPUS_DIR = path.resolve(REPO_ROOT, "../shared/corpus");
export const SCREENSHOT_DIR = path.join(FRONTEND_DIR, "test-results", "screenshots");

export const PASSWORD = "correct-horse-battery-staple";

export function uniqueEmail(label: string): string {
  return `e2e-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Creates an account through the UI; registration signs in and opens the library. */
export async function signUp(page: Page, label: string): Promise<string> {
  const email = uniqueEmail(label);
  await page.goto("/register/");
  await page.getByLabel("Full name").fill("E2E Tester");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/library\/$/, { timeout: 30_000 });
  await expect(page.getByRole("heading", { name: "Library" })).toBeVisible();
  return email;
}

export function documentRow(page: Page, filename: string): Locator {
  return page.getByTestId("document-row").filter({ has: page.getByRole("heading", { name: filename, exact: true }) });
}

/** Uploads files through the file input behind "Choose files". */
export async function upload(page: Page, files: Parameters<Page["setInputFiles"]>[1]): Promise<void> {
  await page.locator("#upload-input").setInputFiles(files);
}

export async function waitForStatus(page: Page, filename: string, status: "ready" | "failed"): Promise<Locator> {
  const row = documentRow(page, filename);
  await expect(row).toHaveAttribute("data-status", status, { timeout: 180_000 });
  return row;
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
