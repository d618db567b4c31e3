import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SCREENSHOT_DIR, documentRow, expectAccessible, signUp, upload, waitForStatus } from "./helpers";

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = path.resolve(FRONTEND_DIR, "..", ".venv", "bin", "python");
const SAMPLE_DIR = path.join(FRONTEND_DIR, "test-results", "formats");
const XLSX_PATH = path.join(SAMPLE_DIR, "lighthouse-keepers.xlsx");
const DOCS_SCREENSHOT = path.resolve(FRONTEND_DIR, "..", "docs", "screenshots", "viewer-spreadsheet-rows.png");

/** A workbook with two sheets, written with openpyxl (the library DocChat reads XLSX with); the answer is on row 42 of "Keepers". */
const MAKE_XLSX = `
import sys, openpyxl
book = openpyxl.Workbook()
lights = book.active
lights.title = "Lighthouses"
lights.append(("Lighthouse", "Country", "First lit"))
lights.append(("Bell Rock", "Scotland", 1810))
lights.append(("Fastnet", "Ireland", 1904))
keepers = book.create_sheet("Keepers")
keepers.append(("Keeper", "Station", "Year", "Deed"))
for row in range(2, 42):
    keepers.append((f"Keeper {row}", f"Station {row}", 1800 + row, "Routine watch"))
keepers.append(("Grace Darling", "Longstone", 1838, "Rowed out through the storm to rescue nine survivors"))
keepers.append(("William Darling", "Longstone", 1838, "Rowed with his daughter"))
book.save(sys.argv[1])
`;

const ARTICLE = `<!doctype html><html><head><meta charset="utf-8"><title>Fog signals of the Forth</title></head>
<body><nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<article><h1>Fog signals of the Forth</h1>
<p>The Inchkeith fog horn sounded two blasts every ninety seconds until it was switched off in 1986.</p>
<p>Keepers started the engines as soon as the far shore disappeared from view.</p></article>
<footer>Copyright Example Lights. Cookie policy.</footer></body></html>`;

let site: Server;
let siteUrl = "";

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await mkdir(SAMPLE_DIR, { recursive: true });
  execFileSync(PYTHON, ["-c", MAKE_XLSX, XLSX_PATH]);
  site = createServer((request, response) => {
    if (request.url === "/fog-signals") {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(ARTICLE);
    } else {
      response.writeHead(404, { "Content-Type": "text/plain" });
      response.end("not found");
    }
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => site.close(() => resolve()));
  await rm(SAMPLE_DIR, { recursive: true, force: true });
});

async function ask(page: Page, question: string) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
  const input = page.getByLabel("Your question");
  await input.fill(question);
  await input.press("Enter");
  await expect(page.getByTestId("chat-status")).toHaveText("Answer complete.", { timeout: 180_000 });
  return page.getByTestId("assistant-message").last();
}

test("a spreadsheet citation opens the sheet's table at the cited rows", async ({ page }) => {
  await signUp(page, "viewer-xlsx");
  await upload(page, XLSX_PATH);
  await waitForStatus(page, "lighthouse-keepers.xlsx", "ready");

  const answer = await ask(page, "Who rowed out through the storm to rescue nine survivors?");
  await expect(answer).toContainText("Grace Darling");
  await answer.locator("button.citation-marker").first().click();
  const panel = page.getByTestId("source-panel");
  await expect(panel.getByTestId("source-page")).toContainText("Sheet “Keepers”, rows");

  const viewer = panel.getByTestId("document-viewer");
  await expect(viewer.getByTestId("viewer-page-label")).toHaveText("Sheet 2 of 2");
  await expect(viewer.getByTestId("viewer-page-title")).toHaveText("Keepers");
  const table = viewer.getByTestId("table-page");
  await expect(table.locator("thead th")).toHaveText(["Row1", "Keeper", "Station", "Year", "Deed"]);
  const cited = table.getByTestId("viewer-highlight-row");
  await expect(cited).toHaveCount(1);
  await expect(cited).toHaveAttribute("data-row", "42");
  await expect(cited.locator("td")).toHaveText(["Grace Darling", "Longstone", "1838", "Rowed out through the storm to rescue nine survivors"]);
  await expect(cited).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-spreadsheet-rows.png") });
  await copyFile(path.join(SCREENSHOT_DIR, "viewer-spreadsheet-rows.png"), DOCS_SCREENSHOT);
  await expectAccessible(page, "the spreadsheet viewer");

  // The other sheet is one click away, and its table has its own header.
  await viewer.getByRole("button", { name: "Previous sheet" }).click();
  await expect(viewer.getByTestId("viewer-page-title")).toHaveText("Lighthouses");
  await expect(viewer.getByTestId("table-page").locator("thead th")).toHaveText(["Row1", "Lighthouse", "Country", "First lit"]);
});

test("a web page imported from its address is answered from its main content", async ({ page }) => {
  await signUp(page, "import-url");
  const field = page.getByLabel("Web page or PDF address");
  await field.fill(`${siteUrl}/missing`);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(page.locator("#import-url-error")).toContainText("HTTP status 404 (not found)");

  await field.fill(`${siteUrl}/fog-signals`);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await expect(page.getByTestId("import-url-status")).toHaveText("Added Fog signals of the Forth.html.");
  await expect(field).toHaveValue("");
  await waitForStatus(page, "Fog signals of the Forth.html", "ready");
  await expect(documentRow(page, "Fog signals of the Forth.html")).toBeVisible();

  const answer = await ask(page, "How often did the Inchkeith fog horn sound?");
  await expect(answer).toContainText("two blasts every ninety seconds");
  await answer.locator("button.citation-marker").first().click();
  const viewer = page.getByTestId("source-panel").getByTestId("document-viewer");
  await expect(viewer.getByTestId("viewer-highlight").first()).toContainText("two blasts every ninety seconds");
  await expect(viewer.getByTestId("text-page")).not.toContainText("Cookie policy");
});
