import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { renderWithQueries } from "@/testing/render";
import { AccountDataSection } from "./account-data-section";

const accountDataApi = vi.hoisted(() => ({ deleteAccount: vi.fn(), exportUrl: () => "http://api.test/api/v1/auth/me/export" }));
const saveDownload = vi.hoisted(() => vi.fn());
const signOut = vi.hoisted(() => vi.fn());
const replace = vi.hoisted(() => vi.fn());
vi.mock("@/lib/api/endpoints", () => ({ accountDataApi }));
vi.mock("@/lib/download-original", () => ({ saveDownload }));
vi.mock("@/components/auth/auth-provider", () => ({ useAuth: () => ({ signOut }) }));
vi.mock("next/navigation", () => ({ useRouter: () => ({ replace }) }));

beforeAll(() => {
  // jsdom has no modal dialogs: open/close toggle the attribute (Chromium's behaviour is in the e2e tests).
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute("open", "");
  };
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    this.removeAttribute("open");
    this.dispatchEvent(new Event("close"));
  };
});

describe("AccountDataSection", () => {
  beforeEach(() => {
    for (const mock of [accountDataApi.deleteAccount, saveDownload, signOut, replace]) mock.mockReset();
  });

  it("exports the data as a zip download", async () => {
    saveDownload.mockResolvedValue(undefined);
    renderWithQueries(<AccountDataSection />);
    await userEvent.click(screen.getByRole("button", { name: "Export my data" }));
    expect(saveDownload).toHaveBeenCalledWith("http://api.test/api/v1/auth/me/export", "docchat-export.zip");
  });

  it("says why an export failed", async () => {
    saveDownload.mockRejectedValue(new ApiError({ status: 429, code: "rate_limited", message: "Too many attempts; try again later." }));
    renderWithQueries(<AccountDataSection />);
    await userEvent.click(screen.getByRole("button", { name: "Export my data" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many attempts; try again later.");
  });

  it("asks for the password, confirms, deletes and signs out", async () => {
    accountDataApi.deleteAccount.mockResolvedValue(undefined);
    signOut.mockResolvedValue(undefined);
    renderWithQueries(<AccountDataSection />);
    await userEvent.click(screen.getByRole("button", { name: "Delete my account" }));
    expect(await screen.findByText("Enter your password to confirm.")).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Password"), "correct-horse-battery");
    await userEvent.click(screen.getByRole("button", { name: "Delete my account" }));
    expect(accountDataApi.deleteAccount).not.toHaveBeenCalled();
    await userEvent.click(await screen.findByRole("button", { name: "Delete everything" }));
    expect(accountDataApi.deleteAccount).toHaveBeenCalledWith("correct-horse-battery");
    expect(signOut).toHaveBeenCalled();
    expect(replace).toHaveBeenCalledWith("/login/");
  });

  it("keeps the account and says so when the password is wrong", async () => {
    accountDataApi.deleteAccount.mockRejectedValue(new ApiError({ status: 403, code: "forbidden", message: "The password is not correct." }));
    renderWithQueries(<AccountDataSection />);
    await userEvent.type(screen.getByLabelText("Password"), "wrong-password");
    await userEvent.click(screen.getByRole("button", { name: "Delete my account" }));
    await userEvent.click(await screen.findByRole("button", { name: "Delete everything" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The password is not correct.");
    expect(signOut).not.toHaveBeenCalled();
  });
});
