import { expect, test } from "@playwright/test";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PASSWORD, SCREENSHOT_DIR, expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";
import { ViewerPane } from "./pages/viewer";

/*
 * WCAG 2.1 AA (axe-core) on the states of the chat and the viewer that the other specs do not
 * reach: open menus and pickers, the rename field, the viewer on its own page, the modal
 * source panel on a phone; and the small things a new user notices first: the tab's icon and
 * title, and the register form's messages.
 */

const HARBOUR_NOTES = [
  "Red lanterns hang on the north gate of the harbour every night.",
  "The harbour master rings the bell at dawn and at dusk.",
  "Blue lanterns hang on the south gate when fog comes in from the sea.",
].join("\n\n");

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

test("every page has an icon, and the viewer's tab is named after the document", async ({ page, request }) => {
  for (const icon of ["/favicon.ico", "/icon.svg"]) {
    const response = await request.get(icon);
    expect(response.status(), icon).toBe(200);
    expect((await response.body()).length, icon).toBeGreaterThan(100);
  }
  await new AuthPages(page).signUp("tab-title");
  const library = new LibraryPage(page);
  const notes = HARBOUR_NOTES.split("\n\n");
  const files = ["red-gate.txt", "bells.txt", "blue-gate.txt"];
  await library.upload(files.map((name, index) => ({ name, mimeType: "text/plain", buffer: Buffer.from(notes[index]!) })));
  for (const name of files) await library.waitForStatus(name, "ready");
  const icons = page.locator('head link[rel="icon"]');
  await expect(icons.first()).toHaveAttribute("href", /^\/favicon\.ico/);

  // An answer quoting two of the three notes: its sources are [1] and [2], whichever were found first.
  const chat = new ChatPage(page);
  await chat.open();
  await chat.ask("Which lanterns hang on the harbour gates?");
  await chat.waitForAnswer();
  const sources = chat.lastAnswer().getByRole("list").last().getByRole("button");
  await expect(sources).toHaveText([/^\[1\] (red|blue)-gate\.txt/, /^\[2\] (red|blue)-gate\.txt/]);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-sources-numbered.png") });
  const panel = await chat.openFirstCitation();
  const filename = (await panel.filename.textContent()) ?? "";
  const href = await panel.fullViewLink.getAttribute("href");
  await page.goto(href!);
  const viewer = ViewerPane.page(page);
  await expect(viewer.textMarks.first()).toBeVisible({ timeout: 30_000 });
  await expect(page).toHaveTitle(`${filename} · DocChat`);
  await expect(page.getByRole("heading", { level: 1, name: filename })).toBeAttached();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "viewer-page.png") });
  await expectAccessible(page, "the viewer on its own page");
});

test("the chat's menus, pickers and rename field, and the modal source panel on a phone, pass axe", async ({ page, browser }) => {
  await new AuthPages(page).signUp("axe-chat");
  const library = new LibraryPage(page);
  await library.upload({ name: "harbour.txt", mimeType: "text/plain", buffer: Buffer.from(HARBOUR_NOTES) });
  await library.waitForStatus("harbour.txt", "ready");
  const chat = new ChatPage(page);
  await chat.open();
  await expectAccessible(page, "the empty chat");
  await chat.ask("Which lanterns hang on the harbour gates?");
  await chat.waitForAnswer();

  await chat.scopeButton.click();
  await expect(page.getByRole("radio", { name: "Chosen documents" })).toBeVisible();
  await page.getByRole("radio", { name: "Chosen documents" }).check();
  await expectAccessible(page, "the chat's scope picker, open");
  await page.keyboard.press("Escape");

  await chat.accountButton.click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expectAccessible(page, "the account menu, open");
  await page.keyboard.press("Escape");

  await chat.chatAction("Which lanterns hang on the harbour gates?", "Rename");
  await expect(chat.conversations.getByLabel("New title")).toBeFocused();
  await expectAccessible(page, "the rename field");
  await page.keyboard.press("Escape");

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const phonePage = await phone.newPage();
  await new AuthPages(phonePage).signUp("axe-phone");
  const phoneLibrary = new LibraryPage(phonePage);
  await phoneLibrary.upload({ name: "harbour.txt", mimeType: "text/plain", buffer: Buffer.from(HARBOUR_NOTES) });
  await phoneLibrary.waitForStatus("harbour.txt", "ready");
  const phoneChat = new ChatPage(phonePage);
  await phoneChat.open();
  await phoneChat.ask("Which lanterns hang on the harbour gates?");
  await phoneChat.waitForAnswer();
  await phoneChat.openFirstCitation();
  await expect(phoneChat.sourcePanel.textMarks.first()).toBeVisible();
  await expectAccessible(phonePage, "the source panel on a phone (modal)");
  await phone.close();
});

test("registering an address that has an account offers to sign in", async ({ page }) => {
  const auth = new AuthPages(page);
  const email = await auth.signUp("taken");
  await auth.signOut();
  await auth.gotoRegister();
  await auth.fillRegister({ name: "Someone Else", email, password: PASSWORD, confirm: PASSWORD });
  const alert = page.getByRole("form", { name: "Create account" }).getByRole("alert");
  await expect(alert).toHaveText("An account with this email already exists. Sign in with it, or use another address.");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "register-account-exists.png") });
  await expectAccessible(page, "the register form with an existing address");
  await alert.getByRole("link", { name: "Sign in" }).click();
  await expect(auth.signInHeading).toBeVisible();
});
