// Builds the renderer once before the suite when its sources are newer than dist/renderer.
import { buildRenderer, rendererIsStale } from '../../scripts/build-renderer.ts';

export default async function globalSetup(): Promise<void> {
  if (rendererIsStale()) await buildRenderer({ quiet: true });
}
