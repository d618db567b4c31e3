import { afterEach, describe, expect, it } from "vitest";
import { inertOutside } from "./inert-outside";

afterEach(() => {
  document.body.innerHTML = "";
});

describe("inertOutside", () => {
  it("makes everything but the element and its ancestors inert, and undoes it", () => {
    document.body.innerHTML = `
      <header id="header"><button>Menu</button></header>
      <main id="main">
        <section id="chat"><textarea></textarea></section>
        <div id="wrapper"><aside id="panel"><button>Close</button></aside><p id="beside">x</p></div>
        <div id="already" inert></div>
      </main>`;
    const panel = document.getElementById("panel")!;
    const undo = inertOutside(panel);
    const inert = (id: string) => document.getElementById(id)!.hasAttribute("inert");
    expect(["header", "chat", "beside", "already"].map(inert)).toEqual([true, true, true, true]);
    expect(["main", "wrapper", "panel"].map(inert)).toEqual([false, false, false]);
    undo();
    expect(["header", "chat", "beside"].map(inert)).toEqual([false, false, false]);
    expect(inert("already")).toBe(true);
  });
});
