/**
 * PNG export without a browser: rasterises one of our SVG documents with @resvg/resvg-js.
 *
 * Contract: `svgToPng(svg, { scale })` returns the PNG bytes and their dimensions, which are exactly
 * the SVG's `width`×`height` attributes times `scale` (default PNG_SCALE = 2, i.e. 192 dpi for the
 * SVG's 96 dpi user units: sharp on screen and in print). Fonts: the DejaVu fonts of Debian's
 * fonts-dejavu-core (/usr/share/fonts/truetype/dejavu) are loaded explicitly and system fonts are
 * not scanned, so the bytes do not depend on which other fonts a machine has; without DejaVu the
 * system fonts are loaded instead (and without any font resvg still draws every shape).
 * Same SVG and fonts → same bytes. `pngSize(bytes)` reads the IHDR chunk.
 */
import { Resvg } from '@resvg/resvg-js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { svgSize } from './svg.ts';

export const PNG_SCALE = 2;
export const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';
const DEJAVU_FILES = ['DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'];

export interface PngResult {
  png: Buffer;
  width: number;
  height: number;
}

function fontOptions(): NonNullable<ConstructorParameters<typeof Resvg>[1]>['font'] {
  const files = DEJAVU_FILES.map((f) => join(DEJAVU_DIR, f)).filter((f) => existsSync(f));
  if (files.length > 0) {
    return { loadSystemFonts: false, fontFiles: files, defaultFontFamily: 'DejaVu Sans Mono', monospaceFamily: 'DejaVu Sans Mono', sansSerifFamily: 'DejaVu Sans' };
  }
  return { loadSystemFonts: true, monospaceFamily: 'DejaVu Sans Mono' };
}

export function svgToPng(svg: string, opts: { scale?: number } = {}): PngResult {
  const scale = opts.scale ?? PNG_SCALE;
  const { width, height } = svgSize(svg);
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: fontOptions(), background: '#ffffff', logLevel: 'off' });
  const img = r.render();
  const png = img.asPng();
  const size = pngSize(png);
  if (size.width !== Math.round(width * scale) || size.height !== Math.round(height * scale)) {
    throw new Error(`PNG is ${size.width}×${size.height}, expected ${Math.round(width * scale)}×${Math.round(height * scale)}`);
  }
  return { png, ...size };
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) throw new Error('not a PNG');
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (String.fromCharCode(png[12] ?? 0, png[13] ?? 0, png[14] ?? 0, png[15] ?? 0) !== 'IHDR') throw new Error('PNG without IHDR first');
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}
