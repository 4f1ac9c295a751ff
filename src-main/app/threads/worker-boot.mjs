// Development bootstrap for worker threads: registers tsx's loader in the worker, then imports the
// TypeScript entry named in workerData.entry (built Electron bundles start their .js workers directly).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
