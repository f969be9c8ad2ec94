/** The two helpers of `pg` the transaction uses to inline values; `@types/pg` does not describe the module. */
declare module 'pg/lib/utils.js' {
  const utils: {
    prepareValue(value: unknown): string | Buffer | null;
    escapeLiteral(text: string): string;
  };
  export default utils;
}
