import { describe, expect, it } from "vitest";
import { isSafeNextPath, signInPath } from "./index";

describe("sign-in redirect", () => {
  it("brings the user back to the page they were on", () => {
    expect(signInPath("/chat/?id=abc")).toBe("/login/?next=%2Fchat%2F%3Fid%3Dabc");
    expect(signInPath()).toBe("/login/");
    expect(signInPath("/login/?next=%2Fchat%2F")).toBe("/login/");
  });

  it("never redirects off-site after signing in", () => {
    expect(isSafeNextPath("/library/")).toBe(true);
    expect(isSafeNextPath("//evil.example.com/")).toBe(false);
    expect(isSafeNextPath("/\\evil.example.com")).toBe(false);
    expect(isSafeNextPath("https://evil.example.com/")).toBe(false);
    expect(signInPath("https://evil.example.com/")).toBe("/login/");
  });
});
