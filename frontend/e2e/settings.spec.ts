import { expect, test } from "@playwright/test";
import { expectAccessible, PASSWORD } from "./helpers";
import { AuthPages } from "./pages/auth";

test("create an API key, use it like curl would, revoke it", async ({ page, request }) => {
  const auth = new AuthPages(page);
  const email = await auth.signUp("apikey");
  await page.getByRole("button", { name: /Account menu/ }).click();
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL(/\/settings\/$/);
  await expect(page.getByRole("heading", { name: "API keys" })).toBeVisible();
  await expect(page.getByText("No keys yet.")).toBeVisible();

  await page.getByLabel("Key name").fill("e2e script");
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByTestId("new-api-key");
  await expect(shown).toContainText("dc_live_");
  const key = (await shown.textContent())?.trim() ?? "";
  await expectAccessible(page, "settings with a new key");
  await page.getByRole("button", { name: "Done" }).click();
  await expect(shown).toBeHidden();

  const keys = page.getByRole("list", { name: "API keys" });
  await expect(keys.getByRole("listitem")).toHaveCount(1);
  await expect(keys).toContainText(`${key.slice(0, 12)}…`);
  await expect(keys).toContainText("Never used");
  await expect(keys).not.toContainText(key);

  const headers = { Authorization: `Bearer ${key}` };
  const me = await request.get("/api/v1/auth/me", { headers });
  expect(me.status()).toBe(200);
  expect((await me.json()).email).toBe(email);
  const upload = await request.post("/api/v1/documents", {
    headers,
    multipart: { files: { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("Hello.") } },
  });
  expect(upload.status()).toBe(403);

  await page.reload();
  await expect(keys).toContainText("Last used");
  await page.getByRole("button", { name: "Revoke e2e script" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("No keys yet.")).toBeVisible();
  expect((await request.get("/api/v1/auth/me", { headers })).status()).toBe(401);
});

test("delete my account after confirming the password", async ({ page }) => {
  const auth = new AuthPages(page);
  const email = await auth.signUp("delete");
  await page.goto("/settings/");
  // The page also has the change-password form: the delete's field is in "Your data".
  const password = page.getByRole("region", { name: "Your data" }).getByLabel("Password");
  await password.fill("not-my-password");
  await page.getByRole("button", { name: "Delete my account" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Delete everything" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("The password is not correct.");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await password.fill(PASSWORD);
  await page.getByRole("button", { name: "Delete my account" }).click();
  await dialog.getByRole("button", { name: "Delete everything" }).click();
  await expect(page).toHaveURL(/\/login\/$/);
  await auth.signIn(email);
  await expect(page.getByText("Incorrect email or password.")).toBeVisible();
});
