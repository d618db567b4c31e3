import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { CollectionOut, MemberOut } from "@/lib/api/teams-contract";
import { apiError, fakeApi, json, noContent, polyfillDialog, renderWithQueries } from "@/test/fake-api";
import { ShareDialog } from "./share-dialog";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const ann = { id: "u-ann", email: "ann@example.com", full_name: "Ann Archer" };
const collection: CollectionOut = {
  id: "c1",
  name: "Contracts",
  description: "",
  owner: { id: "u-me", email: "me@example.com", full_name: "Me" },
  my_role: "owner",
  document_count: 2,
  created_at: "2026-11-30T10:00:00Z",
  updated_at: "2026-11-30T10:00:00Z",
};

/** A collection's members as the API keeps them: PUT upserts by person or group, DELETE removes. */
function membersApi(initial: MemberOut[]) {
  let members = [...initial];
  let next = 1;
  return fakeApi({
    "GET /api/v1/collections/c1/members": () => json(members),
    "GET /api/v1/groups": () =>
      json([{ id: "g1", name: "Legal", owner: ann, my_role: "owner", member_count: 3, created_at: "2026-11-30T10:00:00Z" }]),
    "PUT /api/v1/collections/c1/members": ({ body }) => {
      const put = body as { email?: string; group_id?: string; role: "viewer" | "editor" };
      if (put.email === "nobody@example.com") return apiError(404, "not_found", "No account uses nobody@example.com.");
      const existing = members.find((member) => (put.email ? member.user?.email === put.email : member.group?.id === put.group_id));
      const member: MemberOut = existing
        ? { ...existing, role: put.role }
        : put.email
          ? { id: `m${(next += 1)}`, kind: "user", user: { id: `u${next}`, email: put.email, full_name: "" }, group: null, role: put.role }
          : { id: `m${(next += 1)}`, kind: "group", user: null, group: { id: put.group_id ?? "", name: "Legal" }, role: put.role };
      members = existing ? members.map((item) => (item.id === member.id ? member : item)) : [...members, member];
      return json(member);
    },
    "DELETE /api/v1/collections/c1/members/([^/]+)": (_call, match) => {
      members = members.filter((member) => member.id !== match[1]);
      return noContent();
    },
  });
}

beforeAll(polyfillDialog);
afterEach(() => vi.unstubAllGlobals());

const annAsViewer: MemberOut = { id: "m1", kind: "user", user: ann, group: null, role: "viewer" };

describe("ShareDialog", () => {
  it("shares with a person by email as an editor, and lists them", async () => {
    const user = userEvent.setup();
    const api = membersApi([annAsViewer]);
    renderWithQueries(<ShareDialog collection={collection} open onClose={() => {}} />);

    expect(screen.getByRole("dialog")).toHaveAccessibleName("Share “Contracts”");
    const members = await screen.findByRole("list", { name: "Members" });
    expect(within(members).getByText("Ann Archer", { selector: "p" })).toBeInTheDocument();

    await user.type(screen.getByLabelText("Their email"), "bob@example.com");
    await user.selectOptions(screen.getByLabelText("Role"), "editor");
    await user.click(screen.getByRole("button", { name: "Share" }));

    expect(await screen.findByText("Shared with bob@example.com.")).toBeInTheDocument();
    expect(api.writes()).toEqual([
      expect.objectContaining({ method: "PUT", path: "/api/v1/collections/c1/members", body: { email: "bob@example.com", role: "editor" } }),
    ]);
    const bob = await within(members).findByText("bob@example.com", { selector: "p" });
    expect(within(bob.closest("li")!).getByLabelText("Role of bob@example.com")).toHaveValue("editor");
  });

  it("shares with a group, changes a member's role and removes a member", async () => {
    const user = userEvent.setup();
    const api = membersApi([annAsViewer]);
    renderWithQueries(<ShareDialog collection={collection} open onClose={() => {}} />);
    await screen.findByText("Ann Archer", { selector: "p" });

    await user.click(screen.getByLabelText("A group"));
    await user.selectOptions(await screen.findByLabelText("Group"), "g1");
    await user.click(screen.getByRole("button", { name: "Share" }));
    expect(await screen.findByText("Legal (group)", { selector: "p" })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText("Role of Ann Archer"), "editor");
    await vi.waitFor(() => expect(screen.getByLabelText("Role of Ann Archer")).toHaveValue("editor"));

    // jsdom drops the space before the visually hidden part of the name (Chromium keeps it).
    await user.click(screen.getByRole("button", { name: /^Remove ?Ann Archer$/ }));
    await vi.waitFor(() => expect(screen.queryByText("Ann Archer", { selector: "p" })).toBeNull());
    expect(screen.getByText("Ann Archer no longer has access.")).toBeInTheDocument();

    expect(api.writes().map(({ method, path, body }) => [method, path, body])).toEqual([
      ["PUT", "/api/v1/collections/c1/members", { group_id: "g1", role: "viewer" }],
      ["PUT", "/api/v1/collections/c1/members", { email: "ann@example.com", role: "editor" }],
      ["DELETE", "/api/v1/collections/c1/members/m1", undefined],
    ]);
  });

  it("says why a share was refused and keeps what was typed", async () => {
    const user = userEvent.setup();
    membersApi([]);
    renderWithQueries(<ShareDialog collection={collection} open onClose={() => {}} />);
    expect(await screen.findByTestId("no-members")).toHaveTextContent("Only you.");

    await user.type(screen.getByLabelText("Their email"), "nobody@example.com");
    await user.click(screen.getByRole("button", { name: "Share" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("No account uses nobody@example.com.");
    expect(screen.getByLabelText("Their email")).toHaveValue("nobody@example.com");
  });
});
