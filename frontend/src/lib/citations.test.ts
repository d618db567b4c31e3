import { describe, expect, it } from "vitest";
import { citedNumbers, splitCitationMarkers } from "./citations";

describe("splitCitationMarkers", () => {
  const known = new Set([1, 2, 10]);

  it("splits text around known markers", () => {
    expect(splitCitationMarkers("a [1] b [10].", known)).toEqual(["a ", 1, " b ", 10, "."]);
  });

  it("keeps unknown and malformed markers as text", () => {
    expect(splitCitationMarkers("x [3] [a] [1 2] [1, 3] [1", known)).toEqual(["x [3] [a] [1 2] [1, 3] [1"]);
  });

  it("splits a group of numbers into one marker each", () => {
    expect(splitCitationMarkers("a [1, 2] b [ 10 ].", known)).toEqual(["a ", 1, 2, " b ", 10, "."]);
  });

  it("handles adjacent markers and markers at the edges", () => {
    expect(splitCitationMarkers("[1][2]", known)).toEqual([1, 2]);
  });
});

describe("citedNumbers", () => {
  it("lists every number cited, groups included, in the order of first use", () => {
    expect(citedNumbers("B [2]. A [1, 3]. C [ 4 ] and [2][1].")).toEqual([2, 1, 3, 4]);
  });
});
