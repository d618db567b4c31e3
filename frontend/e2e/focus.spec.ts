import { expect, test, type Page } from "@playwright/test";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { SCREENSHOT_DIR, focusIsOutside, tabTo } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";

/*
 * Where the keyboard focus goes: it stays in the question box after the first question, and
 * Escape returns it to the control that opened the source panel, the account menu, the rename
 * field and the scope picker. On a phone the source panel is modal: Tab stays inside it.
 */

const HARBOUR_NOTES = [
  "Red lanterns hang on the north gate of the harbour every night.",
  "The harbour master rings the bell at dawn and at dusk.",
  "Blue lanterns hang on the south gate when fog comes in from the sea.",
].join("\n\n");

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

async function signUpWithNotes(page: Page, label: string): Promise<ChatPage> {
  await new AuthPages(page).signUp(label);
  const library = new LibraryPage(page);
  await library.upload({ name: "harbour.txt", mimeType: "text/plain", buffer: Buffer.from(HARBOUR_NOTES) });
  await library.waitForStatus("harbour.txt", "ready");
  return new ChatPage(page);
}

test("the focus stays in the question box, and Escape returns it to what opened a panel or menu", async ({ page }) => {
  const chat = await signUpWithNotes(page, "focus");
  await chat.open();

  // The first question of a new chat: the start screen's box is replaced by the chat's.
  await chat.ask("Which lanterns hang on the harbour gates?");
  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  await expect(chat.question).toBeFocused();
  await chat.waitForAnswer();
  await expect(chat.question).toBeFocused();
  // The sources are numbered as shown: 1, 2, … in the order the answer cites them.
  const firstUse = [...new Set((await chat.citationMarkers().allTextContents()).map(Number))];
  expect(firstUse.length).toBeGreaterThan(0);
  expect(firstUse).toEqual(firstUse.map((_, index) => index + 1));

  // The source panel: opened from a marker with Enter, closed with Escape or Close.
  const marker = chat.citationMarkers().first();
  await marker.focus();
  await page.keyboard.press("Enter");
  await expect(chat.sourceHeading).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(chat.sourcePanel.root).toBeHidden();
  await expect(marker).toBeFocused();
  const sourceButton = chat.lastAnswer().getByRole("button", { name: /^\[1\] harbour\.txt/ });
  await sourceButton.click();
  await expect(chat.sourceHeading).toHaveText("Source 1");
  await chat.closeSourceButton.click();
  await expect(chat.sourcePanel.root).toBeHidden();
  await expect(sourceButton).toBeFocused();

  // The account menu.
  await chat.accountButton.focus();
  await page.keyboard.press("Enter");
  const settingsLink = page.getByRole("link", { name: "Settings" });
  await tabTo(page, settingsLink);
  await page.keyboard.press("Escape");
  await expect(settingsLink).toBeHidden();
  await expect(chat.accountButton).toBeFocused();

  // Renaming a conversation (from its actions menu: the right arrow on its link opens it).
  const title = "Which lanterns hang on the harbour gates?";
  const link = chat.conversationLink(title);
  await link.focus();
  await page.keyboard.press("ArrowRight");
  const renameItem = page.getByRole("menu", { name: `Actions for ${title}` }).getByRole("menuitem", { name: "Rename" });
  for (let press = 0; press < 6 && !(await renameItem.evaluate((item) => item === document.activeElement)); press += 1) {
    await page.keyboard.press("ArrowDown");
  }
  await expect(renameItem).toBeFocused();
  await page.keyboard.press("Enter");
  const titleField = chat.conversations.getByLabel("New title");
  await expect(titleField).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(titleField).toBeHidden();
  await expect(link).toBeFocused();

  // The scope picker closes on Escape (and only it: an open source panel stays open).
  await marker.click();
  await expect(chat.sourcePanel.root).toBeVisible();
  await chat.scopeButton.focus();
  await page.keyboard.press("Enter");
  const allDocuments = page.getByRole("radio", { name: "All documents I can read" });
  await tabTo(page, allDocuments);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-scope-picker-open.png") });
  await page.keyboard.press("Escape");
  await expect(allDocuments).toBeHidden();
  await expect(chat.scopeButton).toBeFocused();
  await expect(chat.scopeButton).toHaveAttribute("aria-expanded", "false");
  await expect(chat.sourcePanel.root).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(chat.sourcePanel.root).toBeHidden();
});

test("on a phone the source panel is modal: Tab stays inside it, Escape returns to the marker", async ({ browser }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  const chat = await signUpWithNotes(page, "phone-focus");
  await chat.open();
  await chat.ask("Which lanterns hang on the harbour gates?");
  await chat.waitForAnswer();

  const marker = chat.citationMarkers().first();
  await marker.focus();
  await page.keyboard.press("Enter");
  const panel = chat.sourcePanel.root;
  await expect(chat.sourceHeading).toBeFocused();
  await expect(chat.sourcePanel.textPage).toContainText("lanterns");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-source-panel-modal.png") });
  // Forwards and backwards through every control of the panel and around: never behind it.
  let reachedClose = false;
  for (const key of ["Tab", "Shift+Tab"]) {
    for (let press = 0; press < 25; press += 1) {
      await page.keyboard.press(key);
      expect(await focusIsOutside(page, panel), `${key} ×${press + 1} left the panel for the page behind it`).toBe(false);
      reachedClose ||= await chat.closeSourceButton.evaluate((element) => element === document.activeElement);
    }
  }
  expect(reachedClose).toBe(true);
  await expect(panel).toHaveAttribute("role", "dialog");
  await expect(panel).toHaveAttribute("aria-modal", "true");

  await page.keyboard.press("Escape");
  await expect(panel).toBeHidden();
  await expect(marker).toBeFocused();
  // The page behind is usable again.
  await tabTo(page, chat.question);
  await phone.close();
});
