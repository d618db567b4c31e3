import { expect, test } from "@playwright/test";
import path from "node:path";
import { SCREENSHOT_DIR, expectAccessible } from "./helpers";
import { AuthPages } from "./pages/auth";
import { ChatPage } from "./pages/chat";
import { CollectionsPage } from "./pages/collections";
import { LibraryPage } from "./pages/library";

const GUIDE = {
  name: "harbour-guide.md",
  mimeType: "text/markdown",
  buffer: Buffer.from(
    "# Quillomere harbour guide\n\n" +
      "## Ferries\n\nThe quillomere ferries leave the brantwhistle pier at dawn every Thursday.\n\n" +
      "## Lighthouse\n\nThe osskerry lighthouse was painted red and white in 1911.\n",
  ),
};

test("suggested questions, feedback, search with highlights, pin, archive and the model picker", async ({ page }) => {
  const auth = new AuthPages(page);
  const library = new LibraryPage(page);
  const chat = new ChatPage(page);
  await auth.signUp("organise");
  await library.upload(GUIDE);
  const row = await library.waitForStatus(GUIDE.name, "ready");

  // "Ask" on a ready document opens an empty chat about it, with questions to start from.
  await row.getByRole("link", { name: `Ask about ${GUIDE.name}` }).click();
  await expect(page).toHaveURL(/\/chat\/\?document=/);
  await expect(page.getByTestId("scope-button")).toContainText("1 document");
  const suggestion = page.getByTestId("suggested-question").filter({ hasText: "What does the document say about Ferries?" });
  await expect(suggestion).toBeVisible({ timeout: 30_000 });
  await expectAccessible(page, "the start panel with suggested questions");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-suggested-questions.png") });
  await suggestion.click();
  await expect(page).toHaveURL(/\/chat\/\?id=/, { timeout: 15_000 });
  await chat.waitForAnswer();
  await expect(chat.lastAnswer()).toContainText("brantwhistle pier at dawn");

  // Thumbs down with a comment; the rating is there after a reload.
  const answer = chat.lastAnswer();
  await answer.getByRole("button", { name: "Bad answer" }).click();
  await expect(answer.getByRole("button", { name: "Bad answer" })).toHaveAttribute("aria-pressed", "true");
  await answer.getByLabel("What was wrong with it? (optional)").fill("It should say which Thursday.");
  await expectAccessible(page, "the feedback comment form, open");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-feedback-comment.png") });
  await answer.getByRole("button", { name: "Send comment" }).click();
  await expect(answer.getByRole("status").filter({ hasText: "Thanks for your feedback." })).toBeVisible();
  await expectAccessible(page, "an answer with feedback buttons");
  await page.reload();
  await expect(chat.lastAnswer().getByRole("button", { name: "Bad answer" })).toHaveAttribute("aria-pressed", "true");
  await chat.lastAnswer().getByRole("button", { name: "Good answer" }).click();
  await expect(chat.lastAnswer().getByRole("button", { name: "Good answer" })).toHaveAttribute("aria-pressed", "true");
  const firstTitle = "What does the document say about Ferries?";

  // A second chat, answered by the model picked for it (the e2e server's fake model).
  await chat.newChatButton.click();
  await expect(page).toHaveURL(/\/chat\/\?id=/);
  const picker = page.getByTestId("model-picker");
  await expect(picker).toBeVisible();
  await picker.selectOption({ label: "Fake model (e2e)" });
  await chat.ask("What colour is the <b>osskerry</b> lighthouse?");
  await chat.waitForAnswer();
  await expect(chat.lastAnswer()).toContainText("The fake model says the ferries leave at dawn");
  await page.reload();
  await expect(page.getByTestId("model-picker")).toHaveValue("e2e-fake");
  const secondTitle = "What colour is the <b>osskerry</b> lighthouse?";

  // Search over questions and answers: the match is marked, markup in a question stays text.
  await chat.searchBox.fill("osskerry");
  const results = chat.conversations.getByRole("list", { name: "Search results" });
  await expect(results.getByTestId("conversation")).toHaveCount(1);
  const snippet = results.getByTestId("chat-snippet");
  await expect(snippet.locator("mark")).toHaveText(["osskerry"]);
  await expect(snippet).toContainText("<b>");
  await expect(snippet.locator("b")).toHaveCount(0);
  await expectAccessible(page, "the conversation search");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-search.png") });
  await chat.searchBox.fill("ferries dawn"); // both answers say it
  await expect(results.getByTestId("conversation")).toHaveCount(2);
  await chat.searchBox.fill("");

  // Pin the older chat to the top; archive the other one, then find it among the archived.
  const conversations = chat.conversations.getByTestId("conversation");
  await expect(conversations.first()).toContainText(secondTitle);
  const actions = await chat.openChatActions(firstTitle);
  await expect(actions.getByRole("menuitem")).toHaveText(["Pin", "Rename", "Archive", "Delete"]);
  await expect(actions.getByRole("menuitem", { name: "Pin" })).toBeFocused();
  await expectAccessible(page, "a chat's actions menu, open");
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-actions-menu.png") });
  await actions.getByRole("menuitem", { name: "Pin" }).click();
  await expect(conversations.first()).toContainText(firstTitle);
  await expect(conversations.first()).toHaveAttribute("data-pinned", "true");
  await chat.chatAction(secondTitle, "Archive");
  await expect(chat.conversationLink(secondTitle)).toHaveCount(0);
  await chat.conversations.getByRole("button", { name: "Archived conversations" }).click();
  await expect(chat.conversations.getByRole("list", { name: "Archived conversations" })).toBeVisible();
  await expect(chat.conversationLink(secondTitle)).toBeVisible();
  await expect(chat.conversationLink(firstTitle)).toHaveCount(0);
  await expectAccessible(page, "the archived conversations");
  await chat.chatAction(secondTitle, "Unarchive");
  await chat.conversations.getByRole("button", { name: "Back to conversations" }).click();
  await expect(chat.conversationLink(secondTitle)).toBeVisible();
});

test("an empty chat starts from questions for its scope, or from the library when nothing is ready", async ({ page }) => {
  const chat = new ChatPage(page);
  const collections = new CollectionsPage(page);
  await new AuthPages(page).signUp("empty-chat");

  // Nothing uploaded yet: a new chat offers the way to the library.
  await chat.open();
  await chat.newChatButton.click();
  await expect(page).toHaveURL(/\/chat\/\?id=/);
  const upload = chat.messages.getByRole("link", { name: "Upload some in the library" });
  await expect(upload).toBeVisible();
  await expect(chat.suggestions).toHaveCount(0);
  await upload.click();
  await expect(page).toHaveURL(/\/library\/$/);

  // A collection with the guide: "Ask about it" starts a chat on the collection, with its questions.
  await collections.create("Harbour");
  await new LibraryPage(page).upload(GUIDE);
  await expect(collections.row(GUIDE.name)).toHaveAttribute("data-status", "ready", { timeout: 180_000 });
  await page.getByRole("link", { name: "Ask about it" }).click();
  await expect(page).toHaveURL(/\/chat\/\?collection=/);
  await expect(chat.scopeButton).toHaveText("Search in: Harbour");
  await expect(chat.suggestions.filter({ hasText: "What does the document say about Ferries?" })).toBeVisible({ timeout: 30_000 });

  // "New chat": the empty conversation offers the same start, and a question asks it there.
  await chat.newChatButton.click();
  await expect(page).toHaveURL(/\/chat\/\?id=/);
  const chatUrl = page.url();
  await expect(chat.emptyHeading).toBeVisible();
  const suggestion = chat.suggestions.filter({ hasText: "What does the document say about Lighthouse?" });
  await expect(suggestion).toBeVisible({ timeout: 30_000 });
  await expect(chat.messages.getByRole("link", { name: "Upload some in the library" })).toHaveCount(0);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, "chat-empty-suggestions.png") });
  await expectAccessible(page, "an empty chat with its suggested questions");
  await suggestion.click();
  await chat.waitForAnswer();
  expect(page.url()).toBe(chatUrl);
  await expect(chat.userMessages).toHaveCount(1);
  await expect(chat.userMessages.first()).toContainText("What does the document say about Lighthouse?");
  await expect(chat.lastAnswer()).toContainText("osskerry lighthouse was painted red and white");
  await expect(chat.suggestions).toHaveCount(0);
});
