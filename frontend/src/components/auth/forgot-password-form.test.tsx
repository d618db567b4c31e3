import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithQueries } from "@/testing/render";
import { ForgotPasswordForm } from "./forgot-password-form";

const authApi = vi.hoisted(() => ({ config: vi.fn(), requestPasswordReset: vi.fn() }));
vi.mock("@/lib/api/endpoints", () => ({ authApi }));

const config = (byEmail: boolean) => ({ enabled: false, provider_name: null, password_login_enabled: true, password_reset_by_email: byEmail });

describe("ForgotPasswordForm", () => {
  beforeEach(() => {
    authApi.config.mockReset();
    authApi.requestPasswordReset.mockReset();
  });

  it("explains the admin command when this DocChat sends no mail", async () => {
    authApi.config.mockResolvedValue(config(false));
    renderWithQueries(<ForgotPasswordForm />);
    const note = await screen.findByRole("note", { name: "How to get a new password" });
    expect(note).toHaveTextContent("docchat reset-password you@example.com");
    expect(screen.queryByRole("form")).toBeNull();
  });

  it("sends the link and answers the same whatever the address", async () => {
    authApi.config.mockResolvedValue(config(true));
    authApi.requestPasswordReset.mockResolvedValue(undefined);
    renderWithQueries(<ForgotPasswordForm />);
    await userEvent.type(await screen.findByLabelText("Email"), "ada@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(authApi.requestPasswordReset).toHaveBeenCalledWith("ada@example.com");
    expect(await screen.findByRole("status")).toHaveTextContent("If an account uses ada@example.com");
  });
});
