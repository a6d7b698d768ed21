// The GraphQL over HTTP specification's reference audit (npm graphql-http, pinned in
// package.json) against a running server: node tests/graphql_http_audit.mjs http://host/graphql
// Prints one line per audit; exits non-zero on any error or warning.
import { serverAudits } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node tests/graphql_http_audit.mjs <url>");
  process.exit(2);
}
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  counts[result.status] += 1;
  const reason = result.status === "ok" ? "" : ` — ${result.reason}`;
  console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}${reason}`);
}
console.log(JSON.stringify(counts));
process.exit(counts.warn + counts.error > 0 ? 1 : 0);
