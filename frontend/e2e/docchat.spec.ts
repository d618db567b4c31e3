import { expect, test } from "@playwright/test";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { CORPUS_DIR, PASSWORD, SCREENSHOT_DIR, expectAccessible, signUp, upload, waitForStatus } from "./helpers";

test.beforeAll(async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});

test("sign up, upload a PDF, ask, follow a citation to the original page", async ({ page }) => {
  await signUp(page, "flow");
  await expect(page.getByTestId("library-empty")).toBeVisible();

  await upload(page, path.join(CORPUS_DIR, "crazyones.pdf"));
  await expect(page.getByTestId("upload-item").filter({ hasText: "crazyones.pdf" })).toBeVisible();
  const row = await waitForStatus(page, "crazyones.pdf", "ready");
  await expect(row).toContainText("1 page");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "library-ready.png"), fullPage: true });
  await expectAccessible(page, "the library");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
  await expect(page).toHaveURL(/\/chat\/$/);
  const question = page.getByLabel("Your question");
  await question.fill("What does the text say about the crazy ones?");
  await question.press("Enter");

  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  await expect(page.getByTestId("user-message")).toContainText("crazy ones");
  const answer = page.getByTestId("assistant-message").last();
  await expect(answer).toBeVisible({ timeout: 60_000 });
  const marker = answer.locator("button.citation-marker").first();
  await expect(marker).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId("chat-status")).toHaveText("Answer complete.", { timeout: 180_000 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-answer.png"), fullPage: true });

  await marker.click();
  const panel = page.getByTestId("source-panel");
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId("source-filename")).toHaveText("crazyones.pdf");
  await expect(panel.getByTestId("source-page")).toHaveText(/Page 1\b/);
  await expect(panel.locator("blockquote")).not.toBeEmpty();
  await expect(panel.getByTestId("pdf-page")).toHaveAttribute("data-page-number", "1", { timeout: 30_000 });
  await expect(panel.locator(".textLayer mark.viewer-highlight").first()).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-source-panel.png"), fullPage: true });
  await expectAccessible(page, "the chat with its source panel");

  // The stored conversation reloads with its citations.
  await page.reload();
  await expect(page.getByTestId("assistant-message").last().locator("button.citation-marker").first()).toBeVisible({
    timeout: 30_000,
  });
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

  await signUp(page, "unsafe");

  await upload(page, path.join(CORPUS_DIR, "bad-encrypted.pdf"));
  const encrypted = await waitForStatus(page, "bad-encrypted.pdf", "failed");
  await expect(encrypted.getByTestId("document-error")).toContainText("password-protected PDF");

  const evilHtml = [
    "<!doctype html><html><head><title>Lantern manual</title>",
    "<script>window.__docchatPwned = true; alert('xss-script');</script></head>",
    "<body><h1>Lantern manual</h1>",
    "<p>The zebra protocol requires exactly seven blue lanterns on the north gate.</p>",
    `<p>Payload for the answer: &lt;script&gt;alert('xss-text')&lt;/script&gt; <img src=x onerror="alert('xss-img')"></p>`,
    "</body></html>",
  ].join("");
  await upload(page, { name: "lanterns.html", mimeType: "text/html", buffer: Buffer.from(evilHtml) });
  await waitForStatus(page, "lanterns.html", "ready");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
  const question = page.getByLabel("Your question");
  await question.fill("How many blue lanterns does the zebra protocol require? Quote the payload too.");
  await question.press("Enter");
  await expect(page.getByTestId("chat-status")).toHaveText("Answer complete.", { timeout: 180_000 });
  const answer = page.getByTestId("assistant-message").last();
  await expect(answer).not.toBeEmpty();

  const marker = answer.locator("button.citation-marker").first();
  await marker.click();
  const panel = page.getByTestId("source-panel");
  await expect(panel.getByTestId("source-filename")).toHaveText("lanterns.html");
  // The viewer shows DocChat's extracted text: the markup of the upload is inert text.
  const text = panel.getByTestId("text-page");
  await expect(text).toContainText("seven blue lanterns");
  await expect(panel.getByTestId("viewer-highlight").first()).toBeVisible();
  expect(await text.locator("script, img").count()).toBe(0);

  await page.waitForTimeout(500);
  expect(await page.evaluate(() => (window as unknown as { __docchatPwned?: boolean }).__docchatPwned)).toBeUndefined();
  expect(await page.locator("[data-testid=messages] script, [data-testid=messages] img").count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test("sign out survives a reload, and the app works on a phone screen", async ({ browser }) => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();

  const email = await signUp(page, "phone");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-library.png"), fullPage: true });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
  await expect(page.getByRole("heading", { name: "What would you like to know?" })).toBeVisible();
  // The conversation list is collapsed behind a button on a phone.
  const newChatButton = page.getByRole("button", { name: "New chat" });
  await expect(newChatButton).toBeHidden();
  await page.getByRole("button", { name: "Conversations" }).click();
  await expect(newChatButton).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-conversations.png"), fullPage: true });
  await page.getByRole("button", { name: "Back to the conversation" }).click();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "phone-chat.png"), fullPage: true });
  await expectAccessible(page, "the chat on a phone");

  // Sign out, then reload: still signed out.
  await page.getByRole("button", { name: /Account menu/ }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\/$/);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expectAccessible(page, "the sign-in page on a phone");
  await page.goto("/library/");
  await expect(page).toHaveURL(/\/login\/\?next=%2Flibrary%2F$/);
  expect(await page.evaluate(() => window.localStorage.getItem("docchat.refresh_token"))).toBeNull();

  // Signing in again returns to where the user was headed.
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/library\/$/);
  await phone.close();
});
