import { expect, test } from "@playwright/test";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { watchApiContract } from "./api-contract";
import { CORPUS_DIR, PASSWORD, SCREENSHOT_DIR, expectAccessible, uniqueEmail } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

test("sign up, upload a PDF, ask, follow a citation to the original page", async ({ page }) => {
  const contract = watchApiContract(page);
  const auth = new AuthPages(page);
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await auth.signUp("flow");
  await expect(library.empty).toBeVisible();

  await library.upload(path.join(CORPUS_DIR, "crazyones.pdf"));
  await expect(library.uploadItem("crazyones.pdf")).toBeVisible();
  const row = await library.waitForStatus("crazyones.pdf", "ready");
  await expect(row).toContainText("1 page");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "library-ready.png"), fullPage: true });
  await expectAccessible(page, "the library");

  await chat.open();
  await expect(page).toHaveURL(/\/chat\/$/);
  await chat.ask("What does the text say about the crazy ones?");

  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  await expect(chat.userMessages).toContainText("crazy ones");
  const answer = chat.lastAnswer();
  await expect(answer).toBeVisible({ timeout: 60_000 });
  const marker = chat.citationMarkers(answer).first();
  await expect(marker).toBeVisible({ timeout: 180_000 });
  await chat.waitForAnswer();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-answer.png"), fullPage: true });

  await marker.click();
  const panel = chat.sourcePanel;
  await expect(panel.root).toBeVisible();
  await expect(panel.filename).toHaveText("crazyones.pdf");
  await expect(panel.sourcePage).toHaveText(/Page 1\b/);
  await expect(panel.snippet).not.toBeEmpty();
  await expect(panel.pdfPage).toHaveAttribute("data-page-number", "1", { timeout: 30_000 });
  await expect(panel.pdfMarks.first()).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-source-panel.png"), fullPage: true });
  await expectAccessible(page, "the chat with its source panel");

  // The stored conversation reloads with its citations.
  await page.reload();
  await expect(chat.citationMarkers().first()).toBeVisible({ timeout: 30_000 });

  // Every answer the app got matches the OpenAPI document its types are generated from.
  const checked = await contract.expectAllMatch();
  expect(checked).toEqual(
    expect.arrayContaining([
      "POST /api/v1/auth/register → 201",
      "GET /api/v1/auth/me → 200",
      "GET /api/v1/documents → 200",
      expect.stringMatching(/^POST \/api\/v1\/chats → 201$/),
      expect.stringMatching(/^POST \/api\/v1\/chats\/[\w-]+\/messages → 200 \(stream\)$/),
      expect.stringMatching(/^GET \/api\/v1\/chats\/[\w-]+ → 200$/),
    ]),
  );
});

test("an encrypted PDF fails with a reason and uploaded HTML never runs script", async ({ page, context }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  context.on("page", (opened) =>
    opened.on("dialog", async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    }),
  );
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);

  await new AuthPages(page).signUp("unsafe");

  await library.upload(path.join(CORPUS_DIR, "bad-encrypted.pdf"));
  await library.waitForStatus("bad-encrypted.pdf", "failed");
  await expect(library.rowError("bad-encrypted.pdf")).toContainText("password-protected PDF");
  // #18: retrying cannot unlock it (no Retry; the row says what to do), and its upload shows
  // no full blue "Uploaded" bar next to "Failed".
  await expect(library.row("bad-encrypted.pdf").getByRole("button", { name: /Retry/ })).toHaveCount(0);
  await expect(library.rowError("bad-encrypted.pdf")).toContainText("upload a fixed copy");
  await expect(library.uploadItem("bad-encrypted.pdf").getByRole("progressbar")).toHaveCount(0);
  await expect(library.uploadItem("bad-encrypted.pdf")).toContainText("could not be processed");

  const evilHtml = [
    "<!doctype html><html><head><title>Lantern manual</title>",
    "<script>window.__docchatPwned = true; alert('xss-script');</script></head>",
    "<body><h1>Lantern manual</h1>",
    "<p>The zebra protocol requires exactly seven blue lanterns on the north gate.</p>",
    `<p>Payload for the answer: &lt;script&gt;alert('xss-text')&lt;/script&gt; <img src=x onerror="alert('xss-img')"></p>`,
    "</body></html>",
  ].join("");
  await library.upload({ name: "lanterns.html", mimeType: "text/html", buffer: Buffer.from(evilHtml) });
  await library.waitForStatus("lanterns.html", "ready");

  await chat.open();
  await chat.ask("How many blue lanterns does the zebra protocol require? Quote the payload too.");
  await chat.waitForAnswer();
  await expect(chat.lastAnswer()).not.toBeEmpty();

  const panel = await chat.openFirstCitation();
  await expect(panel.filename).toHaveText("lanterns.html");
  // The viewer shows DocChat's extracted text: the markup of the upload is inert text.
  await expect(panel.textPage).toContainText("seven blue lanterns");
  await expect(panel.textMarks.first()).toBeVisible();
  expect(await panel.textPage.locator("script, img").count()).toBe(0);

  await page.waitForTimeout(500);
  expect(await page.evaluate(() => (window as unknown as { __docchatPwned?: boolean }).__docchatPwned)).toBeUndefined();
  expect(await chat.messages.locator("script, img").count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test("sign out survives a reload, and the app works on a phone screen", async ({ browser }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  const auth = new AuthPages(page);
  const chat = new ChatPage(page);

  const email = await auth.signUp("phone");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-library.png"), fullPage: true });

  await chat.open();
  await expect(chat.emptyHeading).toBeVisible();
  // The conversation list is collapsed behind a button on a phone.
  await expect(chat.newChatButton).toBeHidden();
  await chat.conversationsButton.click();
  await expect(chat.newChatButton).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-conversations.png"), fullPage: true });
  await chat.backToConversationButton.click();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-chat.png"), fullPage: true });
  await expectAccessible(page, "the chat on a phone");

  // Sign out, then reload: still signed out.
  await auth.signOut();
  await page.reload();
  await expect(auth.signInHeading).toBeVisible();
  await expectAccessible(page, "the sign-in page on a phone");
  await page.goto("/library/");
  await expect(page).toHaveURL(/\/login\/\?next=%2Flibrary%2F$/);
  expect(await page.evaluate(() => window.localStorage.getItem("docchat.refresh_token"))).toBeNull();

  // Signing in again returns to where the user was headed.
  await auth.signIn(email);
  await expect(page).toHaveURL(/\/library\/$/);
  await phone.close();
});

test("the register and sign-in forms say what is wrong, next to the field", async ({ page }) => {
  const auth = new AuthPages(page);
  await auth.gotoRegister();
  await auth.fillRegister({ name: " ", email: "not-an-email", password: "short", confirm: "different" });

  const password = page.getByLabel("Password", { exact: true });
  await expect(page.getByLabel("Full name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Full name")).toHaveAccessibleDescription("Enter your name.");
  await expect(page.getByLabel("Email")).toHaveAccessibleDescription("Enter a valid email address.");
  await expect(password).toHaveAccessibleDescription("At least 10 characters. This password is too short.");
  await expect(page.getByLabel("Confirm password")).toHaveAccessibleDescription("The passwords do not match.");
  await expect(page.getByLabel("Full name")).toBeFocused();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "register-errors.png"), fullPage: true });
  await expectAccessible(page, "the register form with its errors");

  // Fixed, the account is created; a wrong password then gets the API's message above the form.
  const email = uniqueEmail("forms");
  await auth.fillRegister({ name: "E2E Tester", email, password: PASSWORD, confirm: PASSWORD });
  await expect(page).toHaveURL(/\/library\/$/, { timeout: 30_000 });
  await auth.signOut();
  await auth.signIn(email, "wrong-password-123");
  await expect(page.getByRole("form", { name: "Sign in" }).getByRole("alert")).toHaveText("Incorrect email or password.");
  await expect(page.getByLabel("Password")).not.toHaveAttribute("aria-invalid");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "sign-in-error.png"), fullPage: true });
  await expectAccessible(page, "the sign-in form with the API's error");
});

test("deleting a document or a conversation asks first; Escape and Cancel keep it", async ({ page }) => {
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await new AuthPages(page).signUp("confirm");
  await library.upload({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Lanterns are lit at dusk.\n") });
  await library.waitForStatus("notes.txt", "ready");

  // Escape cancels, and the focus goes back to the button that asked.
  const deleteNotes = library.deleteButton("notes.txt");
  await deleteNotes.click();
  await expect(library.deleteDialog).toBeVisible();
  await expect(library.deleteDialog).toHaveAccessibleDescription(/notes\.txt and its passages will be removed/);
  await expect(library.deleteDialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "confirm-delete-document.png") });
  await expectAccessible(page, "the delete confirmation");
  // The page behind the modal dialog is inert: Tab never reaches it.
  await page.keyboard.press("Tab");
  await expect(library.deleteDialog.getByRole("button", { name: "Delete" })).toBeFocused();
  for (let press = 0; press < 3; press += 1) {
    await page.keyboard.press("Tab");
    const outside = await page.evaluate(() => {
      const focused = document.activeElement;
      return focused !== null && focused !== document.body && focused.closest("dialog") === null;
    });
    expect(outside, "the focus left the dialog for the page behind it").toBe(false);
  }
  await library.deleteDialog.getByRole("button", { name: "Cancel" }).focus();
  await page.keyboard.press("Escape");
  await expect(library.deleteDialog).toBeHidden();
  await expect(deleteNotes).toBeFocused();
  await expect(library.row("notes.txt")).toBeVisible();

  // Confirming deletes it; the focus moves to the list, since the row is gone.
  await deleteNotes.click();
  await library.deleteDialog.getByRole("button", { name: "Delete" }).click();
  await expect(library.deleteDialog).toBeHidden();
  await expect(library.row("notes.txt")).toHaveCount(0);
  await expect(library.empty).toBeVisible();
  await expect(library.documentsHeading).toBeFocused();

  // A conversation (the API names it "New chat"): Cancel keeps it, Delete removes it.
  await chat.open();
  await chat.newChatButton.click();
  await expect(page).toHaveURL(/\/chat\/\?id=/);
  await expect(chat.conversationLink("New chat")).toBeVisible();
  await chat.chatAction("New chat", "Delete");
  await expect(chat.deleteDialog).toHaveAccessibleDescription(/The conversation “New chat” and all its messages will be deleted/);
  await chat.deleteDialog.getByRole("button", { name: "Cancel" }).click();
  await expect(chat.deleteDialog).toBeHidden();
  await expect(chat.conversationLink("New chat")).toBeFocused();
  await chat.chatAction("New chat", "Delete");
  await chat.deleteDialog.getByRole("button", { name: "Delete" }).click();
  await expect(chat.deleteDialog).toBeHidden();
  await expect(chat.conversationLink("New chat")).toHaveCount(0);
  await expect(page).toHaveURL(/\/chat\/$/);
});
