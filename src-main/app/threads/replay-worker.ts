/**
 * Worker thread that replays a log while the main thread ingests it (`ingest --replay`): it
 * receives the file's raw chunks, splits and parses them itself (same parser, same records) and
 * replays each program on this second core, posting each program's result back as it finishes.
 *
 * Messages in: {type:'chunk', buf: ArrayBuffer} … {type:'end'}. Out: {type:'ack', bytes} per chunk,
 * {type:'program', idx, result} per program, then {type:'done'}; {type:'error', message} on failure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LineSplitter } from '../../domain/log/line-reader.ts';
import { LogParser } from '../../domain/log/log-parser.ts';
import { maxProgramsPerFile } from '../ingest-limits.ts';
import { ReplayRouter, type RouterOptions } from '../replay-router.ts';

const port = parentPort;
if (!port) throw new Error('replay-worker must run in a worker thread');
const router = new ReplayRouter(
  workerData.router as RouterOptions,
  (idx, result) => port.postMessage({ type: 'program', idx, result }),
  (idx) => parser.programInfo(idx),
);
const parser = new LogParser({ record: (rec) => router.record(rec), program: () => undefined }, { maxPrograms: maxProgramsPerFile() });
const splitter = new LineSplitter((l) => parser.push(l));

port.on('message', (m: { type: 'chunk'; buf: ArrayBuffer } | { type: 'end' }) => {
  try {
    if (m.type === 'chunk') {
      splitter.push(Buffer.from(m.buf));
      port.postMessage({ type: 'ack', bytes: m.buf.byteLength });
    } else {
      splitter.end();
      parser.finish();
      router.finish();
      port.postMessage({ type: 'done' });
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).stack ?? String(e) });
  }
});
