/**
 * Content-Security-Policy of the frontend, emitted as a <meta http-equiv> in the root layout
 * (a static export has no server to send headers; vercel.json adds the header-only parts such
 * as frame-ancestors).
 *
 * - connect-src: this origin plus the API origin from NEXT_PUBLIC_API_URL, nothing else, so
 *   even injected script could not send tokens to a third party with fetch/XHR.
 * - script-src needs 'unsafe-inline': Next.js inlines its hydration payload in <script> tags
 *   and a static export cannot attach per-request nonces. XSS is prevented upstream
 *   (sanitised markdown, no raw HTML, inert blobs for originals); 'unsafe-eval' is dev-only.
 * - object-src 'none', base-uri 'self', form-action 'self': no plugins, no <base> hijacking,
 *   no form posts elsewhere. blob: is allowed for images and frames of opened originals.
 */
export function contentSecurityPolicy(apiBaseUrl: string, isDevelopment: boolean): string {
  const connect = new Set(["'self'"]);
  const apiOrigin = originOf(apiBaseUrl);
  if (apiOrigin) connect.add(apiOrigin);
  if (isDevelopment) connect.add("ws:");

  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'", ...(isDevelopment ? ["'unsafe-eval'"] : [])],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": [...connect],
    "frame-src": ["'self'", "blob:"],
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

function originOf(url: string): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
