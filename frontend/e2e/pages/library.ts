import { expect, type Locator, type Page } from "@playwright/test";

/** The library: uploads, the document list and its delete confirmation. */
export class LibraryPage {
  readonly heading: Locator;
  readonly documentsHeading: Locator;
  readonly empty: Locator;
  readonly deleteDialog: Locator;
  readonly importUrlField: Locator;
  readonly importUrlButton: Locator;
  readonly importUrlStatus: Locator;
  readonly importUrlError: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole("heading", { name: "Library" });
    this.documentsHeading = page.getByRole("heading", { name: "All documents" });
    this.empty = page.getByTestId("library-empty");
    this.deleteDialog = page.getByRole("dialog", { name: "Delete this document?" });
    this.importUrlField = page.getByLabel("Web page or PDF address");
    this.importUrlButton = page.getByRole("button", { name: "Import", exact: true });
    this.importUrlStatus = page.getByTestId("import-url-status");
    this.importUrlError = page.locator("#import-url-error");
  }

  async open(): Promise<void> {
    await this.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Library" }).click();
    await expect(this.heading).toBeVisible();
  }

  /** Uploads files through the file input behind "Choose files". */
  async upload(files: Parameters<Page["setInputFiles"]>[1]): Promise<void> {
    await this.page.locator("#upload-input").setInputFiles(files);
  }

  /** "Import from URL": the server fetches the address. */
  async importUrl(url: string): Promise<void> {
    await this.importUrlField.fill(url);
    await this.importUrlButton.click();
  }

  uploadItem(filename: string): Locator {
    return this.page.getByTestId("upload-item").filter({ hasText: filename });
  }

  row(filename: string): Locator {
    return this.page.getByTestId("document-row").filter({ has: this.page.getByRole("heading", { name: filename, exact: true }) });
  }

  rowError(filename: string): Locator {
    return this.row(filename).getByTestId("document-error");
  }

  async waitForStatus(filename: string, status: "ready" | "failed"): Promise<Locator> {
    const row = this.row(filename);
    await expect(row).toHaveAttribute("data-status", status, { timeout: 180_000 });
    return row;
  }

  deleteButton(filename: string): Locator {
    return this.row(filename).getByRole("button", { name: `Delete ${filename}` });
  }
}
