import { describe, expect, it } from "vitest";
import type { Citation } from "@/lib/api";
import { answerWithSources, citedSources, readMessage, toChatMessages, type DocChatMessage } from "./messages";

const source = (n: number): Citation => ({
  n,
  chunk_id: n,
  document_id: "d",
  filename: "crazyones.pdf",
  content_type: "application/pdf",
  page_start: 1,
  page_end: 1,
  snippet: "Here's to the crazy ones",
  char_start: 0,
  char_end: 20,
  score: 1,
  source_deleted: false,
});

describe("chat messages", () => {
  it("reads a streaming answer: sources first, text, then final citations", () => {
    const streaming: DocChatMessage = {
      id: "m1",
      role: "assistant",
      parts: [
        { type: "data-sources", data: { sources: [source(1), source(2)], search_query: "Who are they? And why?" } },
        { type: "text", text: "They see things differently [1]." },
      ],
    };
    const view = readMessage(streaming);
    expect(view).toMatchObject({
      text: "They see things differently [1].",
      complete: false,
      extractive: false,
      searchQuery: "Who are they? And why?",
    });
    expect(view.sources.map((s) => s.n)).toEqual([1, 2]);
    expect(citedSources(view).map((s) => s.n)).toEqual([1]);

    const done = readMessage({
      ...streaming,
      parts: [...streaming.parts, { type: "data-citations", data: { citations: [source(1)], extractive: true, partial: false } }],
    });
    expect(done).toMatchObject({ complete: true, extractive: true });
  });

  it("converts stored messages with their citations", () => {
    const [question, answer] = toChatMessages([
      { id: "u", role: "user", content: "Who?", status: "done", partial: false, extractive: false, citations: [], version: 1, version_count: 1, created_at: "" },
      {
        id: "a",
        role: "assistant",
        content: "The crazy ones [1].",
        status: "failed",
        error: "The answer was interrupted: the model timed out.",
        partial: true,
        extractive: false,
        search_query: "Who wrote it? Who?",
        citations: [source(1)],
        version: 2,
        version_count: 2,
        version_ids: ["a0", "a"],
        created_at: "",
      },
    ]);
    expect(readMessage(question!).text).toBe("Who?");
    expect(readMessage(answer!)).toMatchObject({
      text: "The crazy ones [1].",
      partial: true,
      complete: true,
      searchQuery: "Who wrote it? Who?",
    });
    expect(readMessage(answer!).sources).toHaveLength(1);
    expect(readMessage(answer!)).toMatchObject({ status: "failed", error: "The answer was interrupted: the model timed out." });
    expect(answer!.metadata).toEqual({ status: "failed", error: "The answer was interrupted: the model timed out.", version: 2, versionIds: ["a0", "a"] });
  });

  it("copies an answer with the sources it cites, numbered as in the text", () => {
    const deleted = { ...source(3), source_deleted: true };
    const view = readMessage({
      id: "a",
      role: "assistant",
      parts: [
        { type: "text", text: "They push the human race forward [1][3]." },
        { type: "data-citations", data: { citations: [{ ...source(1), page: 2, page_end: 3 }, source(2), deleted], extractive: false, partial: false } },
      ],
    });
    expect(answerWithSources(view)).toBe(
      "They push the human race forward [1][3].\n\nSources:\n[1] crazyones.pdf, page 2\n[3] (source deleted)",
    );
    expect(answerWithSources({ ...view, text: "No markers." })).toBe("No markers.");
  });

  it("lists the sources of a group marker [1, 2] under the answer, numbered as shown", () => {
    const view = readMessage({
      id: "m2",
      role: "assistant",
      parts: [
        { type: "text", text: "Both say so [1, 2]. One more [3]." },
        { type: "data-citations", data: { citations: [source(1), source(2), source(3)], extractive: false, partial: false } },
      ],
    });
    expect(citedSources(view).map((s) => s.n)).toEqual([1, 2, 3]);
  });
});
