import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useRef, useState } from "react";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/api";
import { polyfillDialog } from "@/test/fake-api";
import { ConfirmDialog } from "./confirm-dialog";

beforeAll(polyfillDialog);

/** A page with one item to delete behind the dialog. */
function DeletePage({ onConfirm }: { onConfirm: (name: string) => Promise<unknown> }) {
  const [pending, setPending] = useState<string | null>(null);
  return (
    <>
      <button type="button" onClick={() => setPending("report.pdf")}>
        Delete report.pdf
      </button>
      <ConfirmDialog subject={pending} title="Delete this document?" confirmLabel="Delete" onConfirm={onConfirm} onClose={() => setPending(null)}>
        {(name) => <p>{name} will be removed.</p>}
      </ConfirmDialog>
    </>
  );
}

/** The opener goes away with what it deleted: the focus moves to the list's heading. */
function ListPage() {
  const [items, setItems] = useState(["a.pdf"]);
  const [pending, setPending] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <>
      <h2 ref={heading} tabIndex={-1}>
        Your documents
      </h2>
      {items.map((item) => (
        <button key={item} type="button" onClick={() => setPending(item)}>
          Delete {item}
        </button>
      ))}
      <ConfirmDialog
        subject={pending}
        title="Delete this document?"
        confirmLabel="Delete"
        onConfirm={async (name) => setItems((current) => current.filter((item) => item !== name))}
        onClose={() => setPending(null)}
        fallbackFocus={heading}
      >
        {(name) => <p>{name} will be removed.</p>}
      </ConfirmDialog>
    </>
  );
}

const dialog = () => screen.getByRole("dialog", { hidden: true });
const button = (name: string) => screen.getByRole("button", { name });

describe("ConfirmDialog", () => {
  it("names its subject, waits for the action, then closes", async () => {
    const user = userEvent.setup();
    let finish: () => void = () => {};
    const onConfirm = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    render(<DeletePage onConfirm={onConfirm} />);
    expect(dialog()).toBeEmptyDOMElement();

    await user.click(screen.getByRole("button", { name: "Delete report.pdf" }));
    expect(screen.getByRole("dialog")).toHaveAccessibleName("Delete this document?");
    expect(screen.getByRole("dialog")).toHaveAccessibleDescription("report.pdf will be removed.");
    expect(button("Cancel")).toHaveFocus();

    await user.click(button("Delete"));
    expect(onConfirm).toHaveBeenCalledWith("report.pdf");
    expect(button("Working…")).toBeDisabled();
    expect(button("Cancel")).toBeDisabled();

    finish();
    await vi.waitFor(() => expect(dialog()).toBeEmptyDOMElement());
  });

  it("stays open with the API's message when the action fails, and can be tried again", async () => {
    const user = userEvent.setup();
    const onConfirm = vi
      .fn<(name: string) => Promise<unknown>>()
      .mockRejectedValueOnce(new ApiError({ status: 503, code: "unavailable", message: "The database is busy." }))
      .mockResolvedValueOnce(undefined);
    render(<DeletePage onConfirm={onConfirm} />);
    await user.click(screen.getByRole("button", { name: "Delete report.pdf" }));

    await user.click(button("Delete"));
    expect(await screen.findByRole("alert")).toHaveTextContent("The database is busy.");
    expect(button("Delete")).toBeEnabled();

    await user.click(button("Delete"));
    await vi.waitFor(() => expect(dialog()).toBeEmptyDOMElement());
    expect(onConfirm).toHaveBeenCalledTimes(2);
  });

  it("cancels without acting, and a new question starts without the old error", async () => {
    const user = userEvent.setup();
    const onConfirm = vi.fn(() => Promise.reject(new Error("Nope.")));
    render(<DeletePage onConfirm={onConfirm} />);
    await user.click(screen.getByRole("button", { name: "Delete report.pdf" }));
    await user.click(button("Delete"));
    await screen.findByRole("alert");

    await user.click(button("Cancel"));
    expect(dialog()).toBeEmptyDOMElement();
    expect(screen.getByRole("button", { name: "Delete report.pdf" })).toHaveFocus();
    await user.click(screen.getByRole("button", { name: "Delete report.pdf" }));
    expect(screen.queryByRole("alert")).toBeNull();
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it("moves the focus to the fallback when the control that opened it is gone", async () => {
    const user = userEvent.setup();
    render(<ListPage />);
    await user.click(screen.getByRole("button", { name: "Delete a.pdf" }));
    await user.click(button("Delete"));
    await vi.waitFor(() => expect(screen.getByRole("heading", { name: "Your documents" })).toHaveFocus());
    expect(screen.queryByRole("button", { name: "Delete a.pdf" })).toBeNull();
  });
});
