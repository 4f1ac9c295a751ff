// `kptrscope replay` tells each program path by path (the verifier walks every pending branch on
// its own): the rejected path first with the branch that leads there and what happened before it,
// then the other paths in walk order. Real 7.3 captures of the FIFO qdisc and its leaking sibling;
// `npm run demo` prints exactly that story.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../helpers/fixtures.ts';
import { kptrscope } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('kptrscope-paths-');
const D = join(FIXTURES, 'logs', '7.3');
const K = readFileSync(join(D, 'KERNEL'), 'utf8').trim();
const replay = (name: string, extra: string[] = []) =>
  kptrscope(['replay', join(D, `${name}.bpftool.log`), '--btf', join(D, `${name}.bpf.o`), '--kernel', K, '--db', join(dir, `${name}.db`), ...extra]);

describe('replay, path by path', () => {
  it('the leaking enqueue: the rejected path first, its branch and the skb acquired before it', () => {
    const r = replay('qdisc_fifo_leak', ['--program', 'tailq_enqueue']);
    expect(r.status).toBe(0);
    const out = r.stdout;
    const rejected = out.indexOf('— rejected at insn 48 (leak): from insn 4 `if r3 >= r2 goto pc+43` taken (→ insn 48)');
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBeLessThan(out.indexOf('path 1: from the program start'));
    const block = out.slice(rejected, out.indexOf('path 1:'));
    expect(block).toContain('before the branch: sk_buff#1 acquired into ctx+0 (Qdisc_ops.enqueue argument) (insn 0)');
    expect(block).toMatch(/48 {2}sk_buff#1 +leaked/);
    // Each path starts at its own branch; no event of one path shows under another.
    expect(out.match(/^ {2}path \d+/gm)?.length).toBe(4);
    expect(out).not.toContain('tailq_dequeue');
  });

  it("the accepted dequeue: popped, skb taken out, node dropped, skb handed to the kernel by dequeue's return", () => {
    const r = replay('qdisc_fifo', ['--program', 'tailq_dequeue']);
    expect(r.status).toBe(0);
    const path1 = r.stdout.slice(r.stdout.indexOf('path 1: from the program start'), r.stdout.indexOf('path 2:'));
    const lines = path1.split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => l.replace(/^\s+\d+\s+\S+\s+/, ''));
    expect(lines).toEqual([
      'popped from .data.fifo:fifo_slots into R0',
      'taken out of pkt_slot#2.skb into R0',
      'dropped (from R1,R8)',
      'handed to the kernel (returned) (from R0,R7,R9)',
    ]);
  });

  it('--program names a program of the run, or says which there are', () => {
    const r = replay('qdisc_fifo', ['--program', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--program nope: no such program in this run (it has: tailq_enqueue, tailq_dequeue, tailq_init, tailq_reset, tailq_destroy)');
  });

  it('npm run demo tells the skb story of the FIFO qdisc and the finding of its broken sibling', () => {
    const r = spawnSync('sh', [join(ROOT, 'scripts', 'demo.sh')], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('== qdisc_fifo: a FIFO qdisc the 7.3 kernel accepts ==');
    expect(r.stdout).toMatch(/stashed into pkt_slot#\d+\.skb/);
    expect(r.stdout).toMatch(/pushed into \.data\.fifo:fifo_slots/);
    expect(r.stdout).toContain('handed to the kernel (returned)');
    expect(r.stdout).toMatch(/tailq_enqueue: kernel rejected at insn 48, model rejected at insn 48 \(agree\)/);
    expect(r.stdout).toContain('finding (leak, insn 48)');
  }, 120_000);
});
