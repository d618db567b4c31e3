import { type Locator, type Page } from "@playwright/test";

/**
 * A document viewer: the chat's source panel (root = the panel) or the /viewer/ page
 * (root = the page's main region). The snippet and page label exist in the panel only.
 */
export class ViewerPane {
  static page(page: Page): ViewerPane {
    return new ViewerPane(page.getByRole("main"));
  }

  readonly filename: Locator;
  readonly sourcePage: Locator;
  readonly snippet: Locator;
  readonly snippetHighlights: Locator;
  readonly pdfPage: Locator;
  /** Marks pdf.js puts in the text layer: a sentence is marked in pieces, one per text span. */
  readonly pdfMarks: Locator;
  readonly textPage: Locator;
  /** A page of an image document, drawn as an image. */
  readonly imagePage: Locator;
  /** Boxes over a page image (scanned PDF page or image document) from OCR's word boxes. */
  readonly ocrMarks: Locator;
  readonly textMarks: Locator;
  readonly pageLabel: Locator;
  /** The sheet's, slide's or chapter's title. */
  readonly pageTitle: Locator;
  /** A spreadsheet page: the sheet as a table. */
  readonly tablePage: Locator;
  readonly tableHighlightRows: Locator;
  readonly alert: Locator;
  readonly nextPageButton: Locator;
  readonly previousPageButton: Locator;
  readonly zoomInButton: Locator;
  readonly downloadButton: Locator;
  readonly fullViewLink: Locator;

  constructor(readonly root: Locator) {
    this.filename = root.getByTestId("source-filename");
    this.sourcePage = root.getByTestId("source-page");
    this.snippet = root.locator("blockquote");
    this.snippetHighlights = root.getByTestId("snippet-highlight");
    this.pdfPage = root.getByTestId("pdf-page");
    this.pdfMarks = this.pdfPage.locator(".textLayer mark.viewer-highlight");
    this.textPage = root.getByTestId("text-page");
    this.imagePage = root.getByTestId("image-page");
    this.ocrMarks = root.getByTestId("ocr-highlight");
    this.textMarks = root.getByTestId("viewer-highlight");
    this.pageLabel = root.getByTestId("viewer-page-label");
    this.pageTitle = root.getByTestId("viewer-page-title");
    this.tablePage = root.getByTestId("table-page");
    this.tableHighlightRows = this.tablePage.getByTestId("viewer-highlight-row");
    this.alert = root.getByRole("alert");
    this.nextPageButton = root.getByRole("button", { name: "Next page" });
    this.previousPageButton = root.getByRole("button", { name: "Previous page" });
    this.zoomInButton = root.getByRole("button", { name: "Zoom in" });
    this.downloadButton = root.getByRole("button", { name: "Download original" });
    this.fullViewLink = root.getByRole("link", { name: "Full view" });
  }

  /** The text of every mark, joined with single spaces. */
  static async markedText(marks: Locator): Promise<string> {
    return (await marks.allTextContents()).join(" ").replace(/\s+/g, " ");
  }
}
