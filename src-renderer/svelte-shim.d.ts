// Type of .svelte imports for tsc (svelte-check type-checks the components themselves).
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component;
  export default component;
}

// Vite's `?url` imports: the emitted asset's URL.
declare module '*?url' {
  const url: string;
  export default url;
}
