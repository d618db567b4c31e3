import { expect, test, type Locator } from "@playwright/test";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { watchApiContract } from "./api-contract";
import { CORPUS_DIR, SCREENSHOT_DIR, expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { LibraryPage } from "./pages/library";

const QUESTION = "What does the text say about the crazy ones?";

/** An answer's text as shown, without its citation markers, on one line. */
function plainText(answer: Locator): Promise<string> {
  return answer.locator("p, li").first().evaluate((element) => {
    const copy = element.cloneNode(true) as HTMLElement;
    copy.querySelectorAll(".citation-marker").forEach((marker) => marker.remove());
    return (copy.textContent ?? "").replace(/\s+/g, " ").trim();
  });
}

test("copy an answer, regenerate it, move between its versions, edit a question, reload mid-answer, export", async ({ page, context }) => {
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

  // Copy answer: its text and the sources it cites, numbered as in the text, with their pages.
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await firstAnswer.getByRole("button", { name: "Copy answer" }).click();
  await expect(firstAnswer.getByRole("status").filter({ hasText: "Copied with its sources" })).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const [copiedText = "", copiedSources = ""] = copied.split("\n\nSources:\n");
  const sourceButtons = await firstAnswer.getByRole("heading", { name: "Sources" }).locator("xpath=..").getByRole("button").allInnerTexts();
  expect(sourceButtons.length).toBeGreaterThan(0);
  expect(copiedSources.split("\n")).toEqual(sourceButtons);
  for (const source of copiedSources.split("\n")) expect(source).toMatch(/^\[\d+\] crazyones\.pdf, page \d+$/);
  const withoutMarkers = copiedText.replace(/\s*\[\d+(?:,\s*\d+)*\]/g, "").replace(/\s+/g, " ");
  expect(withoutMarkers).toContain((await plainText(firstAnswer)).slice(0, 60));
  expect(copiedText).toMatch(/\[1\]/);

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
  await expect(edit).toBeFocused();
  await expectAccessible(page, "the Edit your question field");
  await edit.fill("Who are the crazy ones and what do they do?");
  await edit.press("Enter");
  await chat.waitForAnswer();
  await expect(chat.userMessages.last()).toContainText("Who are the crazy ones and what do they do?");
  await expect(chat.versionLabel(chat.userMessages.last())).toHaveText("2/2");
  await expect(chat.versionLabel()).toHaveCount(0); // the new question's only answer
  await chat.previousVersion(chat.userMessages.last()).click();
  await expect(chat.userMessages.last()).toContainText(QUESTION);
  await expect(chat.versionLabel()).toHaveText("1/2"); // its answers, as left

  // Reload while an answer is on its way (the slow fake model writes a chunk a second): the
  // server keeps writing it, the page reads it back until it is done, without another reload.
  await contract.expectAllMatch();
  await chat.chooseModel("Slow fake model (e2e)");
  await chat.ask("Why do they change things?");
  const writing = chat.lastAnswer();
  await expect(writing.locator("p").first()).toContainText("The fake", { timeout: 60_000 });
  await page.reload();
  await expect(chat.userMessages.last()).toContainText("Why do they change things?", { timeout: 30_000 });
  const reloaded = chat.lastAnswer();
  await expect(chat.stillWriting(reloaded)).toHaveText("Still being written…");
  await expect(reloaded).toHaveAttribute("data-status", "streaming");
  await expect(page.getByRole("button", { name: "Stop" })).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-answer-still-writing.png") });
  await expectAccessible(page, "an answer still being written, after a reload");
  await expect(reloaded).toHaveAttribute("data-status", "done", { timeout: 60_000 });
  await expect(reloaded).toContainText("The fake model says the ferries leave at dawn");
  await expect(chat.stillWriting(reloaded)).toHaveCount(0);
  await expect(reloaded).not.toContainText("Incomplete answer");
  await expect(page.getByRole("button", { name: "Stop" })).toHaveCount(0);

  // Export: Markdown with numbered sources and pages, and JSON.
  const markdown = await chat.exportChat("Markdown (.md)");
  expect(markdown.suggestedFilename()).toMatch(/\.md$/);
  const text = await readFile(await markdown.path(), "utf8");
  expect(text).toContain(`## Question\n\n${QUESTION}`);
  expect(text).toMatch(/- \[\d+\] crazyones\.pdf, page 1/);
  expect(text).toContain("## Question\n\nWhy do they change things?");
  await expect(page.getByRole("button", { name: "Export chat" })).toBeFocused();
  await page.getByRole("button", { name: "Export chat" }).click();
  await expect(page.getByRole("button", { name: "Markdown (.md)" })).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-export.png") });
  await expectAccessible(page, "the Export chat menu, open");
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

test("an answer that fails says why and offers Retry, which answers it", async ({ page }) => {
  const contract = watchApiContract(page);
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await new AuthPages(page).signUp("retry");
  await library.upload({
    name: "harbour-guide.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Harbour guide\n\n## Ferries\n\nThe ferries leave the pier at dawn every Thursday.\n"),
  });
  await library.waitForStatus("harbour-guide.md", "ready");

  // The flaky fake model breaks off its first answer to a question, as a dropped connection does.
  await chat.open();
  await chat.modelPicker.selectOption({ label: "Flaky fake model (e2e)" });
  await chat.ask("When do the ferries leave the pier?");
  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  const answer = chat.lastAnswer();
  const failure = answer.getByTestId("answer-failed");
  await expect(failure).toContainText("The answer was interrupted: The language model stopped mid-answer (the connection was lost).", {
    timeout: 60_000,
  });
  await expect(answer).toHaveAttribute("data-status", "failed");
  await expect(chat.status).toHaveText("The answer could not be completed.");
  const retry = failure.getByRole("button", { name: "Retry" });
  await expect(retry).toBeEnabled();
  await expect(chat.regenerateButton(answer)).toHaveCount(0);
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-answer-failed-retry.png") });
  await expectAccessible(page, "a failed answer with Retry");

  // Retry asks again: the answer arrives as a second version; the failed one stays as the first.
  await retry.click();
  await chat.waitForAnswer();
  await expect(chat.lastAnswer()).toContainText("The fake model says the ferries leave at dawn");
  await expect(chat.lastAnswer()).toHaveAttribute("data-status", "done");
  await expect(chat.lastAnswer().getByTestId("answer-failed")).toHaveCount(0);
  await expect(chat.versionLabel()).toHaveText("2/2");
  await chat.previousVersion().click();
  await expect(chat.versionLabel()).toHaveText("1/2");
  await expect(chat.lastAnswer().getByTestId("answer-failed")).toBeVisible();
  await contract.expectAllMatch();
});
