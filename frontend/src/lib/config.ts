/**
 * Public, build-time configuration. Only NEXT_PUBLIC_* values reach the browser bundle,
 * and only public values may ever be given that prefix.
 */

/** Base URL of the API without a trailing slash; "" means same origin. */
export const API_BASE_URL: string = (process.env.NEXT_PUBLIC_API_URL ?? "").trim().replace(/\/+$/, "");

/** Absolute-or-relative URL of an API path such as "/api/v1/documents". */
export function apiUrl(path: string): string {
  return `${API_BASE_URL}${path}`;
}

export const APP_NAME = "DocChat";
