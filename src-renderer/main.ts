/**
 * Renderer entry: connects to the host (Electron preload bridge or the browser host over HTTP)
 * and mounts the app. Everything from logs, BTF and file names is rendered as text (Svelte text
 * nodes; `{@html}` is never used).
 */
import { mount } from 'svelte';
import App from './App.svelte';
import './styles.css';

mount(App, { target: document.getElementById('app') as HTMLElement });
