import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { tokenStore } from "@/lib/api";
import { ExportMenu, exportFilename } from "./export-menu";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("ExportMenu", () => {
  it("downloads the chat as Markdown with the API's file name, and Escape closes the menu", async () => {
    tokenStore.setTokens({ access_token: "access-1", refresh_token: "refresh-1" });
    const fetchMock = vi.fn(
      async (_url: string, _init?: RequestInit) =>
        new Response("# Crazy ones\n", { status: 200, headers: { "Content-Disposition": 'attachment; filename="Crazy-ones.md"' } }),
    );
    vi.stubGlobal("fetch", fetchMock);
    const created = vi.fn((_blob: Blob) => "blob:export");
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() }));
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => undefined);
    const user = userEvent.setup();
    render(<ExportMenu chatId="chat-1" />);

    const button = screen.getByRole("button", { name: "Export chat" });
    await user.click(button);
    expect(button).toHaveAttribute("aria-expanded", "true");
    await user.keyboard("{Escape}");
    expect(button).toHaveAttribute("aria-expanded", "false");
    expect(button).toHaveFocus();

    await user.click(button);
    await user.click(document.body);
    expect(button).toHaveAttribute("aria-expanded", "false");

    await user.click(button);
    await user.click(screen.getByRole("button", { name: "Markdown (.md)" }));
    expect(String(fetchMock.mock.calls[0]?.[0])).toMatch(/\/api\/v1\/chats\/chat-1\/export\?format=markdown$/);
    expect(new Headers(fetchMock.mock.calls[0]?.[1]?.headers).get("Authorization")).toBe("Bearer access-1");
    expect(click).toHaveBeenCalledOnce();
    expect(created.mock.calls[0]?.[0].type).toBe("text/markdown");
    const link = click.mock.contexts[0] as HTMLAnchorElement;
    expect(link.download).toBe("Crazy-ones.md");
    expect(button).toHaveFocus();
  });

  it("says why an export failed", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ error: { code: "not_found", message: "Chat not found.", request_id: "r" } }), { status: 404, headers: { "Content-Type": "application/json" } })),
    );
    const user = userEvent.setup();
    render(<ExportMenu chatId="gone" />);
    await user.click(screen.getByRole("button", { name: "Export chat" }));
    await user.click(screen.getByRole("button", { name: "JSON (.json)" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Chat not found.");
  });

  it("takes the file name from Content-Disposition", () => {
    expect(exportFilename('attachment; filename="Notes.json"', "json")).toBe("Notes.json");
    expect(exportFilename(null, "md")).toBe("chat.md");
  });
});
