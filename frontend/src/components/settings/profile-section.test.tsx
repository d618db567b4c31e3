import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { renderWithQueries } from "@/testing/render";
import { ProfileSection } from "./profile-section";

const accountApi = vi.hoisted(() => ({ updateProfile: vi.fn() }));
vi.mock("@/lib/api/endpoints", () => ({ accountApi }));
const user = { id: "u1", email: "ada@example.com", full_name: "Ada", created_at: "2026-11-30T10:00:00Z" };
vi.mock("@/components/auth/auth-provider", () => ({ useAuth: () => ({ user }) }));

describe("ProfileSection", () => {
  beforeEach(() => {
    accountApi.updateProfile.mockReset();
  });

  it("renames without asking for the password", async () => {
    accountApi.updateProfile.mockResolvedValue({ ...user, full_name: "Ada Lovelace", pending_email: null });
    renderWithQueries(<ProfileSection />);
    expect(screen.queryByLabelText("Current password")).toBeNull();
    await userEvent.clear(screen.getByLabelText("Name"));
    await userEvent.type(screen.getByLabelText("Name"), "Ada Lovelace");
    await userEvent.click(screen.getByRole("button", { name: "Save profile" }));
    expect(accountApi.updateProfile).toHaveBeenCalledWith({ full_name: "Ada Lovelace" });
    expect(await screen.findByRole("status")).toHaveTextContent("Saved.");
  });

  it("asks for the current password to change the email, then says where to confirm", async () => {
    accountApi.updateProfile.mockResolvedValue({ ...user, pending_email: "ada@lovelace.org" });
    renderWithQueries(<ProfileSection />);
    await userEvent.clear(screen.getByLabelText("Email"));
    await userEvent.type(screen.getByLabelText("Email"), "ada@lovelace.org");
    await userEvent.click(screen.getByRole("button", { name: "Save profile" }));
    expect(await screen.findByText("Enter your current password to change your email.")).toBeInTheDocument();
    expect(accountApi.updateProfile).not.toHaveBeenCalled();

    await userEvent.type(screen.getByLabelText("Current password"), "my-password-1");
    await userEvent.click(screen.getByRole("button", { name: "Save profile" }));
    expect(accountApi.updateProfile).toHaveBeenCalledWith({
      full_name: "Ada",
      email: "ada@lovelace.org",
      current_password: "my-password-1",
    });
    expect(await screen.findByRole("status")).toHaveTextContent("Open the link we sent to ada@lovelace.org");
  });
});
