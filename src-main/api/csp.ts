/** The renderer's Content-Security-Policy, shared by the browser host and the Electron protocol. */
export const CSP_DIRECTIVES = [
  "default-src 'none'",
  "script-src 'self'",
  // Svelte and d3 set element styles; inline <script> is never allowed.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
