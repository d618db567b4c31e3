import { expect, test as setup } from "@playwright/test";
import { ADMIN_EMAIL, PASSWORD } from "./helpers";

/*
 * Runs before every other test (the "setup" project in playwright.config.ts): the first account
 * of a fresh install becomes its administrator, so the admin console's test has one. On a
 * reused server the account exists already (409), which is fine.
 */
setup("the first account: the administrator", async ({ request }) => {
  const response = await request.post("/api/v1/auth/register", {
    data: { email: ADMIN_EMAIL, password: PASSWORD, full_name: "E2E Admin" },
  });
  expect([201, 409], await response.text()).toContain(response.status());
});
