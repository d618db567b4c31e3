import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

/*
 * For component tests: a fake of the API behind the real client (global fetch stubbed), and a
 * render with a fresh query cache. A test file that uses it sets NEXT_PUBLIC_API_URL to an
 * absolute address first (in vi.hoisted), since the client builds Requests from it.
 */

export const TEST_API = "http://api.test";

export type ApiCall = { method: string; path: string; query: URLSearchParams; body: unknown };
type Handler = (call: ApiCall, match: RegExpMatchArray) => Response | Promise<Response>;

export const json = (body: unknown, status = 200) =>
  body === undefined ? new Response(null, { status }) : Response.json(body, { status });
export const noContent = () => new Response(null, { status: 204 });
export const apiError = (status: number, code: string, message: string) =>
  Response.json({ error: { code, message, request_id: "req-test" } }, { status });

function bodyOf(init: RequestInit | undefined): unknown {
  const body = init?.body;
  if (body == null) return undefined;
  if (body instanceof FormData) return body;
  const text = typeof body === "string" ? body : new TextDecoder().decode(body as ArrayBuffer);
  return text ? JSON.parse(text) : undefined;
}

/** Routes `METHOD /path` (a regex source, anchored) to handlers; records every call; unknown routes answer 404. */
export function fakeApi(routes: Record<string, Handler>) {
  const calls: ApiCall[] = [];
  const table = Object.entries(routes).map(([key, handler]) => {
    const [method = "GET", path = ""] = key.split(" ", 2);
    return { method, pattern: new RegExp(`^${path}$`), handler };
  });
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const call = { method: (init?.method ?? "GET").toUpperCase(), path: url.pathname, query: url.searchParams, body: bodyOf(init) };
    calls.push(call);
    for (const route of table) {
      const match = route.method === call.method ? call.path.match(route.pattern) : null;
      if (match) return route.handler(call, match);
    }
    return apiError(404, "not_found", `No fake route for ${call.method} ${call.path}`);
  });
  vi.stubGlobal("fetch", fetchMock);
  return {
    calls,
    /** The calls other than reads. */
    writes: () => calls.filter((call) => call.method !== "GET"),
  };
}

export function renderWithQueries(ui: ReactElement) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return { queryClient, ...render(<QueryClientProvider client={queryClient}>{ui}</QueryClientProvider>) };
}

/** jsdom has no modal dialogs: open/close toggle the attribute (Chromium's behaviour is in the e2e tests). */
export function polyfillDialog(): void {
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute("open", "");
  };
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    this.removeAttribute("open");
    this.dispatchEvent(new Event("close"));
  };
}

/**
 * jsdom lays nothing out (every element is 0 px high): a virtualised list would render no rows.
 * Gives every element a viewport-sized box; returns the undo, for afterAll.
 */
export function sizeElementsForVirtualLists(): () => void {
  const original = {
    clientHeight: Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientHeight"),
    clientWidth: Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientWidth"),
  };
  Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 800 });
  Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1000 });
  return () => {
    for (const [name, descriptor] of Object.entries(original)) {
      if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    }
  };
}
