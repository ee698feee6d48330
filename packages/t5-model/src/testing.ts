// Test helpers of @tagi/t5-model (Node-only): a local server that answers like the Hugging Face Hub for
// fixture repos, so Hub ids can be tested without the network (see src/hub-fixture-server.ts).
export { startHubFixture } from './hub-fixture-server.js';
export type { FixtureRepo, HubFixture } from './hub-fixture-server.js';
