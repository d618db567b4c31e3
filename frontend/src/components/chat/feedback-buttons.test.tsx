import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { fakeApi, json, noContent, renderWithQueries } from "@/test/fake-api";
import { FeedbackButtons } from "./feedback-buttons";
import type { DocChatMessage } from "@/lib/chat/messages";

// Under a loaded machine (CI shares two cores) a round trip through the fake API can take a while.
const SLOW = { timeout: 5000 };

vi.hoisted(() => {
  process.env.NEXT_PUBLIC_API_URL = "http://api.test";
});

const answer: DocChatMessage = { id: "m-2", role: "assistant", parts: [{ type: "text", text: "At dawn [1]." }] };
const question: DocChatMessage = { id: "m-1", role: "user", parts: [{ type: "text", text: "When?" }] };
const PATH = "/api/v1/chats/chat-1/messages/m-2/feedback";

function serveFeedback() {
  return fakeApi({
    [`PUT ${PATH}`]: (call) => json({ ...(call.body as object), updated_at: "2026-11-30T12:00:00Z" }),
    [`DELETE ${PATH}`]: () => noContent(),
  });
}

afterEach(() => vi.unstubAllGlobals());

describe("FeedbackButtons", () => {
  it("rates an answer down with a comment, then clears the rating", async () => {
    const api = serveFeedback();
    const user = userEvent.setup();
    renderWithQueries(<FeedbackButtons message={answer} chatId="chat-1" />);
    const bad = screen.getByRole("button", { name: "Bad answer" });
    expect(bad).toHaveAttribute("aria-pressed", "false");

    await user.click(bad);
    await waitFor(() => expect(bad).toHaveAttribute("aria-pressed", "true"), SLOW);
    expect(api.writes()[0]).toMatchObject({ method: "PUT", path: PATH, body: { rating: -1, comment: null } });
    expect(screen.getByRole("status")).toHaveTextContent("Thanks for your feedback.");

    await user.type(screen.getByLabelText("What was wrong with it? (optional)"), "It missed the year.");
    await user.click(screen.getByRole("button", { name: "Send comment" }));
    await waitFor(() => expect(api.writes()).toHaveLength(2), SLOW);
    expect(api.writes()[1]?.body).toEqual({ rating: -1, comment: "It missed the year." });
    expect(screen.queryByLabelText("What was wrong with it? (optional)")).toBeNull();

    await user.click(bad);
    await waitFor(() => expect(api.writes().at(-1)).toMatchObject({ method: "DELETE", path: PATH }), SLOW);
    await waitFor(() => expect(bad).toHaveAttribute("aria-pressed", "false"), SLOW);
    expect(screen.getByRole("status")).toHaveTextContent("Rating removed.");
  });

  it("shows the stored rating of an answer loaded with the chat", () => {
    serveFeedback();
    const { queryClient, unmount } = renderWithQueries(<p />);
    unmount();
    queryClient.setQueryData(["chat", "chat-1"], {
      id: "chat-1",
      messages: [{ id: "m-2", role: "assistant", feedback: { rating: 1, comment: "Spot on", updated_at: "2026-11-30T12:00:00Z" } }],
    });
    renderWithQueriesUsing(queryClient);
    expect(screen.getByRole("button", { name: "Good answer" })).toHaveAttribute("aria-pressed", "true");
  });

  it("is not offered on questions", () => {
    serveFeedback();
    renderWithQueries(<FeedbackButtons message={question} chatId="chat-1" />);
    expect(screen.queryByRole("button", { name: "Good answer" })).toBeNull();
  });
});

function renderWithQueriesUsing(queryClient: QueryClient) {
  return render(
    <QueryClientProvider client={queryClient}>
      <FeedbackButtons message={answer} chatId="chat-1" />
    </QueryClientProvider>,
  );
}
