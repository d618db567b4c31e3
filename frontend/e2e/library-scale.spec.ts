import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AuthPages } from "./pages/auth";
import { LibraryPage } from "./pages/library";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DOCUMENTS = 2000;
const FAILED = 300;

/** 2,000 documents written straight into the server's database (see scripts/e2e-seed-library.py). */
function seedLibrary(email: string): void {
  execFileSync(path.join(REPO_ROOT, ".venv", "bin", "python"), [path.join(REPO_ROOT, "scripts", "e2e-seed-library.py"), email, String(DOCUMENTS), String(FAILED)], {
    stdio: "inherit",
  });
}

test("a library of 2,000 documents: filter, sort, search, select all and delete", async ({ page }) => {
  const email = await new AuthPages(page).signUp("library-scale");
  seedLibrary(email);
  const library = new LibraryPage(page);
  await library.open();
  // Seeded behind the app's back: load the page afresh.
  await page.reload();

  const total = page.getByTestId("library-total");
  const rows = page.getByTestId("document-row");
  await expect(total).toHaveText("2,000 documents");
  await expect(page.getByTestId("count-failed")).toHaveText(` ${FAILED}`);
  // Virtualised: a handful of rows are in the page, not 2,000.
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeLessThan(60);
  await expect(rows.first()).toContainText("report-2000.pdf"); // newest first

  // Scrolling to the end loads the following pages.
  const scroller = page.getByTestId("library-scroll");
  const oldest = page.getByRole("heading", { name: "scan-0001.txt", exact: true });
  for (let step = 0; step < 80; step += 1) {
    await scroller.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    if (await oldest.isVisible()) break;
    await page.waitForTimeout(250);
  }
  await expect(oldest).toBeVisible();

  // Filter by status, then sort by name both ways.
  await page.getByRole("group", { name: "Status" }).getByRole("button", { name: /^Failed/ }).click();
  await expect(total).toHaveText(`${FAILED} documents`);
  await expect(rows.first()).toHaveAttribute("data-status", "failed");
  const sort = page.getByLabel("Sort");
  await sort.selectOption({ label: "Name A–Z" });
  await expect(rows.first()).toContainText("scan-0001.txt");
  await sort.selectOption({ label: "Name Z–A" });
  await expect(rows.first()).toContainText(`scan-0${FAILED}.txt`);

  // Search narrows within the filter.
  await page.getByLabel("Search").fill("scan-01");
  await expect(total).toHaveText("100 documents");
  await page.getByLabel("Search").fill("");
  await expect(total).toHaveText(`${FAILED} documents`);

  // Select every failed document (not only the rows in view) and delete them as one job.
  await page.getByTestId("select-all").check();
  await expect(page.getByTestId("selected-count")).toHaveText(`All ${FAILED} matching documents selected`);
  await page.getByTestId("bulk-actions").getByRole("button", { name: "Delete", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Delete the selected documents?" });
  await dialog.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByTestId("bulk-progress")).toHaveAttribute("data-status", "done", { timeout: 120_000 });
  await expect(page.getByTestId("bulk-progress")).toContainText(`${FAILED} documents deleted.`);
  await expect(page.getByTestId("library-no-match")).toBeVisible();
  await expect(page.getByTestId("count-all")).toHaveText(" 1,700");

  // The ready documents are all still there.
  await page.getByRole("group", { name: "Status" }).getByRole("button", { name: /^All/ }).click();
  await expect(total).toHaveText("1,700 documents");
});
