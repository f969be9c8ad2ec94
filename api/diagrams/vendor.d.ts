/** bpmn-js-differ ships JavaScript without declarations; the one function api/routes/diagrams.ts uses. */
declare module 'bpmn-js-differ' {
  /** Compares two bpmn-moddle definitions: added, removed, changed (per attribute) and moved elements. */
  export function diff(oldDefinitions: unknown, newDefinitions: unknown): unknown;
}
