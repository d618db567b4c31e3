import { QueryClientProvider } from "@tanstack/react-query";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ALL_DOCUMENTS, type ChatScope } from "@/lib/chat/scope";
import { fakeApi, json, renderWithQueries, type ApiCall } from "@/test/fake-api";
import { ChatStart } from "./chat-start";

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const SLOW = { timeout: 5000 };
const HARBOUR = ["What is “Quillomere harbour guide” about?", "What does the document say about Ferries?"];

/** The suggestions API: questions for the scope it is asked about, none for an empty collection. */
function serveSuggestions() {
  return fakeApi({
    "GET /api/v1/suggested-questions": (call: ApiCall) =>
      call.query.get("collection_id") === "empty"
        ? json({ questions: [], document_ids: [] })
        : json({ questions: HARBOUR, document_ids: ["d1"] }),
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("ChatStart", () => {
  it.each<[string, ChatScope, Record<string, string>]>([
    ["everything", ALL_DOCUMENTS, {}],
    ["a collection", { kind: "collection", collectionId: "c1" }, { collection_id: "c1" }],
    ["chosen documents", { kind: "documents", documentIds: ["d1", "d2"] }, { document_ids: "d1,d2" }],
  ])("offers the questions made for %s; one select asks it", async (_name, scope, query) => {
    const api = serveSuggestions();
    const onAsk = vi.fn();
    const user = userEvent.setup();
    renderWithQueries(<ChatStart scope={scope} onAsk={onAsk} headingLevel={2} />);
    const list = await screen.findByRole("region", { name: "Try asking" }, SLOW);
    expect(within(list).getAllByRole("button").map((button) => button.textContent)).toEqual(HARBOUR);
    expect(screen.getByRole("heading", { level: 2, name: "What would you like to know?" })).toBeVisible();
    expect(Object.fromEntries(api.calls[0]!.query)).toEqual(query);
    await user.click(screen.getByRole("button", { name: "What does the document say about Ferries?" }));
    expect(onAsk).toHaveBeenCalledWith("What does the document say about Ferries?");
    expect(screen.queryByRole("link")).toBeNull();
  });

  it("points to the library when nothing in the scope is ready", async () => {
    serveSuggestions();
    renderWithQueries(<ChatStart scope={{ kind: "collection", collectionId: "empty" }} onAsk={vi.fn()} />);
    const link = await screen.findByRole("link", { name: "Add some from the library" }, SLOW);
    expect(link.getAttribute("href")).toMatch(/^\/library\/?$/);
    expect(screen.getByText(/This collection has no ready documents yet/)).toBeVisible();
    expect(screen.queryByRole("region", { name: "Try asking" })).toBeNull();
  });

  it("tells someone without ready documents to upload some", async () => {
    fakeApi({ "GET /api/v1/suggested-questions": () => json({ questions: [], document_ids: [] }) });
    renderWithQueries(<ChatStart scope={ALL_DOCUMENTS} onAsk={vi.fn()} />);
    const link = await screen.findByRole("link", { name: "Upload some in the library" }, SLOW);
    expect(link.getAttribute("href")).toMatch(/^\/library\/?$/);
    expect(screen.getByRole("heading", { level: 1, name: "What would you like to know?" })).toBeVisible();
  });

  it("asks again each time it shows: a document became ready since the last empty chat", async () => {
    let ready = false;
    fakeApi({
      "GET /api/v1/suggested-questions": () => json(ready ? { questions: HARBOUR, document_ids: ["d1"] } : { questions: [], document_ids: [] }),
    });
    const start = <ChatStart scope={ALL_DOCUMENTS} onAsk={vi.fn()} />;
    const { queryClient, rerender } = renderWithQueries(start);
    await screen.findByRole("link", { name: "Upload some in the library" }, SLOW);
    rerender(<QueryClientProvider client={queryClient}>elsewhere</QueryClientProvider>);
    ready = true;
    rerender(<QueryClientProvider client={queryClient}>{start}</QueryClientProvider>);
    await screen.findByRole("region", { name: "Try asking" }, SLOW);
    expect(screen.queryByRole("link", { name: "Upload some in the library" })).toBeNull();
  });

  it("disables the questions while a question is on its way", async () => {
    serveSuggestions();
    renderWithQueries(<ChatStart scope={ALL_DOCUMENTS} onAsk={vi.fn()} disabled />);
    const questions = await screen.findAllByTestId("suggested-question", undefined, SLOW);
    for (const question of questions) expect(question).toBeDisabled();
  });
});
