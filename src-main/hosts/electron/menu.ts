/**
 * The native menu: File (Open…, Open Recent, Export…, Quit) and View (Library, Compare, Reload,
 * Developer Tools); Export… and Compare follow the host's features. Menu items only call the
 * actions given; they never touch files or the database themselves.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  open: () => void;
  openRecent: (path: string) => void;
  clearRecent: () => void;
  library: () => void;
  exportDiagram: () => void;
  compare: () => void;
}

export function buildMenu(recent: { path: string }[], a: MenuActions, features: { export: boolean; compare: boolean }): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: a.open },
        {
          label: 'Open Recent',
          submenu: [
            ...(recent.length === 0 ? [{ label: 'No recent files', enabled: false }] : recent.map((r) => ({ label: r.path, click: () => a.openRecent(r.path) }))),
            { type: 'separator' as const },
            { label: 'Clear Recent', enabled: recent.length > 0, click: a.clearRecent },
          ],
        },
        { type: 'separator' },
        { label: 'Export…', accelerator: 'CmdOrCtrl+E', enabled: features.export, click: a.exportDiagram },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { label: 'Library', accelerator: 'CmdOrCtrl+L', click: a.library },
        { label: 'Compare', enabled: features.compare, click: a.compare },
        { type: 'separator' },
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
