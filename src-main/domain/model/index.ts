/**
 * Public entry of the ownership model (pure: no Electron, DOM, SQLite or file system).
 * See replay.ts for the replay contract and types.ts for the result shapes.
 */
export { replayProgram, replayAll, ReplayByProgram, Replayer, type ReplayContext } from './replay.ts';
export { layoutFromBtf, emptyLayout, type BtfLayout } from './btf-layout.ts';
export { layoutFromSummary } from './btf-summary-adapter.ts';
export { profileFor, supports, featureMessage, FEATURES, KNOWN_PROFILES, NEWEST, type KernelProfile, type Feature } from './kernel-profiles.ts';
export { rebuildFlat, replayFlat, decodeState, applyDelta, stateFromChunk } from './step-store.ts';
export type * from './types.ts';
