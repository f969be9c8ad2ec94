/** The OpenAPI document and its UI: public, they describe the API, not its data. */
export const DOCS_PREFIX = '/api/docs';
