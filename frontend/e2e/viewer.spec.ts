import { expect, test, type Locator, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CORPUS_DIR, PASSWORD, SCREENSHOT_DIR, expectAccessible, signUp, upload, waitForStatus } from "./helpers";

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

async function askAndOpenCitation(page: Page, question: string): Promise<Locator> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
  const input = page.getByLabel("Your question");
  await input.fill(question);
  await input.press("Enter");
  await expect(page.getByTestId("chat-status")).toHaveText("Answer complete.", { timeout: 180_000 });
  const answer = page.getByTestId("assistant-message").last();
  await expect(answer.getByTestId("extractive-label")).toHaveText("Quotes from your documents");
  await expect(answer.getByTestId("searched-for")).toContainText(question);
  await answer.locator("button.citation-marker").first().click();
  const panel = page.getByTestId("source-panel");
  await expect(panel).toBeVisible();
  return panel;
}

/** The text of every mark, joined: a sentence is marked in pieces, one per text-layer span. */
async function markedText(marks: Locator): Promise<string> {
  return (await marks.allTextContents()).join(" ").replace(/\s+/g, " ");
}

test("a citation opens the PDF at the cited page with the answering sentence marked on the page", async ({ page }) => {
  const email = await signUp(page, "viewer-pdf");
  await upload(page, path.join(CORPUS_DIR, "GeoBase_NHNC1_Data_Model_UML_EN.pdf"));
  await waitForStatus(page, "GeoBase_NHNC1_Data_Model_UML_EN.pdf", "ready");

  // The answer is printed on page 7; the passage that holds it begins on page 6.
  const panel = await askAndOpenCitation(page, "What does the Hydro Event package contain?");
  await expect(panel.getByTestId("source-page")).toHaveText("Page 7");
  await expect.poll(() => markedText(panel.getByTestId("snippet-highlight"))).toContain("Hydro Event package contains attributive information");
  const pdfPage = panel.getByTestId("pdf-page");
  await expect(pdfPage).toHaveAttribute("data-page-number", "7", { timeout: 60_000 });
  await expect(panel.getByTestId("viewer-page-label")).toHaveText("Page 7 of 19");
  const marks = pdfPage.locator(".textLayer mark.viewer-highlight");
  await expect(marks.first()).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => markedText(marks)).toContain("The Hydro Event package contains attributive information");
  await expect(marks.first()).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-pdf-highlight.png") });
  await expectAccessible(page, "the chat with the document viewer");

  // Page navigation and zoom.
  await panel.getByRole("button", { name: "Next page" }).click();
  await expect(pdfPage).toHaveAttribute("data-page-number", "8");
  await panel.getByRole("button", { name: "Previous page" }).click();
  await expect(pdfPage).toHaveAttribute("data-page-number", "7");
  const width = (await pdfPage.boundingBox())!.width;
  await panel.getByRole("button", { name: "Zoom in" }).click();
  await expect.poll(async () => (await pdfPage.boundingBox())!.width).toBeGreaterThan(width * 1.2);

  // "Download original" saves the file under its name.
  const download = page.waitForEvent("download");
  await panel.getByRole("button", { name: "Download original" }).click();
  expect((await download).suggestedFilename()).toBe("GeoBase_NHNC1_Data_Model_UML_EN.pdf");

  // The deep link reopens the same view, also after signing in again.
  const href = await panel.getByRole("link", { name: "Full view" }).getAttribute("href");
  expect(href).toMatch(/^\/viewer\/\?document=[\w-]+&page=7&chunk=\d+&hl=7%3A\d+-\d+/);
  await page.getByRole("button", { name: /Account menu/ }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\/$/);
  await page.goto(href!);
  await expect(page).toHaveURL(/\/login\/\?next=%2Fviewer%2F/);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/viewer\/\?document=/);
  const reopened = page.getByTestId("pdf-page");
  await expect(reopened).toHaveAttribute("data-page-number", "7", { timeout: 60_000 });
  await expect
    .poll(() => markedText(reopened.locator(".textLayer mark.viewer-highlight")), { timeout: 30_000 })
    .toContain("The Hydro Event package contains attributive information");

  // A document that is gone (or someone else's) says so.
  await page.goto("/viewer/?document=00000000-0000-4000-8000-000000000000&page=2");
  await expect(page.getByRole("main").getByRole("alert")).toHaveText("This document has been deleted, or you do not have access to it.");
});

test("a citation opens a Word document's text with the answering sentence marked", async ({ page }) => {
  await signUp(page, "viewer-docx");
  await upload(page, DOCX_PATH);
  await waitForStatus(page, "lighthouse-keeping.docx", "ready");

  const panel = await askAndOpenCitation(page, "How often does the keeper sound the horn in fog?");
  await expect(panel.getByTestId("source-filename")).toHaveText("lighthouse-keeping.docx");
  const text = panel.getByTestId("text-page");
  await expect(text).toContainText("Paraffin for the lamp");
  const mark = text.getByTestId("viewer-highlight");
  await expect(mark).toHaveText("In thick fog the keeper sounds the horn twice every minute until the fog lifts.");
  await expect(mark).toBeInViewport();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-docx-highlight.png") });
});

test("on a phone the viewer takes the whole screen", async ({ browser }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  await signUp(page, "viewer-phone");
  await upload(page, path.join(CORPUS_DIR, "Seige_of_Vicksburg_Sample_OCR.pdf"));
  await waitForStatus(page, "Seige_of_Vicksburg_Sample_OCR.pdf", "ready");
  const panel = await askAndOpenCitation(page, "How close to Fort Hill was the regiment?");
  await expect(panel.getByTestId("source-page")).toHaveText("Page 5");
  const box = (await panel.boundingBox())!;
  expect(box.width).toBeGreaterThanOrEqual(389);
  await expect
    .poll(() => markedText(panel.locator(".textLayer mark.viewer-highlight")), { timeout: 60_000 })
    .toContain("so close to Fort Hill");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-phone.png") });
  await phone.close();
});

test("a citation opens a scanned PDF at the cited page with the OCR'd sentence boxed on the page image", async ({ page }) => {
  await signUp(page, "viewer-scan");
  await upload(page, SCAN_PATH);
  const row = await waitForStatus(page, "harbour-scan.pdf", "ready");
  await expect(row).toContainText("text of 2 pages read by OCR");

  const panel = await askAndOpenCitation(page, "Where do pilots board incoming ships?");
  await expect(panel.getByTestId("source-page")).toHaveText("Page 2");
  const pdfPage = panel.getByTestId("pdf-page");
  await expect(pdfPage).toHaveAttribute("data-page-number", "2", { timeout: 60_000 });
  const boxes = pdfPage.getByTestId("ocr-highlight");
  await expect(boxes.first()).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => markedText(boxes)).toContain("Pilots board incoming ships at the outer buoy");
  await expect(boxes.first()).toBeInViewport();
  // The box sits over the printed line: the second line of text, 150 + 56 of 2200 px down the page.
  const pageBox = (await pdfPage.boundingBox())!;
  const markBox = (await boxes.first().boundingBox())!;
  const top = (markBox.y - pageBox.y) / pageBox.height;
  expect(top).toBeGreaterThan(0.085);
  expect(top).toBeLessThan(0.1);
  await expect(panel.getByText("The cited sentence could not be located on this page.")).toHaveCount(0);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-ocr-highlight.png") });
});

test("a citation opens a page of a multi-page TIFF with the sentence boxed on the image", async ({ page }) => {
  await signUp(page, "viewer-tiff");
  await upload(page, TIFF_PATH);
  await waitForStatus(page, "harbour-scan.tiff", "ready");
  const panel = await askAndOpenCitation(page, "Where do pilots board incoming ships?");
  await expect(panel.getByTestId("source-page")).toHaveText("Page 2");
  const image = panel.getByTestId("image-page");
  await expect(image).toHaveAttribute("data-page-number", "2", { timeout: 30_000 });
  await expect(image.getByRole("img", { name: "Page 2" })).toBeVisible();
  await expect.poll(() => markedText(image.getByTestId("ocr-highlight"))).toContain("outer buoy");
  await panel.getByRole("button", { name: "Previous page" }).click();
  await expect(panel.getByTestId("image-page")).toHaveAttribute("data-page-number", "1");
  await expect(panel.getByTestId("ocr-highlight")).toHaveCount(0);
});
