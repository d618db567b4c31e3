import { expect, type Locator, type Page } from "@playwright/test";
import { ViewerPane } from "./viewer";

/** The chat: the conversation list, the composer, the answers and their citations. */
export class ChatPage {
  readonly question: Locator;
  readonly status: Locator;
  readonly userMessages: Locator;
  readonly answers: Locator;
  readonly messages: Locator;
  readonly emptyHeading: Locator;
  readonly conversations: Locator;
  readonly newChatButton: Locator;
  readonly conversationsButton: Locator;
  readonly backToConversationButton: Locator;
  readonly deleteDialog: Locator;
  readonly sourcePanel: ViewerPane;
  readonly sourceHeading: Locator;
  readonly closeSourceButton: Locator;
  readonly scopeButton: Locator;
  readonly accountButton: Locator;
  readonly modelPicker: Locator;
  readonly suggestions: Locator;

  constructor(readonly page: Page) {
    this.question = page.getByLabel("Your question");
    this.status = page.getByTestId("chat-status");
    this.userMessages = page.getByTestId("user-message");
    this.answers = page.getByTestId("assistant-message");
    this.messages = page.getByTestId("messages");
    this.emptyHeading = page.getByRole("heading", { name: "What would you like to know?" });
    this.conversations = page.getByRole("navigation", { name: "Conversations" });
    this.newChatButton = page.getByRole("button", { name: "New chat" });
    this.conversationsButton = page.getByRole("button", { name: "Conversations" });
    this.backToConversationButton = page.getByRole("button", { name: "Back to the conversation" });
    this.deleteDialog = page.getByRole("dialog", { name: "Delete this conversation?" });
    this.sourcePanel = new ViewerPane(page.getByTestId("source-panel"));
    this.sourceHeading = this.sourcePanel.root.getByRole("heading", { level: 2, name: /^Source \d+$/ });
    this.closeSourceButton = this.sourcePanel.root.getByRole("button", { name: "Close source panel" });
    this.scopeButton = page.getByTestId("scope-button");
    this.accountButton = page.getByRole("button", { name: /Account menu/ });
    this.modelPicker = page.getByTestId("model-picker");
    this.suggestions = page.getByTestId("suggested-question");
  }

  async open(): Promise<void> {
    await this.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Chat" }).click();
    await expect(this.page).toHaveURL(/\/chat\/(\?id=.*)?$/);
  }

  /** Types a question and sends it with Enter. */
  async ask(text: string): Promise<void> {
    await this.question.fill(text);
    await this.question.press("Enter");
  }

  async waitForAnswer(): Promise<void> {
    await expect(this.status).toHaveText("Answer complete.", { timeout: 180_000 });
  }

  lastAnswer(): Locator {
    return this.answers.last();
  }

  /** "Quotes from your documents" on an answer made of quotes (no language model). */
  extractiveLabel(answer: Locator = this.lastAnswer()): Locator {
    return answer.getByTestId("extractive-label");
  }

  searchedFor(answer: Locator = this.lastAnswer()): Locator {
    return answer.getByTestId("searched-for");
  }

  /** `< 2/3 >` under an answer or a question: its label reads "Version 2 of 3". */
  versionLabel(message: Locator = this.lastAnswer()): Locator {
    return message.getByTestId("version-label");
  }

  previousVersion(message: Locator = this.lastAnswer()): Locator {
    return message.getByRole("button", { name: "Previous version" });
  }

  nextVersion(message: Locator = this.lastAnswer()): Locator {
    return message.getByRole("button", { name: "Next version" });
  }

  regenerateButton(answer: Locator = this.lastAnswer()): Locator {
    return answer.getByRole("button", { name: "Regenerate" });
  }

  /** Opens "Export chat" and picks a format; resolves with the downloaded file. */
  async exportChat(format: "Markdown (.md)" | "JSON (.json)"): Promise<import("@playwright/test").Download> {
    await this.page.getByRole("button", { name: "Export chat" }).click();
    const download = this.page.waitForEvent("download");
    await this.page.getByRole("button", { name: format }).click();
    return download;
  }

  citationMarkers(answer: Locator = this.lastAnswer()): Locator {
    return answer.locator("button.citation-marker");
  }

  /** Opens the first source the last answer cites; returns the side panel. */
  async openFirstCitation(): Promise<ViewerPane> {
    await this.citationMarkers().first().click();
    await expect(this.sourcePanel.root).toBeVisible();
    return this.sourcePanel;
  }

  conversationLink(title: string): Locator {
    return this.conversations.getByRole("link", { name: title });
  }

  /** Opens a chat's actions menu (its button shows on hover); returns the menu. */
  async openChatActions(title: string): Promise<Locator> {
    await this.conversationLink(title).hover();
    await this.conversations.getByRole("button", { name: `Actions for ${title}` }).click();
    const menu = this.page.getByRole("menu", { name: `Actions for ${title}` });
    await expect(menu).toBeVisible();
    return menu;
  }

  /** Opens a chat's actions menu and picks one: Pin, Unpin, Rename, Archive, Unarchive, Delete. */
  async chatAction(title: string, action: string): Promise<void> {
    await (await this.openChatActions(title)).getByRole("menuitem", { name: action }).click();
  }

  /** "Still being written…" on an answer the page reads back from the server. */
  stillWriting(answer: Locator = this.lastAnswer()): Locator {
    return answer.getByTestId("still-writing");
  }

  /** Picks the model that answers an open chat; resolves once the chat has saved it. */
  async chooseModel(label: string): Promise<void> {
    const saved = this.page.waitForResponse(
      (response) => response.request().method() === "PATCH" && /\/api\/v1\/chats\/[\w-]+$/.test(new URL(response.url()).pathname),
    );
    await this.modelPicker.selectOption({ label });
    expect((await saved).ok()).toBe(true);
  }

  get searchBox(): Locator {
    return this.conversations.getByRole("searchbox", { name: "Search conversations" });
  }
}
