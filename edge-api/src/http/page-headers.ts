// The security headers of every page the edge serves to browsers, defined once. The QA dashboard is static
// assets: its build writes these into the assets' _headers file (tools/assets-build.ts), which Cloudflare
// (and workerd under `wrangler dev`) applies to each asset. A page the Worker renders itself sets them too.
// The page's script, styles and data come only from this origin, and nothing may frame it. Photos are shown
// through blob: URLs the page makes from bytes it fetched itself, with the token in a header.
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const PAGE_HEADERS = {
  "content-security-policy": PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // The page changes with every deploy and holds no data: revalidate (by ETag) on every load.
  "cache-control": "no-cache",
} as const satisfies Record<string, string>;
