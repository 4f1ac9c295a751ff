/**
 * The ownership graph as data: what every view of ownership draws (the app's graph pane, every
 * export format, the compare view). Plain JSON; the contract hands it to the renderer unchanged.
 *
 * Contract: node ids are stable across steps of one program (see ownership-graph.ts); a snapshot's
 * nodes and edges are sorted by id; `source` says which engine built it ('model': the ownership
 * model's replay; 'kernel' is kept for snapshots of older builds and is never produced now).
 */

export type GraphNodeKind =
  | 'map'
  | 'map-value'
  | 'global'
  | 'local-object'
  | 'kernel-object'
  | 'list-head'
  | 'rb-root'
  | 'register'
  | 'stack-slot';

export type GraphNodeStatus = 'live' | 'maybe-null' | 'non-owning' | 'released' | 'leaked' | 'error';

export interface GraphNode {
  id: string;
  kind: GraphNodeKind;
  label: string;
  detail?: string;
  status?: GraphNodeStatus;
  fields?: { name: string; kind: string }[];
  allocInsn?: number;
  refId?: number;
  /** Parent node drawn around this one (a map value slot inside its map, a list head in its section). */
  parent?: string;
}

export type GraphEdgeKind = 'owns' | 'stashed' | 'in-collection' | 'non-owning' | 'refcount' | 'borrows';

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  /** The field of `from` that holds the reference (a kptr field, a map value slot). */
  fromField?: string;
  /** The field of `to` the pointer points into (a register pointing at `rec->task`). */
  toField?: string;
  kind: GraphEdgeKind;
}

export interface GraphSnapshot {
  /** Ordinal of the step (instruction record) within the program, 0-based; -1 before the first. */
  step: number;
  /** Line of the step. */
  line: number;
  insn: number;
  /** 'kernel': built from the kernel's printed state; 'model': from the ownership model. */
  source: 'kernel' | 'model';
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** What changed at this step, in words ("R2's reference #4 moved into spawn_rec#2.task"). */
  notes: string[];
}
