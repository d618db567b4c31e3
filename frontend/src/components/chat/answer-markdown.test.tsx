import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Citation } from "@/lib/api";
import { AnswerMarkdown } from "./answer-markdown";

function citation(n: number, overrides: Partial<Citation> = {}): Citation {
  return {
    n,
    chunk_id: 100 + n,
    document_id: `doc-${n}`,
    filename: `file-${n}.pdf`,
    content_type: "application/pdf",
    page_start: n,
    page_end: n,
    snippet: `passage ${n}`,
    char_start: 0,
    char_end: 10,
    score: 0.5,
    source_deleted: false,
    ...overrides,
  };
}

describe("AnswerMarkdown citations", () => {
  it("renders known [n] markers as buttons that open their source", () => {
    const onCite = vi.fn();
    render(<AnswerMarkdown text="Here's to the crazy ones [1]. The misfits [2]." sources={[citation(1), citation(2)]} onCite={onCite} />);

    const first = screen.getByRole("button", { name: "Source 1: file-1.pdf, page 1" });
    const second = screen.getByRole("button", { name: "Source 2: file-2.pdf, page 2" });
    expect(first).toHaveTextContent("1");
    fireEvent.click(second);
    expect(onCite).toHaveBeenCalledWith(expect.objectContaining({ n: 2, filename: "file-2.pdf" }));
    expect(screen.getByText(/Here's to the crazy ones/)).toBeInTheDocument();
  });

  it("keeps the marker of a deleted source, saying so", () => {
    const onCite = vi.fn();
    render(
      <AnswerMarkdown text="The crazy ones [1]." sources={[citation(1, { filename: "", snippet: "", source_deleted: true })]} onCite={onCite} />,
    );
    const marker = screen.getByRole("button", { name: "Source 1: source deleted" });
    expect(marker).toHaveAttribute("title", "Source deleted");
    fireEvent.click(marker);
    expect(onCite).toHaveBeenCalledWith(expect.objectContaining({ source_deleted: true }));
  });

  it("handles adjacent markers and markers inside lists and emphasis", () => {
    render(<AnswerMarkdown text={"- first **point [1][2]**\n- second [2]"} sources={[citation(1), citation(2)]} onCite={() => {}} />);
    expect(screen.getAllByRole("button", { name: /Source 1/ })).toHaveLength(1);
    expect(screen.getAllByRole("button", { name: /Source 2/ })).toHaveLength(2);
  });

  it("leaves markers without a source, and markers inside code, as plain text", () => {
    const { container } = render(
      <AnswerMarkdown text={"Unknown [7] here, and `array[1]` in code."} sources={[citation(1)]} onCite={() => {}} />,
    );
    expect(screen.queryByRole("button")).toBeNull();
    expect(container.textContent).toContain("Unknown [7] here");
    expect(container.querySelector("code")?.textContent).toBe("array[1]");
  });

  it("shows a page range for a passage spanning pages", () => {
    render(<AnswerMarkdown text="See [3]." sources={[citation(3, { page_start: 3, page_end: 4 })]} onCite={() => {}} />);
    expect(screen.getByRole("button", { name: "Source 3: file-3.pdf, pages 3–4" })).toBeInTheDocument();
  });
});

describe("AnswerMarkdown sanitisation", () => {
  it("never turns a <script> in an answer into a live element", () => {
    const flagged = vi.fn();
    (window as unknown as { pwned: () => void }).pwned = flagged;
    const { container } = render(
      <AnswerMarkdown
        text={'Before <script>window.pwned()</script> after <img src=x onerror="window.pwned()"> <b onclick="window.pwned()">bold</b>'}
        sources={[]}
        onCite={() => {}}
      />,
    );
    expect(container.querySelector("script")).toBeNull();
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("[onclick]")).toBeNull();
    expect(container.querySelector("[onerror]")).toBeNull();
    expect(container.innerHTML).not.toMatch(/<script/i);
    expect(flagged).not.toHaveBeenCalled();
  });

  it("does not keep javascript: URLs in links", () => {
    const { container } = render(
      <AnswerMarkdown
        text={"[click me](javascript:alert(1)) and [data](data:text/html,<script>alert(1)</script>) and [ok](https://example.com/a)"}
        sources={[]}
        onCite={() => {}}
      />,
    );
    const hrefs = [...container.querySelectorAll("a")].map((a) => a.getAttribute("href") ?? "");
    expect(hrefs.some((href) => /^\s*javascript:/i.test(href))).toBe(false);
    expect(hrefs.some((href) => /^\s*data:/i.test(href))).toBe(false);
    const safe = screen.getByRole("link", { name: "ok" });
    expect(safe).toHaveAttribute("href", "https://example.com/a");
    expect(safe).toHaveAttribute("rel", expect.stringContaining("noopener"));
    expect(safe).toHaveAttribute("target", "_blank");
  });

  it("does not let answer text create citation buttons of its own", () => {
    const onCite = vi.fn();
    const { container } = render(
      <AnswerMarkdown text={'<button data-citation="1" onclick="alert(1)">fake</button> real [1]'} sources={[citation(1)]} onCite={onCite} />,
    );
    const buttons = container.querySelectorAll("button");
    expect(buttons).toHaveLength(1);
    expect(buttons[0]).toHaveAccessibleName("Source 1: file-1.pdf, page 1");
  });

  it("renders GitHub-flavoured markdown (tables, lists)", () => {
    const { container } = render(
      <AnswerMarkdown text={"| a | b |\n|---|---|\n| 1 | 2 |\n\n1. one\n2. two"} sources={[]} onCite={() => {}} />,
    );
    expect(container.querySelector("table")).not.toBeNull();
    expect(container.querySelectorAll("ol li")).toHaveLength(2);
  });
});

describe("AnswerMarkdown lines that start with +", () => {
  it("draws no empty bullets for a line that is only + (or + +), keeping the rest", () => {
    const { container } = render(
      <AnswerMarkdown text={"Growth this year [1].\n\n+ +\n\n+\n\nCosts fell [2]."} sources={[citation(1), citation(2)]} onCite={() => {}} />,
    );
    expect(container.querySelectorAll("li")).toHaveLength(0);
    expect(container.querySelectorAll("ul")).toHaveLength(0);
    expect([...container.querySelectorAll("p")].map((paragraph) => paragraph.textContent)).toEqual(["Growth this year 1.", "Costs fell 2."]);
  });

  it("keeps bullets that have text, and an escaped + as text", () => {
    const { container } = render(
      <AnswerMarkdown text={"+ North grew [1].\n+ +\n\n\\+ 20 % more [2]."} sources={[citation(1), citation(2)]} onCite={() => {}} />,
    );
    expect([...container.querySelectorAll("li")].map((item) => item.textContent)).toEqual(["North grew 1."]);
    expect(container.querySelector("p")?.textContent).toBe("+ 20 % more 2.");
  });
});

describe("AnswerMarkdown citation groups", () => {
  it("renders a group [1, 2] as one button per source", () => {
    const onCite = vi.fn();
    render(<AnswerMarkdown text="Both say so [1, 2]." sources={[citation(1), citation(2)]} onCite={onCite} />);
    fireEvent.click(screen.getByRole("button", { name: "Source 2: file-2.pdf, page 2" }));
    expect(onCite).toHaveBeenCalledWith(expect.objectContaining({ n: 2 }));
    expect(screen.getAllByRole("button")).toHaveLength(2);
  });
});


describe("AnswerMarkdown focus", () => {
  it("keeps a focused marker (the same element) while the answer grows and re-renders", () => {
    const onCite = vi.fn();
    const { rerender } = render(<AnswerMarkdown text="The crazy ones [1]." sources={[citation(1)]} onCite={onCite} />);
    const marker = screen.getByRole("button", { name: /Source 1/ });
    marker.focus();
    rerender(<AnswerMarkdown text="The crazy ones [1]. The misfits" sources={[citation(1)]} onCite={onCite} />);
    expect(screen.getByRole("button", { name: /Source 1/ })).toBe(marker);
    expect(marker).toHaveFocus();
  });
});
