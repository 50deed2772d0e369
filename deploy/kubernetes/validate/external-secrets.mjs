// Validates ExternalSecret and SecretStore resources (external-secrets.io/v1) against the
// schemas that @kubernetes-models/external-secrets generates from the operator's CRDs.
// Reads a JSON array of resources on standard input; prints one line per invalid resource
// and exits 1 if there is any.
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret";
import { SecretStore } from "@kubernetes-models/external-secrets/external-secrets.io/v1/SecretStore";

const models = { ExternalSecret, SecretStore };
let input = "";
for await (const chunk of process.stdin) input += chunk;
let failed = 0;
for (const resource of JSON.parse(input)) {
  const Model = models[resource.kind];
  const name = `${resource.kind}/${resource.metadata?.name}`;
  if (!Model || resource.apiVersion !== "external-secrets.io/v1") {
    console.log(`${name}: no schema for ${resource.apiVersion} ${resource.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(resource).validate();
  } catch (e) {
    console.log(`${name}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
