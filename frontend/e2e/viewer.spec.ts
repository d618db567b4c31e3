import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { watchApiContract } from "./api-contract";
import { CORPUS_DIR, SCREENSHOT_DIR, expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";
import { ViewerPane } from "./pages/viewer";

const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = path.resolve(FRONTEND_DIR, "..", ".venv", "bin", "python");
const DOCX_DIR = path.join(FRONTEND_DIR, "test-results", "docx");
const DOCX_PATH = path.join(DOCX_DIR, "lighthouse-keeping.docx");
const SCAN_PATH = path.join(DOCX_DIR, "harbour-scan.pdf");
const TIFF_PATH = path.join(DOCX_DIR, "harbour-scan.tiff");
const BACKEND_DIR = path.resolve(FRONTEND_DIR, "..", "backend");

/** A small Word document, written with python-docx (the library DocChat reads DOCX with). */
const MAKE_DOCX = `
import sys, docx
document = docx.Document()
document.add_heading("Lighthouse keeping", level=1)
document.add_paragraph("The lamp is lit at sunset and put out at sunrise by the keeper on duty.")
document.add_heading("Fog signals", level=2)
document.add_paragraph(
    "Visibility is checked every hour from the gallery. "
    "In thick fog the keeper sounds the horn twice every minute until the fog lifts. "
    "The horn is tested each Monday morning."
)
document.add_heading("Supplies", level=2)
document.add_paragraph("Paraffin for the lamp is delivered by boat on the first day of each month.")
document.save(sys.argv[1])
`;

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await mkdir(DOCX_DIR, { recursive: true });
  execFileSync(PYTHON, ["-c", MAKE_DOCX, DOCX_PATH]);
  // Pages printed into pictures by Pillow: the PDF has no text layer, only OCR reads it.
  execFileSync(PYTHON, ["-m", "tests.ocr_samples", "scanned-pdf", SCAN_PATH], { cwd: BACKEND_DIR });
  execFileSync(PYTHON, ["-m", "tests.ocr_samples", "tiff", TIFF_PATH], { cwd: BACKEND_DIR });
});

test.afterAll(async () => {
  await rm(DOCX_DIR, { recursive: true, force: true });
});

/** Signs up, uploads one file and waits until it is ready. */
async function signUpWith(page: Page, label: string, file: string): Promise<{ email: string; library: LibraryPage }> {
  const email = await new AuthPages(page).signUp(label);
  const library = new LibraryPage(page);
  await library.upload(file);
  await library.waitForStatus(path.basename(file), "ready");
  return { email, library };
}

async function askAndOpenCitation(page: Page, question: string): Promise<ViewerPane> {
  const chat = new ChatPage(page);
  await chat.open();
  await chat.ask(question);
  await chat.waitForAnswer();
  const answer = chat.lastAnswer();
  await expect(chat.extractiveLabel(answer)).toHaveText("Quotes from your documents");
  await expect(chat.searchedFor(answer)).toContainText(question);
  return chat.openFirstCitation();
}

const { markedText } = ViewerPane;

test("a citation opens the PDF at the cited page with the answering sentence marked on the page", async ({ page }) => {
  const { email } = await signUpWith(page, "viewer-pdf", path.join(CORPUS_DIR, "GeoBase_NHNC1_Data_Model_UML_EN.pdf"));

  // The answer is printed on page 7; the passage that holds it begins on page 6.
  const panel = await askAndOpenCitation(page, "What does the Hydro Event package contain?");
  await expect(panel.sourcePage).toHaveText("Page 7");
  await expect.poll(() => markedText(panel.snippetHighlights)).toContain("Hydro Event package contains attributive information");
  const pdfPage = panel.pdfPage;
  await expect(pdfPage).toHaveAttribute("data-page-number", "7", { timeout: 60_000 });
  await expect(panel.pageLabel).toHaveText("Page 7 of 19");
  const marks = panel.pdfMarks;
  await expect(marks.first()).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => markedText(marks)).toContain("The Hydro Event package contains attributive information");
  await expect(marks.first()).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-pdf-highlight.png") });
  await expectAccessible(page, "the chat with the document viewer");

  // Page navigation and zoom.
  await panel.nextPageButton.click();
  await expect(pdfPage).toHaveAttribute("data-page-number", "8");
  await panel.previousPageButton.click();
  await expect(pdfPage).toHaveAttribute("data-page-number", "7");
  const width = (await pdfPage.boundingBox())!.width;
  await panel.zoomInButton.click();
  await expect.poll(async () => (await pdfPage.boundingBox())!.width).toBeGreaterThan(width * 1.2);

  // "Download original" saves the file under its name.
  const download = page.waitForEvent("download");
  await panel.downloadButton.click();
  expect((await download).suggestedFilename()).toBe("GeoBase_NHNC1_Data_Model_UML_EN.pdf");

  // The deep link reopens the same view, also after signing in again.
  const href = await panel.fullViewLink.getAttribute("href");
  expect(href).toMatch(/^\/viewer\/\?document=[\w-]+&page=7&chunk=\d+&hl=7%3A\d+-\d+/);
  const auth = new AuthPages(page);
  await auth.signOut();
  await page.goto(href!);
  await expect(page).toHaveURL(/\/login\/\?next=%2Fviewer%2F/);
  await auth.signIn(email);
  await expect(page).toHaveURL(/\/viewer\/\?document=/);
  const reopened = ViewerPane.page(page);
  await expect(reopened.pdfPage).toHaveAttribute("data-page-number", "7", { timeout: 60_000 });
  await expect
    .poll(() => markedText(reopened.pdfMarks), { timeout: 30_000 })
    .toContain("The Hydro Event package contains attributive information");

  // A document that is gone (or someone else's) says so.
  await page.goto("/viewer/?document=00000000-0000-4000-8000-000000000000&page=2");
  await expect(ViewerPane.page(page).alert).toHaveText("This document has been deleted, or you do not have access to it.");
});

test("a citation opens a Word document's text with the answering sentence marked", async ({ page }) => {
  const contract = watchApiContract(page);
  await signUpWith(page, "viewer-docx", DOCX_PATH);

  const panel = await askAndOpenCitation(page, "How often does the keeper sound the horn in fog?");
  await expect(panel.filename).toHaveText("lighthouse-keeping.docx");
  const text = panel.textPage;
  await expect(text).toContainText("Paraffin for the lamp");
  const mark = panel.textMarks;
  await expect(mark).toHaveText("In thick fog the keeper sounds the horn twice every minute until the fog lifts.");
  await expect(mark).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-docx-highlight.png") });
  expect(await contract.expectAllMatch()).toContainEqual(expect.stringMatching(/^GET \/api\/v1\/documents\/[\w-]+\/pages\/\d+ → 200$/));
});

test("on a phone the viewer takes the whole screen", async ({ browser }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signUpWith(page, "viewer-phone", path.join(CORPUS_DIR, "Seige_of_Vicksburg_Sample_OCR.pdf"));
  const panel = await askAndOpenCitation(page, "How close to Fort Hill was the regiment?");
  await expect(panel.sourcePage).toHaveText("Page 5");
  const box = (await panel.root.boundingBox())!;
  expect(box.width).toBeGreaterThanOrEqual(389);
  await expect
    .poll(() => markedText(panel.pdfMarks), { timeout: 60_000 })
    .toContain("so close to Fort Hill");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-phone.png") });
  await phone.close();
});

test("a citation opens a scanned PDF at the cited page with the OCR'd sentence boxed on the page image", async ({ page }) => {
  const { library } = await signUpWith(page, "viewer-scan", SCAN_PATH);
  await expect(library.row("harbour-scan.pdf")).toContainText("text of 2 pages read by OCR");

  const panel = await askAndOpenCitation(page, "Where do pilots board incoming ships?");
  await expect(panel.sourcePage).toHaveText("Page 2");
  const pdfPage = panel.pdfPage;
  await expect(pdfPage).toHaveAttribute("data-page-number", "2", { timeout: 60_000 });
  const boxes = panel.ocrMarks;
  await expect(boxes.first()).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => markedText(boxes)).toContain("Pilots board incoming ships at the outer buoy");
  await expect(boxes.first()).toBeInViewport();
  // The box sits over the printed line: the second line of text, 150 + 56 of 2200 px down the page.
  const pageBox = (await pdfPage.boundingBox())!;
  const markBox = (await boxes.first().boundingBox())!;
  const top = (markBox.y - pageBox.y) / pageBox.height;
  expect(top).toBeGreaterThan(0.085);
  expect(top).toBeLessThan(0.1);
  await expect(panel.root.getByText("The cited sentence could not be located on this page.")).toHaveCount(0);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-ocr-highlight.png") });
});

test("a citation opens a page of a multi-page TIFF with the sentence boxed on the image", async ({ page }) => {
  await signUpWith(page, "viewer-tiff", TIFF_PATH);
  const panel = await askAndOpenCitation(page, "Where do pilots board incoming ships?");
  await expect(panel.sourcePage).toHaveText("Page 2");
  const image = panel.imagePage;
  await expect(image).toHaveAttribute("data-page-number", "2", { timeout: 30_000 });
  await expect(image.getByRole("img", { name: "Page 2" })).toBeVisible();
  await expect.poll(() => markedText(image.getByTestId("ocr-highlight"))).toContain("outer buoy");
  await panel.previousPageButton.click();
  await expect(panel.imagePage).toHaveAttribute("data-page-number", "1");
  await expect(panel.ocrMarks).toHaveCount(0);
});
