// The ownership graph built from the model's state follows the stash walkthrough of our program
// task_fifo (test/fixtures/progs/task_fifo.bpf.c: a task stashed in a waiter's `who` kptr, the waiter
// pushed on .data.fifo:fifo_head under fifo_guard) and the other real 6.18 captures.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { LOGS_618 } from '../helpers/fixtures.ts';
import { parseFile } from '../helpers/parse.ts';
import { replayAll } from '../../src-main/domain/model/index.ts';
import { summarizeBtf } from '../../src-main/domain/btf/index.ts';
import { loadBtfFile } from '../../src-main/app/read-files.ts';
import { buildOwnershipGraph } from '../../src-main/domain/views/ownership-graph.ts';
import type { GraphSnapshot } from '../../src-main/contract/contract.ts';

async function graphs(log: string, btfFile: string): Promise<GraphSnapshot[]> {
  const { records } = await parseFile(log);
  const btf = summarizeBtf((await loadBtfFile(btfFile)).btf);
  const [r] = replayAll(records, { btf });
  return r!.steps.map((s, i) =>
    buildOwnershipGraph({ state: r!.stateAt(i), objects: r!.objects, events: r!.events.filter((e) => e.step === i), btf, step: i, insn: s.insn, line: s.line }),
  );
}

const edge = (g: GraphSnapshot) =>
  g.edges.map((e) => {
    const label = (id: string) => g.nodes.find((n) => n.id === id)?.label ?? id;
    return `${label(e.from)}${e.fromField ? `.${e.fromField}` : ''} -${e.kind}-> ${label(e.to)}${e.toField ? `.${e.toField}` : ''}`;
  });

describe('ownership graph (model)', () => {
  it('reproduces the stash walkthrough step by step', async () => {
    const gs = await graphs(join(LOGS_618, 'task_fifo.bpftool.log'), join(LOGS_618, 'task_fifo.btf.txt'));
    const at = (insn: number) => gs.find((g) => g.insn === insn && g.step > 10) as GraphSnapshot;
    // 16: #4 moves into waiter#2.who, the old content comes back as #6 owned by R0
    expect(edge(at(16))).toEqual(expect.arrayContaining(['waiter #2.who -stashed-> task_struct #4', 'R0 -owns-> task_struct #6', 'R6 -owns-> waiter #2']));
    expect(edge(at(16))).not.toContain('R2 -owns-> task_struct #4');
    // 19: #6 released
    expect(at(19).nodes.find((n) => n.label === 'task_struct #6')?.status).toBe('released');
    // 29: the list owns the node, R6 is non-owning (pointing at its node field), #4 still stashed in it
    expect(edge(at(29))).toEqual(
      expect.arrayContaining(['fifo_head -in-collection-> waiter #2', 'R6 -non-owning-> waiter #2.q', 'waiter #2.who -stashed-> task_struct #4']),
    );
    expect(at(29).nodes.find((n) => n.label === 'fifo_head')).toMatchObject({ kind: 'list-head', parent: 'glob:.data.fifo' });
    // 32: the unlock invalidates R6
    expect(edge(at(32)).some((e) => e.startsWith('R6'))).toBe(false);
    expect(edge(at(32))).toContain('fifo_head -in-collection-> waiter #2');
  });

  it('a leak is red at the exit that leaks it', async () => {
    const gs = await graphs(join(LOGS_618, 'leak_obj.bpftool.log'), join(LOGS_618, 'leak_obj.btf.txt'));
    const last = gs[gs.length - 1] as GraphSnapshot;
    expect(last.insn).toBe(15);
    expect(last.nodes.find((n) => n.label.startsWith('pkt_sample'))?.status).toBe('leaked');
  });

  it('is deterministic and names fields of local objects from the BTF', async () => {
    const a = await graphs(join(LOGS_618, 'local_kptr_stash.bpftool.log'), join(LOGS_618, 'local_kptr_stash.btf.txt'));
    const b = await graphs(join(LOGS_618, 'local_kptr_stash.bpftool.log'), join(LOGS_618, 'local_kptr_stash.btf.txt'));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    const withFields = a.flatMap((g) => g.nodes).find((n) => n.kind === 'local-object');
    expect(withFields?.fields?.map((f) => f.name)).toEqual(expect.arrayContaining(['task', 'cgrp']));
  });
});
