// The layering is enforced by lint (eslint.config.js): checked here on code that breaks each rule.
import { describe, it, expect } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.ts';

const eslint = new ESLint({ cwd: ROOT });

async function messages(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (r?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('import boundaries', () => {
  it('pure ingest/model code may not use Electron, SQLite or outer layers', async () => {
    expect(await messages('src-main/model/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).toEqual([
      expect.stringMatching(/no-restricted-imports: .*must not use Electron/),
    ]);
    expect(await messages('src-main/ingest/x.ts', "import Database from 'better-sqlite3';\nexport const d = Database;\n")).toEqual([
      expect.stringMatching(/must not touch SQLite/),
    ]);
    expect(await messages('src-main/model/x.ts', "import { openDatabase } from '../store/db.ts';\nexport const o = openDatabase;\n")).toEqual([
      expect.stringMatching(/outer layers/),
    ]);
    expect(await messages('src-main/model/x.ts', 'export const w = window.location;\n')).toEqual([expect.stringMatching(/no-restricted-globals/)]);
  });

  it('the renderer may import only types from the contract', async () => {
    const bad = await messages('src-renderer/lib/x.ts', "import { openDatabase } from '../../src-main/store/db.ts';\nexport const o = openDatabase;\n");
    expect(bad.join('\n')).toMatch(/may import only types/);
    const value = await messages('src-renderer/lib/x.ts', "import { CONTRACT } from '../../src-main/contract/contract.ts';\nexport const c = CONTRACT;\n");
    expect(value.join('\n')).toMatch(/use `import type`/);
    expect(await messages('src-renderer/lib/x.ts', "import type { Contract } from '../../src-main/contract/contract.ts';\nexport type C = Contract;\n")).toEqual([]);
    expect((await messages('src-renderer/lib/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join('\n')).toMatch(/sandbox/);
  });
});
