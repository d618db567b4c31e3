import { expect, test } from "@playwright/test";
import { expectAccessible, PASSWORD, uniqueEmail } from "./helpers";
import { AuthPages } from "./pages/auth";

/*
 * Accounts against the real stack (scripts/e2e-server.sh): mail is off, and single sign-on
 * goes to a real OpenID provider (npm oidc-provider, backend/tests/oidc_provider) whose own
 * HTML login and consent pages the browser fills in.
 */

test("without mail, a forgotten password is explained, and a bad reset link is refused", async ({ page }) => {
  await page.goto("/login/");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password\/$/);
  const note = page.getByRole("note", { name: "How to get a new password" });
  await expect(note).toContainText("docchat reset-password you@example.com");
  await expect(page.getByRole("button", { name: "Send reset link" })).toHaveCount(0);
  await expectAccessible(page, "forgot password without mail");

  await page.goto("/reset-password/?token=not-a-link-we-sent");
  await page.getByLabel("New password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Repeat the new password").fill(PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("form", { name: "Choose a new password" }).getByRole("alert")).toContainText(
    "invalid, was already used or has expired",
  );
  await page.getByRole("link", { name: "Ask for a new link" }).click();
  await expect(page).toHaveURL(/\/forgot-password\/$/);
});

test("Sign in with the provider: its login and consent pages, then signed in to DocChat", async ({ page }) => {
  const email = uniqueEmail("sso");
  await page.goto("/login/");
  const sso = page.getByRole("link", { name: "Sign in with Test IdP" });
  await expect(sso).toBeVisible();
  // Password sign-in stays offered next to it (PASSWORD_LOGIN_ENABLED defaults to true).
  await expect(page.getByRole("form", { name: "Sign in" })).toBeVisible();
  await expectAccessible(page, "sign-in page with single sign-on");

  await sso.click();
  // The provider's own pages, on its own origin.
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.locator('input[name="login"]').fill(email);
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();

  await expect(page).toHaveURL(/\/chat\/$/, { timeout: 30_000 });
  // The one-time code never stays in the address bar or the history.
  expect(page.url()).not.toContain("code=");
  await page.goto("/settings/");
  await expect(page.getByLabel("Email")).toHaveValue(email);
  await expect(page.getByRole("list", { name: "Active sessions" })).toContainText("This device");
});

test("a refused single sign-on comes back to the sign-in page with the reason", async ({ page }) => {
  await page.goto("/login/");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await page.locator('input[name="login"]').fill(`unverified:${uniqueEmail("unverified")}`);
  await page.locator('input[name="password"]').fill("anything");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/login\/\?sso_error=/);
  await expect(page.getByRole("alert").filter({ hasText: "has not verified the address" })).toBeVisible();
});

test("Settings: change the password, and another device is signed out", async ({ browser, page }) => {
  const auth = new AuthPages(page);
  const email = await auth.signUp("settings");
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/login/");
  await new AuthPages(otherPage).signIn(email);
  await expect(otherPage).toHaveURL(/\/chat\/$/, { timeout: 30_000 });

  await page.goto("/settings/");
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  const sessions = page.getByRole("list", { name: "Active sessions" });
  await expect(sessions.getByRole("listitem")).toHaveCount(2);
  await expectAccessible(page, "settings");

  const newPassword = "a-brand-new-passphrase";
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill(newPassword);
  await page.getByLabel("Repeat the new password").fill(newPassword);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your other devices have been signed out.")).toBeVisible();
  await expect(sessions.getByRole("listitem")).toHaveCount(1);

  // The other browser's next request is refused, and it is sent to sign in.
  await otherPage.goto("/library/");
  await expect(otherPage).toHaveURL(/\/login\//, { timeout: 30_000 });
  await other.close();

  await auth.signOut();
  await auth.signIn(email, newPassword);
  await expect(page).toHaveURL(/\/chat\/$/, { timeout: 30_000 });
});
