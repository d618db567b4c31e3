import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { CollectionsPage } from "./pages/collections";
import { LibraryPage } from "./pages/library";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const DOCUMENTS = 2000;
const FAILED = 300;
/** The oldest documents (the failed ones among them) were added 400 days ago, the others 3 days ago. */
const OLD = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

/** 2,000 documents written straight into the server's database (see scripts/e2e-seed-library.py). */
function seedLibrary(email: string): void {
  execFileSync(
    path.join(REPO_ROOT, ".venv", "bin", "python"),
    [path.join(REPO_ROOT, "scripts", "e2e-seed-library.py"), email, String(DOCUMENTS), String(FAILED), String(OLD)],
    { stdio: "inherit" },
  );
}

/** The local day `days` ago, as a date input takes it ("2025-10-26"). */
function dayAgo(days: number): string {
  const date = new Date(Date.now() - days * DAY_MS);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
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
  await page.getByTestId("bulk-progress").getByRole("button", { name: "Dismiss" }).click();
  await expect(page.getByTestId("bulk-progress")).toHaveCount(0);

  // Filter by the date added: the last 30 days leave out the 200 old ready documents…
  // A select inside its label is named "Added" plus the option shown.
  const added = page.getByRole("combobox", { name: /^Added/ });
  await added.selectOption({ label: "Last 30 days" });
  await expect(total).toHaveText(`${(DOCUMENTS - OLD).toLocaleString("en-US")} documents`);
  await expect(page.getByTestId("count-all")).toHaveText(` ${(DOCUMENTS - OLD).toLocaleString("en-US")}`);
  await added.selectOption({ label: "Last 12 months" });
  await expect(total).toHaveText(`${(DOCUMENTS - OLD).toLocaleString("en-US")} documents`);
  // …and a custom range around 400 days ago shows only them, newest first.
  await added.selectOption({ label: "Custom…" });
  await page.getByLabel("From", { exact: true }).fill(dayAgo(402));
  await page.getByLabel("To", { exact: true }).fill(dayAgo(398));
  await expect(total).toHaveText(`${OLD - FAILED} documents`);
  await expect(rows.first()).toContainText(`report-0${OLD}.pdf`);
  await expectAccessible(page, "the library with a custom date range");

  // Select all of them and delete them: only what the range shows goes, and the progress survives a reload.
  await page.getByTestId("select-all").check();
  await expect(page.getByTestId("selected-count")).toHaveText(`All ${OLD - FAILED} matching documents selected`);
  await page.getByTestId("bulk-actions").getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog", { name: "Delete the selected documents?" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByTestId("bulk-progress")).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("bulk-progress")).toHaveAttribute("data-status", "done", { timeout: 120_000 });
  await expect(page.getByTestId("bulk-progress")).toContainText(`${OLD - FAILED} documents deleted.`);
  await expect(total).toHaveText(`${(DOCUMENTS - OLD).toLocaleString("en-US")} documents`);
  await page.getByTestId("bulk-progress").getByRole("button", { name: "Dismiss" }).click();

  // A collection's page lists its documents through the same list: add 100 of them to one and open it.
  const collections = new CollectionsPage(page);
  await collections.create("Scale");
  await collections.link("All documents").click();
  await expect(library.documentsHeading).toBeVisible();
  await page.getByLabel("Search").fill("report-19");
  await expect(total).toHaveText("100 documents");
  await page.getByTestId("select-all").check();
  await page.getByLabel("Collection to add the selected documents to").selectOption({ label: "Scale" });
  await page.getByTestId("bulk-actions").getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("bulk-progress")).toContainText("100 documents added to the collection.", { timeout: 120_000 });
  await collections.open("Scale");
  await expect(page.getByRole("heading", { name: "Documents in this collection" })).toBeVisible();
  await expect(total).toHaveText("100 documents");
  expect(await rows.count()).toBeLessThan(60);
  await expect(rows.first()).toContainText("report-1999.pdf");
  await page.getByLabel("Search").fill("report-195");
  await expect(total).toHaveText("10 documents");
  await expect(rows.first().getByRole("button", { name: /^Remove ?report-1959\.pdf from the collection$/ })).toBeVisible();
});
