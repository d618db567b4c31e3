import { describe, expect, it } from "vitest";
import { splitCitationMarkers } from "./citations";

describe("splitCitationMarkers", () => {
  const known = new Set([1, 2, 10]);

  it("splits text around known markers", () => {
    expect(splitCitationMarkers("a [1] b [10].", known)).toEqual(["a ", 1, " b ", 10, "."]);
  });

  it("keeps unknown and malformed markers as text", () => {
    expect(splitCitationMarkers("x [3] [a] [ 1 ] [1", known)).toEqual(["x [3] [a] [ 1 ] [1"]);
  });

  it("handles adjacent markers and markers at the edges", () => {
    expect(splitCitationMarkers("[1][2]", known)).toEqual([1, 2]);
  });
});
