import { describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "./csp";

describe("contentSecurityPolicy", () => {
  it("allows connections to this origin and the API origin only", () => {
    const policy = contentSecurityPolicy("https://api.example.com/base/", false);
    expect(policy).toContain("connect-src 'self' https://api.example.com;");
    expect(policy).toContain("object-src 'none'");
    expect(policy).not.toContain("unsafe-eval");
  });

  it("uses 'self' only when the API is on the same origin", () => {
    expect(contentSecurityPolicy("", false)).toContain("connect-src 'self';");
  });
});
