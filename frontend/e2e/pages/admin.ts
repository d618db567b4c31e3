import { expect, type Locator, type Page } from "@playwright/test";

/** The admin console: users, registration and invites, the audit log. */
export class AdminPage {
  readonly heading: Locator;
  readonly navLink: Locator;
  readonly userSearch: Locator;
  readonly auditRows: Locator;
  readonly newInviteLink: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole("heading", { level: 1, name: "Admin" });
    this.navLink = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" });
    this.userSearch = page.getByLabel("Search by name or email");
    this.auditRows = page.getByTestId("audit-row");
    this.newInviteLink = page.getByLabel(/^Invite link/);
  }

  async open(): Promise<void> {
    await this.navLink.click();
    await expect(this.heading).toBeVisible();
  }

  async tab(name: "Users" | "Registration" | "Audit log"): Promise<void> {
    await this.page.getByRole("tab", { name }).click();
    await expect(this.page.getByRole("tab", { name })).toHaveAttribute("aria-selected", "true");
  }

  userRow(email: string): Locator {
    return this.page.locator(`[data-testid="admin-user-row"][data-email="${email}"]`);
  }

  async setRegistrationMode(mode: "Open" | "Invite only" | "Closed"): Promise<void> {
    const form = this.page.getByRole("form", { name: "Registration mode" });
    await form.getByRole("radio", { name: new RegExp(`^${mode}`) }).check();
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form.getByText("Saved.")).toBeVisible();
  }
}
