import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { renderWithQueries } from "@/testing/render";
import { PasswordSection } from "./password-section";

const accountApi = vi.hoisted(() => ({ changePassword: vi.fn() }));
vi.mock("@/lib/api/endpoints", () => ({ accountApi }));

async function fill(current: string, password: string, confirm: string) {
  await userEvent.type(screen.getByLabelText("Current password"), current);
  await userEvent.type(screen.getByLabelText("New password"), password);
  await userEvent.type(screen.getByLabelText("Repeat the new password"), confirm);
  await userEvent.click(screen.getByRole("button", { name: "Change password" }));
}

describe("PasswordSection", () => {
  beforeEach(() => {
    accountApi.changePassword.mockReset();
  });

  it("checks the new password before asking the API", async () => {
    renderWithQueries(<PasswordSection />);
    await fill("old-password", "short", "short");
    expect(await screen.findByText("This password is too short.")).toBeInTheDocument();
    expect(screen.getByLabelText("New password")).toHaveAccessibleDescription("At least 10 characters. This password is too short.");
    await userEvent.clear(screen.getByLabelText("New password"));
    await userEvent.type(screen.getByLabelText("New password"), "long-enough-password");
    await userEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByText("The passwords do not match.")).toBeInTheDocument();
    expect(accountApi.changePassword).not.toHaveBeenCalled();
  });

  it("changes the password and says the other devices were signed out", async () => {
    accountApi.changePassword.mockResolvedValue(undefined);
    renderWithQueries(<PasswordSection />);
    await fill("old-password", "long-enough-password", "long-enough-password");
    expect(accountApi.changePassword).toHaveBeenCalledWith({ current_password: "old-password", new_password: "long-enough-password" });
    expect(await screen.findByRole("status")).toHaveTextContent("Your other devices have been signed out.");
    expect(screen.getByLabelText("Current password")).toHaveValue("");
  });

  it("shows the API's reason for a refusal", async () => {
    accountApi.changePassword.mockRejectedValueOnce(new ApiError({ status: 403, code: "forbidden", message: "The current password is not correct." }));
    renderWithQueries(<PasswordSection />);
    await fill("wrong-password", "long-enough-password", "long-enough-password");
    expect(await screen.findByRole("alert")).toHaveTextContent("The current password is not correct.");
  });
});
