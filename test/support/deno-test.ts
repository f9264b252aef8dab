// `#test` under `deno test`: node:test's describe/it (Deno implements them on Deno.test), chai's expect.
export { describe, it, before as beforeAll, after as afterAll, beforeEach, afterEach } from "node:test";
export { expect } from "chai";
