import { expect, type Locator, type Page } from "@playwright/test";
import { PASSWORD, uniqueEmail } from "../helpers";

/** The register and sign-in pages, and signing out through the account menu. */
export class AuthPages {
  readonly signInHeading: Locator;

  constructor(readonly page: Page) {
    this.signInHeading = page.getByRole("heading", { name: "Sign in" });
  }

  async gotoRegister(): Promise<void> {
    await this.page.goto("/register/");
  }

  async fillRegister(account: { name: string; email: string; password: string; confirm: string }): Promise<void> {
    await this.page.getByLabel("Full name").fill(account.name);
    await this.page.getByLabel("Email").fill(account.email);
    await this.page.getByLabel("Password", { exact: true }).fill(account.password);
    await this.page.getByLabel("Confirm password").fill(account.confirm);
    await this.page.getByRole("button", { name: "Create account" }).click();
  }

  /** Creates an account through the UI; registration signs in and opens the library. Returns the email. */
  async signUp(label: string): Promise<string> {
    const email = uniqueEmail(label);
    await this.gotoRegister();
    await this.fillRegister({ name: "E2E Tester", email, password: PASSWORD, confirm: PASSWORD });
    await expect(this.page).toHaveURL(/\/library\/$/, { timeout: 30_000 });
    await expect(this.page.getByRole("heading", { name: "Library" })).toBeVisible();
    return email;
  }

  /** Fills and sends the sign-in form of the page that is open. */
  async signIn(email: string, password = PASSWORD): Promise<void> {
    await this.page.getByLabel("Email").fill(email);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByRole("button", { name: "Sign in" }).click();
  }

  async signOut(): Promise<void> {
    await this.page.getByRole("button", { name: /Account menu/ }).click();
    await this.page.getByRole("button", { name: "Sign out" }).click();
    await expect(this.page).toHaveURL(/\/login\/$/);
  }
}
