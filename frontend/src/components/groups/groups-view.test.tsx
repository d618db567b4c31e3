import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AuthProvider } from "@/components/auth/auth-provider";
import { tokenStore } from "@/lib/api";
import type { GroupOut, UserRef } from "@/lib/api/teams-contract";
import { fakeApi, json, noContent, polyfillDialog, renderWithQueries } from "@/test/fake-api";
import { GroupsView } from "./groups-view";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const me: UserRef = { id: "u-me", email: "me@example.com", full_name: "Me Myself" };
const ann: UserRef = { id: "u-ann", email: "ann@example.com", full_name: "Ann Archer" };
const at = "2026-11-30T10:00:00Z";

/** My group "Crew" (members: me) and Ann's group "Harbour" (members: Ann and me). */
function serveGroups() {
  let groups: GroupOut[] = [
    { id: "g-crew", name: "Crew", owner: me, my_role: "owner", member_count: 1, created_at: at },
    { id: "g-harbour", name: "Harbour", owner: ann, my_role: "member", member_count: 2, created_at: at },
  ];
  const members: Record<string, UserRef[]> = { "g-crew": [me], "g-harbour": [ann, me] };
  return fakeApi({
    "GET /api/v1/auth/me": () => json({ ...me, role: "member", created_at: at }),
    "GET /api/v1/groups": () => json(groups),
    "POST /api/v1/groups": ({ body }) => {
      const created: GroupOut = { id: "g-new", name: (body as { name: string }).name, owner: me, my_role: "owner", member_count: 1, created_at: at };
      groups = [...groups, created];
      members["g-new"] = [me];
      return json(created, 201);
    },
    "GET /api/v1/groups/([^/]+)/members": (_call, match) => json(members[match[1] ?? ""] ?? []),
    "PUT /api/v1/groups/([^/]+)/members": ({ body }, match) => {
      members[match[1] ?? ""]?.push({ id: "u-bob", email: (body as { email: string }).email, full_name: "" });
      return noContent();
    },
    "DELETE /api/v1/groups/([^/]+)/members/([^/]+)": (_call, match) => {
      if (match[2] === me.id) groups = groups.filter((group) => group.id !== match[1]);
      return noContent();
    },
  });
}

beforeAll(polyfillDialog);
afterEach(() => vi.unstubAllGlobals());

function renderSignedIn() {
  tokenStore.setTokens({ access_token: "access", refresh_token: "refresh" });
  return renderWithQueries(
    <AuthProvider>
      <GroupsView />
    </AuthProvider>,
  );
}

describe("GroupsView", () => {
  it("creates a group and adds a member by email; only the owner manages members", async () => {
    const user = userEvent.setup();
    const api = serveGroups();
    renderSignedIn();
    await screen.findByRole("heading", { name: "Crew" });
    const harbour = screen.getAllByTestId("group-row").find((row) => row.textContent?.includes("Harbour"))!;
    expect(harbour).toHaveTextContent("owned by Ann Archer");
    await user.click(within(harbour).getByRole("button", { name: /^Members/ }));
    expect(await within(harbour).findAllByTestId("group-member")).toHaveLength(2);
    expect(within(harbour).queryByLabelText("Add a member by email")).toBeNull();

    await user.type(screen.getByLabelText("New group"), "Lighthouse");
    await user.click(screen.getByRole("button", { name: "Create group" }));
    const lighthouse = await vi.waitFor(() => screen.getAllByTestId("group-row").find((row) => row.textContent?.includes("Lighthouse"))!);
    await user.click(within(lighthouse).getByRole("button", { name: /^Members/ }));
    await user.type(await within(lighthouse).findByLabelText("Add a member by email"), "bob@example.com");
    await user.click(within(lighthouse).getByRole("button", { name: "Add" }));
    await vi.waitFor(() => expect(within(lighthouse).getAllByTestId("group-member")).toHaveLength(2));
    expect(api.writes().map(({ method, path, body }) => [method, path, body])).toEqual([
      ["POST", "/api/v1/groups", { name: "Lighthouse" }],
      ["PUT", "/api/v1/groups/g-new/members", { email: "bob@example.com" }],
    ]);
  });

  it("leaves a group after confirming, by removing the user's own membership", async () => {
    const user = userEvent.setup();
    const api = serveGroups();
    renderSignedIn();
    await screen.findByRole("heading", { name: "Harbour" });
    await user.click(screen.getByRole("button", { name: /^Leave ?Harbour$/ }));
    const dialog = screen.getByRole("dialog", { name: "Leave this group?" });
    expect(dialog).toHaveTextContent("You lose access to everything shared with Harbour at once.");
    await user.click(within(dialog).getByRole("button", { name: "Leave" }));
    await vi.waitFor(() => expect(screen.queryByRole("heading", { name: "Harbour" })).toBeNull());
    expect(api.writes()).toEqual([expect.objectContaining({ method: "DELETE", path: "/api/v1/groups/g-harbour/members/u-me" })]);
  });
});
