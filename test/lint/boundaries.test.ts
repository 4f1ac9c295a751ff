// The layering is enforced by lint (eslint.config.js): checked here on code that breaks each rule,
// and on code that keeps it (so a rule that fires on everything fails too).
import { describe, it, expect } from 'vitest';
import { ESLint } from 'eslint';
import { join } from 'node:path';
import { ROOT } from '../helpers/fixtures.ts';

const eslint = new ESLint({ cwd: ROOT });

async function messages(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return (r?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the domain is pure', () => {
  it('no Electron, no database driver, no node: module, no outer layer, no DOM', async () => {
    expect((await messages('src-main/domain/model/x.ts', "import { app } from 'electron';\nexport const a = app;\n")).join('\n')).toMatch(/no node: modules or packages/);
    expect((await messages('src-main/domain/log/x.ts', "import Database from 'better-sqlite3';\nexport const d = Database;\n")).join('\n')).toMatch(/no node: modules or packages/);
    expect((await messages('src-main/domain/btf/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join('\n')).toMatch(/no node: modules/);
    expect((await messages('src-main/domain/model/x.ts', "import type { Store } from '../../store/types.ts';\nexport type S = Store;\n")).join('\n')).toMatch(/must not import store/);
    expect((await messages('src-main/domain/views/x.ts', "import type { Input } from '../../contract/contract.ts';\nexport type I = Input<'getRun'>;\n")).join('\n')).toMatch(/must not import contract/);
    expect(await messages('src-main/domain/model/x.ts', 'export const w = window.location;\n')).toEqual([expect.stringMatching(/no-restricted-globals/)]);
  });

  it('imports inside the domain and of src-main/lib are fine', async () => {
    expect(await messages('src-main/domain/views/x.ts', "import type { Finding } from '../model/types.ts';\nimport { lastAtMost } from '../../lib/sorted.ts';\nexport type F = Finding;\nexport const l = lastAtMost;\n")).toEqual([]);
  });
});

describe('SQL lives in the store', () => {
  it('a database driver or a prepared statement outside src-main/store is refused', async () => {
    for (const f of ['src-main/app/x.ts', 'src-main/hosts/cli/x.ts', 'src-main/render/x.ts', 'src-main/capture/x.ts']) {
      expect((await messages(f, "import Database from 'better-sqlite3';\nexport const d = Database;\n")).join('\n'), f).toMatch(/only src-main\/store talks to a database/);
      expect((await messages(f, "export function q(db: { prepare(s: string): unknown }) { return db.prepare('SELECT 1'); }\n")).join('\n'), f).toMatch(/SQL is prepared only in src-main\/store/);
    }
    expect(await messages('src-main/store/sqlite/x.ts', "import Database from 'better-sqlite3';\nexport const q = (db: Database.Database) => db.prepare('SELECT 1');\n")).toEqual([]);
  });

  it('the store imports only types from the domain and nothing from the use cases', async () => {
    expect((await messages('src-main/store/x.ts', "import { recordFromStored } from '../domain/log/stored-lines.ts';\nexport const r = recordFromStored;\n")).join('\n')).toMatch(/only TYPES from the domain/);
    expect((await messages('src-main/store/x.ts', "import { ingestLog } from '../app/ingest.ts';\nexport const i = ingestLog;\n")).join('\n')).toMatch(/must not import app/);
    expect(await messages('src-main/store/x.ts', "import type { LogRecord } from '../domain/log/records.ts';\nexport type R = LogRecord;\n")).toEqual([]);
  });
});

describe('arrows point one way', () => {
  it('the contract imports only domain types; use cases never import a host; renderers never a use case', async () => {
    expect((await messages('src-main/contract/x.ts', "import { replayRun } from '../app/replay.ts';\nexport const r = replayRun;\n")).join('\n')).toMatch(/must not import app/);
    expect((await messages('src-main/contract/x.ts', "import { eventText } from '../domain/views/story.ts';\nexport const e = eventText;\n")).join('\n')).toMatch(/only TYPES from the domain/);
    expect((await messages('src-main/app/x.ts', "import { main } from '../hosts/cli/main.ts';\nexport const m = main;\n")).join('\n')).toMatch(/must not import hosts/);
    expect((await messages('src-main/render/x.ts', "import { compareRuns } from '../app/compare.ts';\nexport const c = compareRuns;\n")).join('\n')).toMatch(/must not import app/);
    expect((await messages('src-main/capture/x.ts', "import { ingestLog } from '../app/ingest.ts';\nexport const i = ingestLog;\n")).join('\n')).toMatch(/must not import app/);
  });

  it('an import cycle fails lint', async () => {
    // ingest.ts imports replay.ts; a replay.ts that imported ingest.ts back would close a cycle.
    const code = "import { ingestLog } from './ingest.ts';\nexport const i = ingestLog;\n";
    expect((await messages('src-main/app/replay.ts', code)).join('\n')).toMatch(/import-x\/no-cycle/);
  });
});

describe('the renderer', () => {
  it('imports only from the contract: types, and values only from contract/legend.ts', async () => {
    const bad = await messages('src-renderer/lib/x.ts', "import { openStore } from '../../src-main/store/open-store.ts';\nexport const o = openStore;\n");
    expect(bad.join('\n')).toMatch(/may import only from src-main\/contract/);
    const value = await messages('src-renderer/lib/x.ts', "import { inputSchemas } from '../../src-main/contract/contract.ts';\nexport const c = inputSchemas;\n");
    expect(value.join('\n')).toMatch(/use `import type`/);
    expect(await messages('src-renderer/lib/x.ts', "import type { Client } from '../../src-main/contract/contract.ts';\nexport type C = Client;\n")).toEqual([]);
    expect(await messages('src-renderer/lib/x.ts', "import { NODE_STYLES } from '../../src-main/contract/legend.ts';\nexport const n = NODE_STYLES;\n")).toEqual([]);
    expect((await messages('src-renderer/lib/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).join('\n')).toMatch(/sandbox/);
  });
});
