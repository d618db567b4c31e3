import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AdminUserOut } from "@/lib/api/teams-contract";
import { fakeApi, json, noContent, polyfillDialog, renderWithQueries } from "@/test/fake-api";
import { UsersPanel } from "./users-panel";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const quota = { storage_mb: 500, documents: 1000, storage_mb_is_default: true, documents_is_default: true };
const user = (id: string, email: string, extra: Partial<AdminUserOut> = {}): AdminUserOut => ({
  id,
  email,
  full_name: "",
  role: "member",
  disabled: false,
  created_at: "2026-11-01T10:00:00Z",
  last_active_at: null,
  usage: { documents: 3, storage_bytes: 5 * 1024 * 1024, chunks: 120, messages: 7 },
  quota,
  ...extra,
});

/** The admin users API over a list it keeps: PATCH applies the fields sent, DELETE removes. */
function serveUsers() {
  let users = [user("u-admin", "admin@example.com", { role: "admin", full_name: "Ada Admin" }), user("u-bob", "bob@example.com")];
  return fakeApi({
    "GET /api/v1/admin/users": ({ query }) => json(users.filter((item) => item.email.includes(query.get("q") ?? ""))),
    "PATCH /api/v1/admin/users/([^/]+)": ({ body }, match) => {
      const patch = body as { role?: "admin" | "member"; disabled?: boolean; quota_storage_mb?: number | null; quota_documents?: number | null };
      users = users.map((item) => {
        if (item.id !== match[1]) return item;
        const next = { ...item, ...(patch.role ? { role: patch.role } : {}), ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}) };
        if ("quota_storage_mb" in patch)
          next.quota = { ...next.quota, storage_mb: patch.quota_storage_mb ?? 500, storage_mb_is_default: patch.quota_storage_mb == null };
        return next;
      });
      return json(users.find((item) => item.id === match[1]));
    },
    "DELETE /api/v1/admin/users/([^/]+)": (_call, match) => {
      users = users.filter((item) => item.id !== match[1]);
      return noContent();
    },
  });
}

const row = (email: string) => screen.getAllByTestId("admin-user-row").find((element) => element.dataset.email === email)!;

beforeAll(polyfillDialog);
afterEach(() => vi.unstubAllGlobals());

describe("UsersPanel", () => {
  it("lists users with their usage and quota; the admin cannot disable, demote or delete themself", async () => {
    serveUsers();
    renderWithQueries(<UsersPanel currentUserId="u-admin" />);
    await screen.findAllByTestId("admin-user-row");
    const bob = within(row("bob@example.com"));
    expect(row("bob@example.com")).toHaveTextContent("Member");
    expect(row("bob@example.com")).toHaveTextContent("Active");
    for (const cell of ["3", "5.0 MB", "120", "7", "Never", "500 MB (default) · 1000 documents (default)"]) {
      expect(bob.getByText(cell)).toBeInTheDocument();
    }
    const me = within(row("admin@example.com"));
    expect(me.getByText("(you)")).toBeInTheDocument();
    expect(me.queryByRole("button", { name: /Disable|Delete|Make member/ })).toBeNull();
  });

  it("disables, promotes and, after confirming, deletes a user", async () => {
    const actor = userEvent.setup();
    const api = serveUsers();
    renderWithQueries(<UsersPanel currentUserId="u-admin" />);
    await screen.findAllByTestId("admin-user-row");

    await actor.click(within(row("bob@example.com")).getByRole("button", { name: /^Disable/ }));
    await vi.waitFor(() => expect(row("bob@example.com")).toHaveTextContent("Disabled"));
    await actor.click(within(row("bob@example.com")).getByRole("button", { name: /^Make admin/ }));
    await vi.waitFor(() => expect(row("bob@example.com")).toHaveTextContent("Admin"));

    await actor.click(within(row("bob@example.com")).getByRole("button", { name: /^Delete/ }));
    const dialog = screen.getByRole("dialog", { name: "Delete this user and all their data?" });
    expect(dialog).toHaveTextContent("bob@example.com, their documents, collections, groups and conversations are deleted");
    await actor.click(within(dialog).getByRole("button", { name: "Delete user" }));
    await vi.waitFor(() => expect(screen.getAllByTestId("admin-user-row")).toHaveLength(1));

    expect(api.writes().map(({ method, path, body }) => [method, path, body])).toEqual([
      ["PATCH", "/api/v1/admin/users/u-bob", { disabled: true }],
      ["PATCH", "/api/v1/admin/users/u-bob", { role: "admin" }],
      ["DELETE", "/api/v1/admin/users/u-bob", undefined],
    ]);
  });

  it("sets a quota (blank keeps the default) and refuses what is not a whole number", async () => {
    const actor = userEvent.setup();
    const api = serveUsers();
    renderWithQueries(<UsersPanel currentUserId="u-admin" />);
    await screen.findAllByTestId("admin-user-row");

    await actor.click(within(row("bob@example.com")).getByRole("button", { name: /^Quotas/ }));
    const storage = screen.getByLabelText("Storage (MB)");
    expect(storage).toHaveValue("");
    await actor.type(storage, "2.5");
    expect(storage).toHaveAccessibleDescription(/Enter a whole number/);
    expect(screen.getByRole("button", { name: "Save quotas" })).toBeDisabled();
    await actor.clear(storage);
    await actor.type(storage, "250");
    await actor.click(screen.getByRole("button", { name: "Save quotas" }));
    await vi.waitFor(() => expect(row("bob@example.com")).toHaveTextContent("250 MB · 1000 documents (default)"));
    expect(api.writes().at(-1)?.body).toEqual({ quota_storage_mb: 250, quota_documents: null });
  });

  it("searches by name or email", async () => {
    const actor = userEvent.setup();
    const api = serveUsers();
    renderWithQueries(<UsersPanel currentUserId="u-admin" />);
    await screen.findAllByTestId("admin-user-row");
    await actor.type(screen.getByLabelText("Search by name or email"), "bob");
    await vi.waitFor(() => expect(screen.getAllByTestId("admin-user-row")).toHaveLength(1));
    expect(api.calls.at(-1)?.query.get("q")).toBe("bob");
  });
});
