/**
 * Every API error: `{"error": {"code", "message", "request_id"}}`, with `details` on 422s.
 * Written by hand: the OpenAPI document leaves `details` untyped.
 */
export type ApiErrorBody = {
  error: {
    code: string;
    message: string;
    request_id?: string;
    details?: { loc: (string | number)[]; message: string }[];
  };
};

/** An error answered by the API (or a network failure, with status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly details: ApiErrorBody["error"]["details"];

  constructor(options: {
    status: number;
    code: string;
    message: string;
    requestId?: string;
    details?: ApiErrorBody["error"]["details"];
  }) {
    super(options.message);
    this.name = "ApiError";
    this.status = options.status;
    this.code = options.code;
    this.requestId = options.requestId;
    this.details = options.details;
  }
}

function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const inner = (value as { error: unknown }).error;
  return (
    typeof inner === "object" &&
    inner !== null &&
    typeof (inner as { message?: unknown }).message === "string" &&
    typeof (inner as { code?: unknown }).code === "string"
  );
}

const FALLBACK_MESSAGES: Record<number, string> = {
  401: "Your session has expired. Please sign in again.",
  404: "This item no longer exists.",
  413: "The file is too large.",
  415: "This file type is not supported.",
  429: "Too many attempts. Please wait a moment and try again.",
  503: "The service is temporarily unavailable. Please try again shortly.",
};

/** The `{"error": {...}}` body in a response text, or null when the text has another shape. */
export function parseApiErrorBody(bodyText: string): ApiErrorBody | null {
  try {
    const parsed: unknown = bodyText ? JSON.parse(bodyText) : null;
    return isApiErrorBody(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** Builds an ApiError from a status and a response body text in the `{"error": {...}}` shape. */
export function apiErrorFromBody(status: number, bodyText: string, requestIdHeader?: string | null): ApiError {
  const parsed = parseApiErrorBody(bodyText);
  if (parsed) {
    return new ApiError({
      status,
      code: parsed.error.code,
      message: parsed.error.message,
      requestId: parsed.error.request_id ?? requestIdHeader ?? undefined,
      details: parsed.error.details,
    });
  }
  return new ApiError({
    status,
    code: status >= 500 ? "internal_error" : "http_error",
    message: FALLBACK_MESSAGES[status] ?? `The server answered with an unexpected error (HTTP ${status}).`,
    requestId: requestIdHeader ?? undefined,
  });
}

/** Reads an error Response into an ApiError. */
export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  return apiErrorFromBody(response.status, text, response.headers.get("x-request-id"));
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError({
    status: 0,
    code: "network_error",
    message: "Cannot reach the server. Check your connection and try again.",
  });
  (error as Error & { cause?: unknown }).cause = cause;
  return error;
}

/** A sentence for the user, whatever was thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) {
    // useChat surfaces a non-OK response as Error(responseText): unwrap the API error shape.
    const body = parseApiErrorBody(error.message);
    if (body) return body.error.message;
    return error.message || "Something went wrong.";
  }
  return "Something went wrong.";
}
