import { screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AuthConfig } from "@/lib/api";
import { renderWithQueries } from "@/testing/render";
import { SignInOptions } from "./sign-in-options";

const authApi = vi.hoisted(() => ({ config: vi.fn(), ssoLoginUrl: () => "https://api.example.com/api/v1/auth/oidc/login" }));
vi.mock("@/lib/api/endpoints", () => ({ authApi }));
vi.mock("./auth-provider", () => ({ useAuth: () => ({ signIn: vi.fn() }) }));
const search = vi.hoisted(() => ({ value: "" }));
vi.mock("next/navigation", () => ({ useSearchParams: () => new URLSearchParams(search.value) }));

const config = (overrides: Partial<AuthConfig>): AuthConfig => ({
  enabled: false,
  provider_name: null,
  password_login_enabled: true,
  password_reset_by_email: false,
  ...overrides,
});

describe("SignInOptions", () => {
  beforeEach(() => {
    authApi.config.mockReset();
  });
  afterEach(() => {
    search.value = "";
  });

  it("offers only the password form without single sign-on", async () => {
    authApi.config.mockResolvedValue(config({}));
    renderWithQueries(<SignInOptions />);
    expect(await screen.findByRole("form", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Forgot your password?" })).toHaveAttribute("href", expect.stringMatching(/^\/forgot-password\/?$/));
    expect(screen.queryByRole("link", { name: /Sign in with/ })).toBeNull();
  });

  it("offers the provider next to the password form", async () => {
    authApi.config.mockResolvedValue(config({ enabled: true, provider_name: "Keycloak" }));
    renderWithQueries(<SignInOptions />);
    const sso = await screen.findByRole("link", { name: "Sign in with Keycloak" });
    expect(sso).toHaveAttribute("href", "https://api.example.com/api/v1/auth/oidc/login");
    expect(screen.getByRole("form", { name: "Sign in" })).toBeInTheDocument();
  });

  it("hides the password form when password sign-in is off", async () => {
    authApi.config.mockResolvedValue(config({ enabled: true, provider_name: "Entra ID", password_login_enabled: false }));
    renderWithQueries(<SignInOptions />);
    await screen.findByRole("link", { name: "Sign in with Entra ID" });
    expect(screen.queryByRole("form", { name: "Sign in" })).toBeNull();
    expect(screen.queryByRole("link", { name: "Forgot your password?" })).toBeNull();
  });

  it("shows why a single sign-on failed", async () => {
    authApi.config.mockResolvedValue(config({ enabled: true, provider_name: "Keycloak" }));
    search.value = "sso_error=Addresses+at+example.com+may+not+sign+in";
    renderWithQueries(<SignInOptions />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Addresses at example.com may not sign in");
  });
});
