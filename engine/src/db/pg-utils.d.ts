/** `pg`'s helpers the transaction uses to inline values (and its test compares with); `@types/pg` does not describe the module. */
declare module 'pg/lib/utils.js' {
  const utils: {
    prepareValue(value: unknown): string | Buffer | null;
    escapeLiteral(text: string): string;
  };
  export default utils;
}
