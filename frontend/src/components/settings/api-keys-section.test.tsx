import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api/errors";
import { renderWithQueries } from "@/testing/render";
import { ApiKeysSection, expiryDate } from "./api-keys-section";

const apiKeysApi = vi.hoisted(() => ({ list: vi.fn(), create: vi.fn(), revoke: vi.fn() }));
vi.mock("@/lib/api/endpoints", () => ({ apiKeysApi }));

const listed = {
  id: "k1",
  name: "Laptop",
  prefix: "dc_live_ab12",
  scopes: ["read"],
  expires_at: null,
  created_at: "2026-11-30T10:00:00Z",
  last_used_at: "2026-11-30T11:00:00Z",
  last_used_ip: "203.0.113.7",
};

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

describe("ApiKeysSection", () => {
  beforeEach(() => {
    for (const mock of Object.values(apiKeysApi)) mock.mockReset();
  });

  it("lists keys by name and prefix with their last use, never the key", async () => {
    apiKeysApi.list.mockResolvedValue([listed, { ...listed, id: "k2", name: "CI", scopes: ["read", "write"], last_used_at: null, last_used_ip: null }]);
    renderWithQueries(<ApiKeysSection />);
    await screen.findByText("CI");
    const list = screen.getByRole("list", { name: "API keys" });
    const [laptop, ci] = within(list).getAllByRole("listitem");
    expect(laptop).toHaveTextContent("Laptop");
    expect(laptop).toHaveTextContent("dc_live_ab12…");
    expect(laptop).toHaveTextContent("read only");
    expect(laptop).toHaveTextContent("from 203.0.113.7");
    expect(ci).toHaveTextContent("read and write");
    expect(ci).toHaveTextContent("Never used");
  });

  it("creates a key with the chosen scope and expiry and shows it once", async () => {
    apiKeysApi.list.mockResolvedValue([]);
    apiKeysApi.create.mockResolvedValue({ ...listed, key: "dc_live_ab12secret" });
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    renderWithQueries(<ApiKeysSection />);
    await screen.findByText("No keys yet.");

    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByText("Name the key after where it is used.")).toBeInTheDocument();
    expect(apiKeysApi.create).not.toHaveBeenCalled();

    await userEvent.type(screen.getByLabelText("Key name"), " Laptop ");
    await userEvent.click(screen.getByLabelText(/write/));
    await userEvent.selectOptions(screen.getByLabelText("Expires"), "30");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));

    const body = apiKeysApi.create.mock.calls[0]?.[0];
    expect(body.name).toBe("Laptop");
    expect(body.scopes).toEqual(["read", "write"]);
    const days = (Date.parse(body.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);

    expect(await screen.findByTestId("new-api-key")).toHaveTextContent("dc_live_ab12secret");
    await userEvent.click(screen.getByRole("button", { name: "Copy" }));
    expect(writeText).toHaveBeenCalledWith("dc_live_ab12secret");
    expect(screen.getByRole("button", { name: "Copied" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByTestId("new-api-key")).not.toBeInTheDocument();
  });

  it("shows the API's reason when a key cannot be created", async () => {
    apiKeysApi.list.mockResolvedValue([]);
    apiKeysApi.create.mockRejectedValue(new ApiError({ status: 422, code: "validation_error", message: "expires_at: must be in the future" }));
    renderWithQueries(<ApiKeysSection />);
    await userEvent.type(screen.getByLabelText("Key name"), "Laptop");
    await userEvent.click(screen.getByRole("button", { name: "Create key" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("expires_at: must be in the future");
  });

  it("revokes a key after confirmation", async () => {
    apiKeysApi.list.mockResolvedValueOnce([listed]).mockResolvedValue([]);
    apiKeysApi.revoke.mockResolvedValue(undefined);
    renderWithQueries(<ApiKeysSection />);
    await userEvent.click(await screen.findByRole("button", { name: "Revoke Laptop" }));
    expect(apiKeysApi.revoke).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole("button", { name: "Revoke" }));
    expect(apiKeysApi.revoke).toHaveBeenCalledWith("k1");
    await waitFor(() => expect(screen.getByText("No keys yet.")).toBeInTheDocument());
  });

  it("computes expiry dates", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(expiryDate(null, now)).toBeNull();
    expect(expiryDate(30, now)).toBe("2026-01-31T00:00:00.000Z");
  });
});
