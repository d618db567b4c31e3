import { expect, test, type Page } from "@playwright/test";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { PASSWORD, SCREENSHOT_DIR, tabTo, uniqueEmail } from "./helpers";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";

/*
 * DocChat with the keyboard only: no mouse click anywhere, only Tab, Shift+Tab, Enter, Space,
 * the arrow keys, Escape and typing. (The operating system's file picker is the one step a
 * test cannot press keys in: Playwright answers it with the file.)
 */

const HARBOUR_NOTES = [
  "Red lanterns hang on the north gate of the harbour every night.",
  "The harbour master rings the bell at dawn and at dusk.",
  "Blue lanterns hang on the south gate when fog comes in from the sea.",
].join("\n\n");

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

/** Tabs to a field and types into it. */
async function typeInto(page: Page, label: string, text: string): Promise<void> {
  await tabTo(page, page.getByLabel(label, { exact: true }));
  await page.keyboard.type(text);
}

test("keyboard only: sign up, upload, ask, open a citation, regenerate the answer, export the chat", async ({ page }) => {
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);

  await page.goto("/register/");
  await typeInto(page, "Full name", "Keyboard User");
  await typeInto(page, "Email", uniqueEmail("keyboard"));
  await typeInto(page, "Password", PASSWORD);
  await typeInto(page, "Confirm password", PASSWORD);
  await page.keyboard.press("Enter");
  await expect(library.heading).toBeVisible({ timeout: 30_000 });

  // Upload: "Choose files" opens the system's file picker.
  const chooseFiles = page.getByRole("button", { name: "Choose files" });
  await tabTo(page, chooseFiles);
  const picker = page.waitForEvent("filechooser");
  await page.keyboard.press("Enter");
  await (await picker).setFiles({ name: "harbour.txt", mimeType: "text/plain", buffer: Buffer.from(HARBOUR_NOTES) });
  await library.waitForStatus("harbour.txt", "ready");

  // To the chat through the main navigation; ask with Enter.
  await tabTo(page, page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }), { backwards: true });
  await page.keyboard.press("Enter");
  await expect(chat.emptyHeading).toBeVisible();
  await tabTo(page, chat.question);
  await page.keyboard.type("Which lanterns hang on the harbour gates?");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  await chat.waitForAnswer();
  await expect(chat.question).toBeFocused();

  // Back from the question box to the answer's first citation; Enter opens the source.
  const marker = chat.citationMarkers().first();
  await tabTo(page, marker, { backwards: true });
  await page.keyboard.press("Enter");
  await expect(chat.sourceHeading).toBeFocused();
  await expect(chat.sourcePanel.filename).toHaveText("harbour.txt");
  await expect(chat.sourcePanel.textMarks.first()).toBeVisible();
  // Tab goes on through the panel's controls; Escape closes it from any of them.
  await tabTo(page, chat.closeSourceButton);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "keyboard-source-panel.png") });
  await page.keyboard.press("Escape");
  await expect(chat.sourcePanel.root).toBeHidden();
  await expect(marker).toBeFocused();

  // Regenerate: a second version of the answer; Space on "Previous version" shows the first again.
  const regenerate = chat.regenerateButton();
  await tabTo(page, regenerate);
  await page.keyboard.press("Enter");
  await expect(chat.versionLabel()).toHaveText("2/2", { timeout: 180_000 });
  await chat.waitForAnswer();
  await expect(chat.citationMarkers().first()).toBeVisible();
  // The new version's Regenerate has the focus (the one pressed went away with its version).
  await expect(regenerate).toBeFocused();
  await tabTo(page, chat.previousVersion(), { backwards: true });
  await page.keyboard.press("Space");
  await expect(chat.versionLabel()).toHaveText("1/2");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "keyboard-answer-versions.png") });

  // Export: "Export chat" opens its menu with Enter; the arrow-free way down is Tab.
  const exportButton = page.getByRole("button", { name: "Export chat" });
  await tabTo(page, exportButton, { backwards: true });
  await page.keyboard.press("Enter");
  const markdownFormat = page.getByRole("button", { name: "Markdown (.md)" });
  await tabTo(page, markdownFormat);
  const download = page.waitForEvent("download");
  await page.keyboard.press("Enter");
  const text = await readFile(await (await download).path(), "utf8");
  expect(text).toContain("Which lanterns hang on the harbour gates?");
  expect(text).toMatch(/\[1\] harbour\.txt, page 1/);
  await expect(exportButton).toBeFocused();
});
