// The serial demultiplexer on a real transcript: test/fixtures/logs/6.1/serial.txt is the data port
// (ttyS1) of the guest that produced the 6.1 captures, byte for byte as QEMU gave it. Demultiplexed
// at any chunking it must give back exactly the committed logs; damage is detected.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/fixtures.ts';
import { SerialDemux, demuxTranscript, type SerialEvent } from '../../src-main/capture/serial-demux.ts';

const DIR = join(FIXTURES, 'logs', '6.1');
const RAW = readFileSync(join(DIR, 'serial.txt'));
const CAPTURE = JSON.parse(readFileSync(join(DIR, 'capture.json'), 'utf8')) as {
  objects: { name: string; log: string; rawLogs: string[] }[];
};

describe('real 6.1 serial transcript', () => {
  const { files, events, done } = demuxTranscript(RAW);

  it('has the protocol lines in order and CRLF line ends (the tty adds \\r)', () => {
    expect(RAW.toString('latin1').startsWith('@@KPTRSCOPE HELLO 1\r\n')).toBe(true);
    expect(done).toBe(true);
    expect(events[0]).toEqual({ kind: 'hello', protocol: 1 });
    expect(events[events.length - 1]).toEqual({ kind: 'done' });
    expect(events.some((e) => e.kind === 'noise')).toBe(false);
    const steps = events.filter((e): e is Extract<SerialEvent, { kind: 'step' }> => e.kind === 'step').map((e) => e.text);
    expect(steps[0]).toBe(`1/${4 * CAPTURE.objects.length} ${CAPTURE.objects[0]!.name} bpftool -d prog loadall`);
    expect(steps.filter((s) => s !== 'vmlinux BTF')).toHaveLength(4 * CAPTURE.objects.length);
  });

  it('every file arrived whole, and the logs are the committed fixtures byte for byte', () => {
    for (const f of files.values()) expect(f.ok, `${f.name}: ${f.problem}`).toBe(true);
    expect(files.get('uname')!.data.toString().trim()).toBe(readFileSync(join(DIR, 'KERNEL'), 'utf8').trim());
    expect(files.get('bpftool-version')!.data.toString()).toMatch(/^\/usr\/sbin\/bpftool v\d/);
    CAPTURE.objects.forEach((o, i) => {
      const step = i * 4; // bpftool, then raw levels 1, 2, 7
      expect(files.get(`s${step}.out`)!.data, o.name).toEqual(readFileSync(join(DIR, o.log)));
      const rc = Number(files.get(`s${step}.rc`)!.data.toString().trim());
      expect(rc === 0 ? 'accepted' : 'rejected').toBe(readFileSync(join(DIR, `${o.name}.verdict`), 'utf8').trim());
      for (const [j, lv] of [1, 2, 7].entries()) {
        const out = files.get(`s${step + 1 + j}.out`)!.data;
        if (out.length > 0) expect(out, `${o.name} L${lv}`).toEqual(readFileSync(join(DIR, `${o.name}.L${lv}.log`)));
        else expect(o.rawLogs).not.toContain(`${o.name}.L${lv}.log`);
      }
    });
  });

  it('gives the same result at any chunking (3, 64, 4096 bytes)', () => {
    for (const size of [3, 64, 4096]) {
      const d = new SerialDemux();
      for (let i = 0; i < RAW.length; i += size) d.push(RAW.subarray(i, i + size));
      d.finish();
      expect(d.done).toBe(true);
      expect([...d.files.keys()]).toEqual([...files.keys()]);
      for (const [k, f] of d.files) expect(f.data, k).toEqual(files.get(k)!.data);
    }
  });
});

describe('damage and noise', () => {
  const text = RAW.toString('latin1');
  const firstB64 = text.indexOf('\r\n', text.indexOf('@@KPTRSCOPE BEGIN s0.out')) + 2;

  it('a flipped byte fails the SHA-256 check of that file only', () => {
    const c = text[firstB64] === 'A' ? 'B' : 'A';
    const bad = text.slice(0, firstB64) + c + text.slice(firstB64 + 1);
    const { files } = demuxTranscript(bad);
    expect(files.get('s0.out')).toMatchObject({ ok: false });
    expect(files.get('s0.out')!.problem).toMatch(/SHA-256 mismatch/);
    expect(files.get('s0.rc')!.ok).toBe(true);
  });

  it('a lost line is reported as a size mismatch', () => {
    const end = text.indexOf('\r\n', firstB64) + 2;
    const { files } = demuxTranscript(text.slice(0, firstB64) + text.slice(end));
    expect(files.get('s0.out')!.problem).toMatch(/bytes received/);
  });

  it('a transcript cut inside a file reports that file as incomplete and no DONE', () => {
    const { files, done } = demuxTranscript(text.slice(0, firstB64 + 10));
    expect(done).toBe(false);
    expect(files.get('s0.out')).toMatchObject({ ok: false, problem: 'the transcript ended inside the file (no END line)' });
  });

  it('stray console lines outside files are noise, not data', () => {
    const { files, events } = demuxTranscript(`[    1.0] random: crng init done\r\n${text}`);
    expect(events[0]).toEqual({ kind: 'noise', line: '[    1.0] random: crng init done' });
    expect(files.get('s0.out')!.ok).toBe(true);
  });

  it('a BEGIN interrupted by another marker closes the open file as damaged', () => {
    const t = '@@KPTRSCOPE BEGIN x 5\r\naGVsbG8=\r\n@@KPTRSCOPE STEP 1/1 y\r\n@@KPTRSCOPE DONE\r\n';
    const { files, done } = demuxTranscript(t);
    expect(done).toBe(true);
    expect(files.get('x')).toMatchObject({ ok: false, problem: 'interrupted by "@@KPTRSCOPE STEP 1/1 y"' });
    expect(files.get('x')!.data.toString()).toBe('hello');
  });
});
