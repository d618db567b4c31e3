import { expect, test } from "@playwright/test";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { watchApiContract } from "./api-contract";
import { CORPUS_DIR, SCREENSHOT_DIR, expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";

const QUESTION = "What does the text say about the crazy ones?";

test("regenerate an answer, move between its versions, edit a question, reload mid-answer, export", async ({ page }) => {
  const contract = watchApiContract(page);
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await new AuthPages(page).signUp("versions");
  await library.upload(path.join(CORPUS_DIR, "crazyones.pdf"));
  await library.waitForStatus("crazyones.pdf", "ready");

  await chat.open();
  await chat.ask(QUESTION);
  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  await chat.waitForAnswer();
  const firstAnswer = chat.lastAnswer();
  await expect(chat.citationMarkers(firstAnswer).first()).toBeVisible();
  await expect(chat.versionLabel(firstAnswer)).toHaveCount(0);

  // Regenerate: a second version, shown as 2/2; the first stays reachable.
  await chat.regenerateButton().click();
  await expect(chat.versionLabel()).toHaveText("2/2", { timeout: 180_000 });
  await expect(chat.versionLabel()).toHaveAttribute("aria-label", "Version 2 of 2");
  await expect(chat.answers).toHaveCount(1);
  await expect(chat.nextVersion()).toBeDisabled();
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-versions.png") });
  await chat.previousVersion().click();
  await expect(chat.versionLabel()).toHaveText("1/2");
  await expect(chat.citationMarkers().first()).toBeVisible();
  // What is shown is what the server shows: a reload keeps version 1. (The API answers are
  // checked before each reload: the browser drops the bodies of the page it leaves.)
  await contract.expectAllMatch();
  await page.reload();
  await expect(chat.versionLabel()).toHaveText("1/2", { timeout: 30_000 });
  await expectAccessible(page, "an answer with versions");

  // Edit the question and send it again: the question gets a second version and a new answer.
  await chat.userMessages.last().getByRole("button", { name: "Edit question" }).click();
  const edit = page.getByLabel("Edit your question");
  await edit.fill("Who are the crazy ones and what do they do?");
  await edit.press("Enter");
  await chat.waitForAnswer();
  await expect(chat.userMessages.last()).toContainText("Who are the crazy ones and what do they do?");
  await expect(chat.versionLabel(chat.userMessages.last())).toHaveText("2/2");
  await expect(chat.versionLabel()).toHaveCount(0); // the new question's only answer
  await chat.previousVersion(chat.userMessages.last()).click();
  await expect(chat.userMessages.last()).toContainText(QUESTION);
  await expect(chat.versionLabel()).toHaveText("1/2"); // its answers, as left

  // Reload while an answer is on its way: the server keeps writing it, the page reads it back.
  await contract.expectAllMatch();
  const asked = page.waitForRequest((request) => request.method() === "POST" && /\/messages$/.test(new URL(request.url()).pathname));
  await chat.ask("Why do they change things?");
  await asked;
  await page.reload();
  await expect(chat.userMessages.last()).toContainText("Why do they change things?", { timeout: 30_000 });
  const reloaded = chat.lastAnswer();
  await expect(reloaded).toHaveAttribute("data-status", "done", { timeout: 180_000 });
  await expect(reloaded).not.toContainText("Incomplete answer");
  await expect(reloaded).not.toContainText("Still being written");
  await expect(reloaded.locator("p, li").first()).not.toBeEmpty();

  // Export: Markdown with numbered sources and pages, and JSON.
  const markdown = await chat.exportChat("Markdown (.md)");
  expect(markdown.suggestedFilename()).toMatch(/\.md$/);
  const text = await readFile(await markdown.path(), "utf8");
  expect(text).toContain(`## Question\n\n${QUESTION}`);
  expect(text).toMatch(/- \[\d+\] crazyones\.pdf, page 1/);
  expect(text).toContain("## Question\n\nWhy do they change things?");
  await expect(page.getByRole("button", { name: "Export chat" })).toBeFocused();
  await page.getByRole("button", { name: "Export chat" }).click();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-export.png") });
  await page.keyboard.press("Escape");
  const json = JSON.parse(await readFile(await (await chat.exportChat("JSON (.json)")).path(), "utf8")) as {
    format: string;
    all_messages: unknown[];
    messages: unknown[];
  };
  expect(json.format).toBe("docchat.chat.v1");
  expect(json.all_messages.length).toBeGreaterThan(json.messages.length);

  const checked = await contract.expectAllMatch();
  expect(checked).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^POST \/api\/v1\/chats\/[\w-]+\/messages\/[\w-]+\/regenerate → 200 \(stream\)$/),
      expect.stringMatching(/^POST \/api\/v1\/chats\/[\w-]+\/messages\/[\w-]+\/select → 200$/),
      expect.stringMatching(/^GET \/api\/v1\/chats\/[\w-]+\/export → 200$/),
    ]),
  );
});
