import { expect, type Locator, type Page } from "@playwright/test";

/** Collections in the library (sidebar, one collection's page) and the share dialog. */
export class CollectionsPage {
  readonly sidebar: Locator;
  readonly newCollectionName: Locator;
  readonly shareDialog: Locator;
  readonly documentRows: Locator;
  readonly goneAlert: Locator;

  constructor(readonly page: Page) {
    this.sidebar = page.getByRole("navigation", { name: "Collections" });
    this.newCollectionName = page.getByRole("textbox", { name: "New collection" });
    this.shareDialog = page.getByRole("dialog", { name: /^Share “/ });
    this.documentRows = page.getByTestId("document-row");
    this.goneAlert = page.getByRole("alert").filter({ hasText: "This collection does not exist or is no longer shared with you." });
  }

  link(name: string): Locator {
    return this.sidebar.getByRole("link", { name: new RegExp(`^${name}`) });
  }

  /** Creates a collection from the sidebar; the app opens it. */
  async create(name: string): Promise<void> {
    await this.newCollectionName.fill(name);
    await this.page.getByRole("button", { name: "Create collection" }).click();
    await expect(this.page.getByRole("heading", { level: 1, name })).toBeVisible();
  }

  async open(name: string): Promise<void> {
    await this.link(name).click();
    await expect(this.page.getByRole("heading", { level: 1, name })).toBeVisible();
  }

  row(filename: string): Locator {
    return this.documentRows.filter({ has: this.page.getByRole("heading", { name: filename, exact: true }) });
  }

  async openShareDialog(): Promise<Locator> {
    await this.page.getByRole("button", { name: "Share", exact: true }).click();
    await expect(this.shareDialog).toBeVisible();
    return this.shareDialog;
  }

  /** Shares the open collection with a person; waits until the member list shows them. */
  async shareWith(email: string, role: "viewer" | "editor"): Promise<void> {
    const dialog = this.shareDialog;
    await dialog.getByLabel("Their email").fill(email);
    await dialog.getByLabel("Role", { exact: true }).selectOption(role);
    await dialog.getByRole("button", { name: "Share", exact: true }).click();
    await expect(dialog.getByTestId("share-status")).toHaveText(`Shared with ${email}.`);
    await expect(this.member(email)).toBeVisible();
  }

  member(nameOrEmail: string): Locator {
    return this.shareDialog.getByTestId("member-row").filter({ hasText: nameOrEmail });
  }
}
