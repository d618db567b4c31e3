import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { StoredMessage } from "@/lib/api";
import { toChatMessage } from "@/lib/chat/messages";
import { MessageBubble } from "./message-bubble";

const citation = {
  n: 1,
  chunk_id: 1,
  document_id: "d",
  filename: "crazyones.pdf",
  content_type: "application/pdf",
  page: 1,
  page_start: 1,
  page_end: 1,
  snippet: "Here's to the crazy ones",
  char_start: 0,
  char_end: 20,
  score: 1,
  source_deleted: false,
};

function stored(overrides: Partial<StoredMessage>): StoredMessage {
  return {
    id: "a2",
    role: "assistant",
    content: "The crazy ones [1].",
    status: "done",
    partial: false,
    extractive: false,
    citations: [citation],
    version: 2,
    version_count: 3,
    version_ids: ["a1", "a2", "a3"],
    created_at: "",
    ...overrides,
  };
}

function renderBubble(message: StoredMessage, handlers: Partial<Parameters<typeof MessageBubble>[0]> = {}) {
  return render(
    <ol>
      <MessageBubble message={toChatMessage(message)} streaming={false} onCite={vi.fn()} {...handlers} />
    </ol>,
  );
}

describe("MessageBubble", () => {
  it("moves between the versions of an answer and regenerates it", async () => {
    const user = userEvent.setup();
    const onSelectVersion = vi.fn();
    const onRegenerate = vi.fn();
    renderBubble(stored({}), { onSelectVersion, onRegenerate });
    expect(screen.getByLabelText("Version 2 of 3")).toHaveTextContent("2/3");
    await user.click(screen.getByRole("button", { name: "Previous version" }));
    await user.click(screen.getByRole("button", { name: "Next version" }));
    expect(onSelectVersion.mock.calls).toEqual([["a1"], ["a3"]]);
    await user.click(screen.getByRole("button", { name: "Regenerate" }));
    expect(onRegenerate).toHaveBeenCalledOnce();
  });

  it("has no version buttons for a single version, and none to go past the ends", () => {
    const { unmount } = renderBubble(stored({ version: 1, version_count: 1, version_ids: ["a2"] }), { onSelectVersion: vi.fn() });
    expect(screen.queryByRole("button", { name: "Previous version" })).toBeNull();
    unmount();
    renderBubble(stored({ version: 3, version_ids: ["a1", "a0", "a2"] }), { onSelectVersion: vi.fn() });
    expect(screen.getByRole("button", { name: "Next version" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Previous version" })).toBeEnabled();
  });

  it("shows why an answer failed and offers to retry it", async () => {
    const user = userEvent.setup();
    const onRegenerate = vi.fn();
    renderBubble(stored({ status: "failed", error: "The server stopped while writing this answer.", partial: true }), { onRegenerate });
    const failed = screen.getByTestId("answer-failed");
    expect(failed).toHaveTextContent("The server stopped while writing this answer.");
    await user.click(within(failed).getByRole("button", { name: "Retry" }));
    expect(onRegenerate).toHaveBeenCalledOnce();
    expect(screen.queryByText("Incomplete answer")).toBeNull();
  });

  it("says an answer is still being written when the server writes it for a reloaded page", () => {
    renderBubble(stored({ status: "streaming", content: "The crazy" }), { onRegenerate: vi.fn() });
    expect(screen.getByTestId("still-writing")).toHaveTextContent("Still being written…");
    expect(screen.getByTestId("assistant-message")).toHaveAttribute("data-complete", "false");
    expect(screen.queryByRole("button", { name: "Regenerate" })).toBeNull();
  });

  it("copies the answer with its sources", async () => {
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText");
    renderBubble(stored({}));
    await user.click(screen.getByRole("button", { name: "Copy answer" }));
    expect(writeText).toHaveBeenCalledWith("The crazy ones [1].\n\nSources:\n[1] crazyones.pdf, page 1");
    expect(await screen.findByText("Copied with its sources")).toBeInTheDocument();
  });

  it("edits a question and sends it again", async () => {
    const user = userEvent.setup();
    const onEdit = vi.fn();
    renderBubble(stored({ id: "q", role: "user", content: "Who?", citations: [], version: 1, version_count: 1, version_ids: ["q"] }), { onEdit });
    await user.click(screen.getByRole("button", { name: "Edit question" }));
    const box = screen.getByLabelText("Edit your question");
    await user.clear(box);
    await user.type(box, "Who are the crazy ones?{Enter}");
    expect(onEdit).toHaveBeenCalledWith("Who are the crazy ones?");
    expect(screen.queryByLabelText("Edit your question")).toBeNull();
  });

  it("gives the focus to Regenerate of the version that replaced the one regenerated, once it is written", () => {
    const message = toChatMessage(stored({ id: "a3", version: 3 }));
    const { rerender } = render(
      <ol>
        <MessageBubble message={message} streaming busy onCite={vi.fn()} onRegenerate={vi.fn()} focusRegenerate />
      </ol>,
    );
    expect(document.body).toHaveFocus();
    rerender(
      <ol>
        <MessageBubble message={message} streaming={false} onCite={vi.fn()} onRegenerate={vi.fn()} focusRegenerate />
      </ol>,
    );
    expect(screen.getByRole("button", { name: "Regenerate" })).toHaveFocus();
  });
});

