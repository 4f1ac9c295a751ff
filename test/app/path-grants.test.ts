/**
 * PathGrants (src-main/electron/path-grants.ts): the Electron main process opens only files the
 * user chose. Pure; the wiring (dialog, drop via the preload, recent files) is exercised by
 * test/e2e/electron.spec.ts where the Electron binary exists.
 */
import { describe, it, expect } from 'vitest';
import { PathGrants } from '../../src-main/hosts/electron/path-grants.ts';

describe('PathGrants', () => {
  it('allows exactly the granted absolute paths, after normalising', () => {
    const g = new PathGrants();
    g.grant('/home/u/logs/a.log');
    g.grant('/home/u/logs/../btf/a.btf.txt');
    expect(g.allows('/home/u/logs/a.log')).toBe(true);
    expect(g.allows('/home/u/logs/./a.log')).toBe(true);
    expect(g.allows('/home/u/btf/a.btf.txt')).toBe(true);
    for (const p of ['/home/u/logs/b.log', '/etc/passwd', '/home/u/logs', '/home/u/logs/a.log/..', 'a.log', '']) expect(g.allows(p), p).toBe(false);
  });

  it('never grants a relative or empty path (what getPathForFile gives a File the page made up)', () => {
    const g = new PathGrants();
    for (const p of ['', 'a.log', '../etc/passwd']) g.grant(p);
    expect(g.allows(`${process.cwd()}/a.log`)).toBe(false);
    expect(g.allows('/etc/passwd')).toBe(false);
  });
});
