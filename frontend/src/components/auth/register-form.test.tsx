import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, fakeApi, json, renderWithQueries } from "@/test/fake-api";
import { AuthProvider } from "./auth-provider";
import { RegisterForm } from "./register-form";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const account = { id: "u1", email: "new@example.com", full_name: "New Person", role: "member", created_at: "2026-11-30T10:00:00Z" };

function serveRegistration() {
  return fakeApi({
    "POST /api/v1/auth/register": ({ body }) =>
      (body as { invite_token?: string }).invite_token === "tok-123"
        ? json(account, 201)
        : apiError(403, "registration_closed", "Registration needs an invite link."),
    "POST /api/v1/auth/login": () => json({ access_token: "a", refresh_token: "r", token_type: "bearer", expires_in: 900 }),
    "GET /api/v1/auth/me": () => json(account),
  });
}

async function fillAndSend() {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Full name"), "New Person");
  await user.type(screen.getByLabelText("Email"), "new@example.com");
  await user.type(screen.getByLabelText("Password", { exact: true }), "correct-horse-battery");
  await user.type(screen.getByLabelText("Confirm password"), "correct-horse-battery");
  await user.click(screen.getByRole("button", { name: "Create account" }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, "", "/");
});

describe("RegisterForm with an invite link", () => {
  it("says the visitor was invited and sends the link's token with the account", async () => {
    window.history.replaceState(null, "", "/register/?invite=tok-123");
    const api = serveRegistration();
    renderWithQueries(
      <AuthProvider>
        <RegisterForm />
      </AuthProvider>,
    );
    expect(screen.getByTestId("invite-notice")).toHaveTextContent("You were invited");
    await fillAndSend();
    await vi.waitFor(() => expect(api.calls.map((call) => call.path)).toContain("/api/v1/auth/me"));
    expect(api.calls[0]?.body).toEqual({
      full_name: "New Person",
      email: "new@example.com",
      password: "correct-horse-battery",
      invite_token: "tok-123",
    });
  });

  it("without an invite, sends no token and shows the API's refusal", async () => {
    const api = serveRegistration();
    renderWithQueries(
      <AuthProvider>
        <RegisterForm />
      </AuthProvider>,
    );
    expect(screen.queryByTestId("invite-notice")).toBeNull();
    await fillAndSend();
    expect(await screen.findByRole("alert")).toHaveTextContent("Registration needs an invite link.");
    expect(api.calls[0]?.body).not.toHaveProperty("invite_token");
  });

  it("an address that has an account already gets a Sign in link", async () => {
    fakeApi({
      "POST /api/v1/auth/register": () => apiError(409, "conflict", "An account with this email already exists."),
    });
    renderWithQueries(
      <AuthProvider>
        <RegisterForm />
      </AuthProvider>,
    );
    await fillAndSend();
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("An account with this email already exists. Sign in with it, or use another address.");
    expect(within(alert).getByRole("link", { name: "Sign in" })).toHaveAttribute("href", expect.stringMatching(/^\/login\/?$/));
  });
});

describe("RegisterForm password", () => {
  it("says once how long a password must be, and then only that it is too short", async () => {
    const user = userEvent.setup();
    renderWithQueries(
      <AuthProvider>
        <RegisterForm />
      </AuthProvider>,
    );
    const password = screen.getByLabelText("Password", { exact: true });
    expect(password).toHaveAccessibleDescription("At least 10 characters.");
    await user.type(password, "short");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    await vi.waitFor(() => expect(password).toHaveAttribute("aria-invalid", "true"));
    expect(password).toHaveAccessibleDescription("At least 10 characters. This password is too short.");
  });
});
