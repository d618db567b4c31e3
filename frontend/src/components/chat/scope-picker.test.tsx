import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ALL_DOCUMENTS, type ChatScope } from "@/lib/chat/scope";
import { fakeApi, json, renderWithQueries } from "@/test/fake-api";
import { ScopePicker } from "./scope-picker";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const person = { id: "u2", email: "ann@example.com", full_name: "Ann Archer" };
const doc = (id: string, filename: string, extra: object = {}) => ({
  id,
  filename,
  status: "ready",
  owner: { id: "u1", email: "me@example.com", full_name: "Me" },
  my_role: "owner",
  ...extra,
});

function serveLibrary() {
  return fakeApi({
    "GET /api/v1/documents": () =>
      json([doc("d1", "mine.pdf"), doc("d2", "theirs.pdf", { owner: person, my_role: "viewer" }), doc("d3", "busy.pdf", { status: "processing" })]),
    "GET /api/v1/collections": () =>
      json([
        { id: "c1", name: "Contracts", my_role: "owner", document_count: 1 },
        { id: "c2", name: "Team wiki", my_role: "viewer", document_count: 4 },
      ]),
  });
}

function Picker({ initial, onChange }: { initial: ChatScope; onChange: (scope: ChatScope) => void }) {
  const [scope, setScope] = useState(initial);
  return (
    <ScopePicker
      scope={scope}
      onChange={(next) => {
        setScope(next);
        onChange(next);
      }}
    />
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("ScopePicker", () => {
  it("scopes to a collection, then to chosen ready documents, and names the choice on its button", async () => {
    const user = userEvent.setup();
    serveLibrary();
    const onChange = vi.fn();
    renderWithQueries(<Picker initial={ALL_DOCUMENTS} onChange={onChange} />);
    const button = screen.getByRole("button", { name: /Search in:/ });
    expect(button).toHaveTextContent("Search in: All documents");

    await user.click(button);
    const collectionChoice = screen.getByRole("radio", { name: /A collection/ });
    await vi.waitFor(() => expect(collectionChoice).toBeEnabled());
    await user.click(collectionChoice);
    expect(onChange).toHaveBeenLastCalledWith({ kind: "collection", collectionId: "c1" });
    await user.selectOptions(screen.getByLabelText("Collection"), "c2");
    expect(onChange).toHaveBeenLastCalledWith({ kind: "collection", collectionId: "c2" });
    expect(button).toHaveTextContent("Search in: Team wiki");

    await user.click(screen.getByRole("radio", { name: "Chosen documents" }));
    // Ready documents only, shared ones marked with their owner.
    expect(screen.getAllByRole("checkbox").map((box) => box.closest("label")?.textContent)).toEqual([
      "mine.pdf",
      "theirs.pdfShared by Ann ArcherViewer",
    ]);
    await user.click(screen.getByRole("checkbox", { name: /theirs\.pdf/ }));
    expect(onChange).toHaveBeenLastCalledWith({ kind: "documents", documentIds: ["d2"] });
    expect(button).toHaveTextContent("Search in: 1 document");

    await user.click(screen.getByRole("radio", { name: "All documents I can read" }));
    expect(onChange).toHaveBeenLastCalledWith(ALL_DOCUMENTS);
  });

  it("shows a remembered collection the user lost access to, without pretending it is another one", async () => {
    const user = userEvent.setup();
    serveLibrary();
    renderWithQueries(<Picker initial={{ kind: "collection", collectionId: "revoked" }} onChange={() => {}} />);
    await user.click(screen.getByRole("button", { name: /Search in:/ }));
    const select = screen.getByLabelText("Collection");
    await vi.waitFor(() => expect(select.querySelectorAll("option")).toHaveLength(3));
    expect(select).toHaveValue("revoked");
    expect(select).toHaveDisplayValue("A collection no longer available");
  });

  it("closes on Escape, returning the focus to its button, without the Escape reaching the page", async () => {
    const user = userEvent.setup();
    serveLibrary();
    const pageEscape = vi.fn();
    const onPageKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") pageEscape();
    };
    document.addEventListener("keydown", onPageKey);
    try {
      renderWithQueries(<Picker initial={ALL_DOCUMENTS} onChange={() => {}} />);
      const button = screen.getByRole("button", { name: /Search in:/ });
      await user.click(button);
      await user.click(screen.getByRole("radio", { name: "Chosen documents" }));
      expect(screen.getByRole("radio", { name: "Chosen documents" })).toHaveFocus();

      await user.keyboard("{Escape}");
      expect(screen.queryByRole("group", { name: "What this chat searches" })).toBeNull();
      expect(button).toHaveAttribute("aria-expanded", "false");
      expect(button).toHaveFocus();
      expect(pageEscape).not.toHaveBeenCalled();
    } finally {
      document.removeEventListener("keydown", onPageKey);
    }
  });
});
