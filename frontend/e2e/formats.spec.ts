import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SCREENSHOT_DIR, expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";

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

test("a spreadsheet citation opens the sheet's table at the cited rows", async ({ page }) => {
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await new AuthPages(page).signUp("viewer-xlsx");
  await library.upload(XLSX_PATH);
  await library.waitForStatus("lighthouse-keepers.xlsx", "ready");

  await chat.open();
  await chat.ask("Who rowed out through the storm to rescue nine survivors?");
  await chat.waitForAnswer();
  await expect(chat.lastAnswer()).toContainText("Grace Darling");
  const panel = await chat.openFirstCitation();
  await expect(panel.sourcePage).toContainText("Sheet “Keepers”, rows");

  await expect(panel.pageLabel).toHaveText("Sheet 2 of 2");
  await expect(panel.pageTitle).toHaveText("Keepers");
  await expect(panel.tablePage.locator("thead th")).toHaveText(["Row1", "Keeper", "Station", "Year", "Deed"]);
  const cited = panel.tableHighlightRows;
  await expect(cited).toHaveCount(1);
  await expect(cited).toHaveAttribute("data-row", "42");
  await expect(cited.locator("td")).toHaveText(["Grace Darling", "Longstone", "1838", "Rowed out through the storm to rescue nine survivors"]);
  await expect(cited).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-spreadsheet-rows.png") });
  await copyFile(path.join(SCREENSHOT_DIR, "viewer-spreadsheet-rows.png"), DOCS_SCREENSHOT);
  await expectAccessible(page, "the spreadsheet viewer");

  // The other sheet is one click away, and its table has its own header.
  await panel.root.getByRole("button", { name: "Previous sheet" }).click();
  await expect(panel.pageTitle).toHaveText("Lighthouses");
  await expect(panel.tablePage.locator("thead th")).toHaveText(["Row1", "Lighthouse", "Country", "First lit"]);
});

test("a web page imported from its address is answered from its main content", async ({ page }) => {
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await new AuthPages(page).signUp("import-url");
  await library.importUrl(`${siteUrl}/missing`);
  await expect(library.importUrlError).toContainText("HTTP status 404 (not found)");

  await library.importUrl(`${siteUrl}/fog-signals`);
  await expect(library.importUrlStatus).toHaveText("Added Fog signals of the Forth.html.");
  await expect(library.importUrlField).toHaveValue("");
  await library.waitForStatus("Fog signals of the Forth.html", "ready");
  await expect(library.row("Fog signals of the Forth.html")).toBeVisible();

  await chat.open();
  await chat.ask("How often did the Inchkeith fog horn sound?");
  await chat.waitForAnswer();
  await expect(chat.lastAnswer()).toContainText("two blasts every ninety seconds");
  const panel = await chat.openFirstCitation();
  await expect(panel.textMarks.first()).toContainText("two blasts every ninety seconds");
  await expect(panel.textPage).not.toContainText("Cookie policy");
});
