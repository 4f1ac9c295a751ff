/**
 * The files the user handed to the Electron app, and only those, may be opened by path: the
 * renderer shows text from untrusted logs, so it is not trusted to name files itself.
 *
 * Contract: `grant(path)` records an absolute path the user chose (the open dialog's answer, a
 * dropped file — the preload reports what `webUtils.getPathForFile` gave for it, which is '' for
 * any File the page made up —, an entry of the recent-files list); `allows(path)` says whether a
 * path was granted (compared after `resolve`, so `a/../b` is `b`). Relative paths are never granted.
 */
import { isAbsolute, resolve } from 'node:path';

export class PathGrants {
  private readonly granted = new Set<string>();

  grant(path: string): void {
    if (typeof path === 'string' && path !== '' && isAbsolute(path)) this.granted.add(resolve(path));
  }

  allows(path: string): boolean {
    return isAbsolute(path) && this.granted.has(resolve(path));
  }
}
