/**
 * The renderer's Content-Security-Policy, one definition for every way the page is delivered:
 * - `CSP_DIRECTIVES`: the response header of the browser host and of Electron's `kptrscope://app/`
 *   protocol;
 * - `CSP_META`: the same policy as a `<meta http-equiv>` in the built index.html (vite plugin in
 *   vite.renderer.config.ts), so the page is covered even if it were ever loaded without our
 *   headers. `frame-ancestors` is header-only (browsers ignore it in a meta tag, with a warning),
 *   so the meta form leaves it out;
 * - `PERMISSIONS_POLICY`: below.
 */
const DIRECTIVES = [
  "default-src 'none'",
  "script-src 'self'",
  // No 'unsafe-inline' anywhere: Svelte's `style:` directives and d3 set styles through the CSSOM
  // (allowed), component CSS is emitted to files; the e2e specs fail on any CSP violation.
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
] as const;

export const CSP_DIRECTIVES = DIRECTIVES.join('; ');

export const CSP_META = DIRECTIVES.filter((d) => !d.startsWith('frame-ancestors')).join('; ');

/**
 * Powerful features the page never uses, switched off for it and any frame (the browser host's
 * `Permissions-Policy` header): a request for any of them is denied without a prompt. Electron
 * denies every permission request in the session's handlers as well (src-main/main.ts).
 */
export const PERMISSIONS_POLICY = [
  'accelerometer',
  'autoplay',
  'bluetooth',
  'camera',
  'clipboard-read',
  'clipboard-write',
  'display-capture',
  'fullscreen',
  'geolocation',
  'gyroscope',
  'hid',
  'idle-detection',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'publickey-credentials-get',
  'screen-wake-lock',
  'serial',
  'usb',
  'xr-spatial-tracking',
]
  .map((f) => `${f}=()`)
  .join(', ');
