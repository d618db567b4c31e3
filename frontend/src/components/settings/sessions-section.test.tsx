import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { SessionInfo } from "@/lib/api";
import { renderWithQueries } from "@/testing/render";
import { describeDevice, SessionsSection } from "./sessions-section";

const accountApi = vi.hoisted(() => ({ sessions: vi.fn(), revokeSession: vi.fn() }));
vi.mock("@/lib/api/endpoints", () => ({ accountApi }));

const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
const SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";

const session = (id: string, userAgent: string | null, current: boolean): SessionInfo => ({
  id,
  created_at: "2026-11-30T10:00:00Z",
  last_used_at: "2026-11-30T11:00:00Z",
  ip: "203.0.113.7",
  user_agent: userAgent,
  current,
});

describe("SessionsSection", () => {
  beforeEach(() => {
    accountApi.sessions.mockReset();
    accountApi.revokeSession.mockReset();
  });

  it("lists the devices, marks this one, and signs another one out", async () => {
    accountApi.sessions
      .mockResolvedValueOnce([session("a", FIREFOX, true), session("b", SAFARI, false)])
      .mockResolvedValueOnce([session("a", FIREFOX, true)]);
    accountApi.revokeSession.mockResolvedValue(undefined);
    renderWithQueries(<SessionsSection />);

    const list = await screen.findByRole("list", { name: "Active sessions" });
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("Firefox on Linux");
    expect(items[0]).toHaveTextContent("This device");
    // No way to sign this device out from here (that is "Sign out" in the account menu).
    expect(within(items[0]!).queryByRole("button")).toBeNull();

    await userEvent.click(within(items[1]!).getByRole("button", { name: /Sign out Safari on iOS/ }));
    expect(accountApi.revokeSession).toHaveBeenCalledWith("b");
    await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
  });

  it("shows why a revoke failed", async () => {
    accountApi.sessions.mockResolvedValue([session("a", FIREFOX, true), session("b", null, false)]);
    const { ApiError } = await import("@/lib/api/errors");
    accountApi.revokeSession.mockRejectedValue(new ApiError({ status: 404, code: "not_found", message: "No such session." }));
    renderWithQueries(<SessionsSection />);
    await userEvent.click(await screen.findByRole("button", { name: /Sign out Unknown device/ }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No such session.");
  });
});

describe("describeDevice", () => {
  it("names common browsers and systems, and keeps anything else as sent", () => {
    expect(describeDevice(FIREFOX)).toBe("Firefox on Linux");
    expect(describeDevice(SAFARI)).toBe("Safari on iOS");
    expect(describeDevice("curl/8.5.0")).toBe("curl/8.5.0");
    expect(describeDevice(null)).toBe("Unknown device");
  });
});
