// `#test` under vitest (Node and Chromium): vitest's own describe/it, chai's expect.
export { describe, it, beforeAll, afterAll, beforeEach, afterEach } from "vitest";
export { expect } from "chai";
