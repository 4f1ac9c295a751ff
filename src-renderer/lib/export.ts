/**
 * Exports from the window. The host renders the bytes (the same renderers as the CLI; PNG with
 * resvg); Electron asks where with its native save dialog and main writes that one file
 * (`saveExport`); in the browser host the page gets the bytes (`renderExport`, base64) and saves
 * them with a download link — nothing is written on the server.
 */
import type { ExportRequest } from '../../src-main/contract/contract.ts';
import type { AppContext } from './context.ts';

/** Export `what`; resolves to a one-line status for the user ('' when the dialog was cancelled). */
export async function exportFile(app: AppContext, what: ExportRequest): Promise<string> {
  if (app.info?.features.nativeDialogs) {
    const r = await app.client.saveExport({ what });
    return r.path ? `exported to ${r.path}` : '';
  }
  const f = await app.client.renderExport({ what });
  const bin = atob(f.base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: f.mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = f.fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return `downloaded ${f.fileName}`;
}
