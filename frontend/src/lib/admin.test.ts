import { describe, expect, it } from "vitest";
import { auditFiltersFromForm, inviteLink, isAdmin, parseQuota, quotaFieldValue, quotaText } from "./admin";

const me = { id: "u1", email: "a@example.com", full_name: "A", created_at: "2026-11-30T10:00:00Z" };

describe("admin helpers", () => {
  it("shows the console to admins only", () => {
    expect(isAdmin({ ...me, role: "admin" })).toBe(true);
    expect(isAdmin({ ...me, role: "member" })).toBe(false);
    expect(isAdmin(null)).toBe(false);
  });

  it("builds invite links that load on a static server (slash before the query)", () => {
    expect(inviteLink({ url_path: "/register?invite=abc", token: "abc" }, "https://docs.example.com")).toBe(
      "https://docs.example.com/register/?invite=abc",
    );
    expect(inviteLink({ url_path: "/register/?invite=abc", token: "abc" }, "http://localhost:8000")).toBe(
      "http://localhost:8000/register/?invite=abc",
    );
    expect(inviteLink({ url_path: "", token: "a b" }, "http://x")).toBe("http://x/register/?invite=a%20b");
  });

  it("describes quotas, with the configured defaults marked", () => {
    expect(quotaText({ storage_mb: 500, documents: 100, storage_mb_is_default: true, documents_is_default: false })).toBe(
      "500 MB (default) · 100 documents",
    );
    expect(quotaText({ storage_mb: null, documents: 1, storage_mb_is_default: false, documents_is_default: true })).toBe(
      "unlimited storage · 1 document (default)",
    );
  });

  it("edits quotas: blank is the default (null), 0 no limit, anything else must be a whole number", () => {
    expect(quotaFieldValue(500, true)).toBe("");
    expect(quotaFieldValue(null, false)).toBe("0");
    expect(quotaFieldValue(20, false)).toBe("20");
    expect(parseQuota(" ")).toEqual({ ok: true, value: null });
    expect(parseQuota("0")).toEqual({ ok: true, value: 0 });
    expect(parseQuota("250")).toEqual({ ok: true, value: 250 });
    expect(parseQuota("2.5")).toMatchObject({ ok: false });
    expect(parseQuota("-1")).toMatchObject({ ok: false });
  });

  it("turns the audit filter form into query parameters, leaving blanks out", () => {
    expect(auditFiltersFromForm({ action: " auth.sign_in_failed ", actor: "", since: "", until: "" })).toEqual({ action: "auth.sign_in_failed" });
    const local = "2026-11-30T09:15";
    expect(auditFiltersFromForm({ action: "", actor: "ann@example.com", since: local, until: "not a date" })).toEqual({
      actor: "ann@example.com",
      since: new Date(local).toISOString(),
    });
  });
});
