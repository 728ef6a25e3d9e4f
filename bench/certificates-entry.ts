// What bench/certificates-worker.mjs calls, bundled by bench/certificates.ts
// with the binary's own esbuild options (scripts/bundle.mjs), so the timings
// are of the code as it ships: @peculiar/x509 stays a lazily loaded chunk.
export {loadTemplate} from '../source/services/profiles.js';
export {parseProfile} from '../source/model/parse-profile.js';
export {buildPlan} from '../source/model/plan.js';
export {ensureCertificates} from '../source/services/tls.js';
