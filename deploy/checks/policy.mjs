// The deployment policy: rules every rendered overlay must follow. Pure functions over a list of parsed
// Kubernetes objects; check.mjs renders the overlays and runs them, and runs them on the fixtures in
// fixtures/ to prove that a workload missing a probe, a limit, a budget or a policy is caught.
//
// Every rule applies to EVERY workload found in the render (Deployments, StatefulSets, DaemonSets), so a
// new service cannot forget its probes, limits, budget, autoscaler or network policy.

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

// Defaults of Vigil.ServiceDefaults' HostingOptions, used when a workload does not set them.
const DEFAULT_SHUTDOWN_SECONDS = 25;
const DEFAULT_DRAIN_SECONDS = 2;

// Environment variables whose value is a secret: they must come from a Secret (valueFrom.secretKeyRef).
export function isSecretName(name) {
  if (/KeyId$/i.test(name)) return false; // key ids are public
  return /(key|keys__\d+|token|password|pass|secret|pem)$/i.test(name)
    || /^(RabbitMq__Uri|Redis__Configuration)$/i.test(name) // may carry a password
    || /DevelopmentKey/i.test(name);
}

/** Parses a CPU quantity into millicores, a memory quantity into bytes. */
export function parseQuantity(q) {
  if (q === undefined || q === null) return undefined;
  const s = String(q).trim();
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const units = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  if (!(m[2] in units)) return undefined;
  return n * units[m[2]];
}

/** "00:00:25" or "25" (seconds) → seconds. */
export function parseTimeSpan(v) {
  if (v === undefined || v === null) return undefined;
  const s = String(v).trim();
  const hms = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(s);
  if (hms) return (Number(hms[1] ?? 0) * 86400) + Number(hms[2]) * 3600 + Number(hms[3]) * 60 + Number(hms[4]);
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  return undefined;
}

export function selectorMatches(selector, labels) {
  if (!selector) return false;
  const ml = selector.matchLabels ?? {};
  const exprs = selector.matchExpressions ?? [];
  if (Object.keys(ml).length === 0 && exprs.length === 0) return true; // {} selects everything
  for (const [k, v] of Object.entries(ml)) if ((labels ?? {})[k] !== v) return false;
  for (const e of exprs) {
    const has = !!labels && e.key in labels;
    const val = labels?.[e.key];
    if (e.operator === "In" && !(has && e.values.includes(val))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(val)) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

const podLabels = (w) => w.spec?.template?.metadata?.labels ?? {};
const podSpec = (w) => w.spec?.template?.spec ?? {};
const id = (o) => `${o.kind}/${o.metadata?.name}`;

/** Environment of a container resolved against the ConfigMaps of the render: name → {value?, secretRef?}. */
function containerEnv(container, objects) {
  const env = new Map();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === from.configMapRef.name);
      for (const [k, v] of Object.entries(cm?.data ?? {})) env.set(k, { value: v, from: `ConfigMap/${from.configMapRef.name}` });
    }
    if (from.secretRef) env.set(`*secret:${from.secretRef.name}`, { secretRef: from.secretRef });
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) env.set(e.name, { secretRef: e.valueFrom.secretKeyRef });
    else if (e.valueFrom?.configMapKeyRef) {
      const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === e.valueFrom.configMapKeyRef.name);
      env.set(e.name, { value: cm?.data?.[e.valueFrom.configMapKeyRef.key], from: `ConfigMap/${e.valueFrom.configMapKeyRef.name}` });
    } else env.set(e.name, { value: e.value, inline: true });
  }
  return env;
}

function preStopSeconds(container) {
  const pre = container.lifecycle?.preStop;
  if (!pre) return undefined;
  if (pre.sleep?.seconds !== undefined) return Number(pre.sleep.seconds);
  const cmd = pre.exec?.command ?? [];
  const i = cmd.findIndex((c) => /(^|\/)sleep$/.test(c));
  if (i >= 0 && cmd[i + 1] !== undefined) return Number(cmd[i + 1]);
  return 0; // some other hook: counts, but adds no known pause
}

function peerIsPods(peer, component) {
  return !peer.namespaceSelector && !peer.ipBlock && peer.podSelector?.matchLabels?.["app.kubernetes.io/component"] === component;
}
function peerIsNamespace(peer, ns) {
  return !peer.podSelector && !peer.ipBlock && peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === ns;
}
const rulePorts = (rule) => (rule.ports ?? []).map((p) => p.port);

/**
 * Runs every rule. `context`: { production: boolean, projects?: [{ name, grpcPort, managementPort }] }.
 * Returns [{ rule, subject, ok, detail }].
 */
export function checkPolicy(objects, context = {}) {
  const results = [];
  const add = (rule, subject, ok, detail = "") => results.push({ rule, subject, ok: !!ok, detail });
  const of = (kind) => objects.filter((o) => o.kind === kind);
  const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
  const policies = of("NetworkPolicy");

  add("workloads-found", "render", workloads.length > 0, `${workloads.length} workloads`);

  for (const w of workloads) {
    const spec = podSpec(w);
    const labels = podLabels(w);
    const component = labels["app.kubernetes.io/component"];
    const containers = spec.containers ?? [];
    const podSc = spec.securityContext ?? {};
    const isApp = component === "service" || component === "gateway";

    for (const c of containers) {
      const subj = `${id(w)} container ${c.name}`;
      add("readiness-probe", subj, !!c.readinessProbe, "readinessProbe is required");
      add("liveness-probe", subj, !!c.livenessProbe, "livenessProbe is required");
      if (isApp) {
        const grpcPort = (c.ports ?? []).find((p) => p.name === "grpc")?.containerPort;
        add("grpc-readiness", subj, c.readinessProbe?.grpc && c.readinessProbe.grpc.port === grpcPort && (c.readinessProbe.grpc.service ?? "") === "",
          `readiness must be the gRPC health of service "" on the grpc port ${grpcPort}`);
        add("grpc-liveness-independent", subj, c.livenessProbe?.grpc && c.livenessProbe.grpc.port === grpcPort && c.livenessProbe.grpc.service === "liveness",
          `liveness must be the gRPC health service "liveness" (process only, never Redis or RabbitMQ) on port ${grpcPort}`);
      }
      const r = c.resources ?? {};
      const haveAll = ["cpu", "memory"].every((k) => r.requests?.[k] !== undefined && r.limits?.[k] !== undefined);
      add("resources", subj, haveAll, "requests and limits for cpu and memory are required");
      if (haveAll) {
        const okOrder = ["cpu", "memory"].every((k) => parseQuantity(r.requests[k]) <= parseQuantity(r.limits[k]));
        add("requests-within-limits", subj, okOrder, "requests must not exceed limits");
      }
      const sc = c.securityContext ?? {};
      const nonRoot = (sc.runAsNonRoot ?? podSc.runAsNonRoot) === true && (sc.runAsUser ?? podSc.runAsUser) !== 0;
      add("non-root", subj, nonRoot, "runAsNonRoot: true (and no runAsUser 0)");
      add("read-only-root", subj, sc.readOnlyRootFilesystem === true, "readOnlyRootFilesystem: true");
      add("no-privilege-escalation", subj, sc.allowPrivilegeEscalation === false && (sc.capabilities?.drop ?? []).includes("ALL"),
        "allowPrivilegeEscalation: false and capabilities.drop [ALL]");
      add("image-pinned", subj, typeof c.image === "string" && /:[^/]+$/.test(c.image) && !/:latest$/.test(c.image), `image ${c.image} needs an explicit tag other than latest`);

      const env = containerEnv(c, objects);
      const inlineSecrets = [...env.entries()].filter(([k, v]) => isSecretName(k) && v.value !== undefined && v.value !== "" && !v.secretRef);
      add("secrets-referenced", subj, inlineSecrets.length === 0,
        inlineSecrets.length ? `secret values written inline: ${inlineSecrets.map(([k, v]) => `${k} (${v.from ?? "env"})`).join(", ")}` : "");
      const refs = [...env.values()].filter((v) => v.secretRef?.key).map((v) => v.secretRef);
      if (context.secretsProvided) {
        // The overlay brings its own Secrets (development): each reference must resolve.
        const missing = refs.filter((ref) => !of("Secret").some((s) => s.metadata?.name === ref.name && (ref.key in (s.data ?? {}) || ref.key in (s.stringData ?? {}))));
        add("secret-exists", subj, missing.length === 0, `referenced but not in the render: ${missing.map((m) => `${m.name}/${m.key}`).join(", ")}`);
      }
      if (context.documentedSecrets) {
        // Operations create the Secrets (production): each must be documented.
        const missing = refs.filter((ref) => !context.documentedSecrets.includes(ref.name));
        add("secret-documented", subj, missing.length === 0, `not documented in docs/operations.md: ${[...new Set(missing.map((m) => m.name))].join(", ")}`);
      }
      if (context.production) {
        add("no-development-key", subj, ![...env.keys()].some((k) => /DevelopmentKey/i.test(k)) && env.get("ASPNETCORE_ENVIRONMENT")?.value !== "Development",
          "production must not set Auth__DevelopmentKey nor the Development environment");
        if (isApp) {
          // Tokens are checked against the platform's provider (Auth__Authority over HTTPS), or, air-gapped, against
          // its public keys from a Secret; a service calls others with client credentials (secret from a Secret) or,
          // air-gapped, a service token from a Secret.
          const authority = env.get("Auth__Authority")?.value;
          const trusts = (typeof authority === "string" && authority.startsWith("https://")) || !!env.get("Auth__SigningKeys__0")?.secretRef;
          const calls = component !== "service" || (!!env.get("Auth__ClientId")?.value && !!env.get("Auth__ClientSecret")?.secretRef)
            || !!env.get("Auth__ServiceToken")?.secretRef;
          add("provider-trusted", subj, trusts && calls,
            `production must set Auth__Authority (https://) or Auth__SigningKeys__0 from a Secret${component === "service" ? ", and Auth__ClientId with Auth__ClientSecret from a Secret (or Auth__ServiceToken from a Secret)" : ""}`);
        }
      }

      if (component === "gateway") {
        // Per-pod balancing: each cluster destination the gateway resolves is a headless Service (one address
        // per ready pod) selecting a workload's pods, on a port of that Service.
        for (const [k, v] of env.entries()) {
          const m = /^ReverseProxy__Clusters__([^_]+)__Destinations__[^_]+__(Address|Health)$/.exec(k);
          if (!m || typeof v.value !== "string") continue;
          let url;
          try { url = new URL(v.value); } catch { add("gateway-per-pod", `${subj} ${k}`, false, `not a URL: ${v.value}`); continue; }
          const svc = of("Service").find((s) => s.metadata?.name === url.hostname);
          const headless = svc?.spec?.clusterIP === "None";
          const port = (svc?.spec?.ports ?? []).some((p) => p.port === Number(url.port));
          const selects = svc && workloads.some((x) => selectorMatches({ matchLabels: svc.spec?.selector ?? {} }, podLabels(x)) && Object.keys(svc.spec?.selector ?? {}).length > 0);
          add("gateway-per-pod", `${subj} ${k}`, headless && port && selects,
            `${v.value} must name a headless Service (clusterIP: None) selecting the service's pods, on one of its ports, so the gateway balances and health-checks per pod`);
        }
      }

      if (w.kind === "Deployment") {
        const pre = preStopSeconds(c);
        add("pre-stop", subj, pre !== undefined, "a preStop hook (pause) is required");
        const shutdown = parseTimeSpan(env.get("Hosting__ShutdownTimeout")?.value) ?? DEFAULT_SHUTDOWN_SECONDS;
        const drain = parseTimeSpan(env.get("Hosting__DrainDelay")?.value) ?? DEFAULT_DRAIN_SECONDS;
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        add("grace-exceeds-drain", subj, grace > (pre ?? 0) + drain + shutdown,
          `terminationGracePeriodSeconds ${grace} must exceed preStop ${pre ?? 0} + Hosting:DrainDelay ${drain} + Hosting:ShutdownTimeout ${shutdown}`);
      }
    }

    if (w.kind === "Deployment") {
      const subj = id(w);
      const pdbs = of("PodDisruptionBudget").filter((p) => selectorMatches(p.spec?.selector, labels));
      add("pod-disruption-budget", subj, pdbs.length > 0, "a PodDisruptionBudget selecting its pods is required");
      const hpas = of("HorizontalPodAutoscaler").filter((h) => h.spec?.scaleTargetRef?.kind === "Deployment" && h.spec.scaleTargetRef.name === w.metadata.name);
      add("autoscaler", subj, hpas.length > 0, "a HorizontalPodAutoscaler targeting it is required");
      for (const p of pdbs) {
        const min = hpas[0]?.spec?.minReplicas ?? w.spec?.replicas ?? 1;
        const blocks = p.spec.minAvailable !== undefined && !String(p.spec.minAvailable).endsWith("%") && Number(p.spec.minAvailable) >= min;
        add("budget-allows-drain", `${subj} ${id(p)}`, !blocks, `minAvailable ${p.spec.minAvailable} with ${min} replicas would block node drains`);
      }
      const services = of("Service").filter((s) => s.spec?.selector && selectorMatches({ matchLabels: s.spec.selector }, labels));
      add("service", subj, services.length > 0, "a Service selecting its pods is required");
      const names = new Set(containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
      const numbers = new Set(containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
      for (const s of services) {
        for (const p of s.spec.ports ?? []) {
          const target = p.targetPort ?? p.port;
          add("service-ports", `${id(s)} port ${p.name ?? p.port}`, typeof target === "string" ? names.has(target) : numbers.has(target), `targetPort ${target} is not a container port of ${subj}`);
          if (p.name === "grpc") add("grpc-h2c", `${id(s)} port grpc`, p.appProtocol === "kubernetes.io/h2c", "the gRPC port must declare appProtocol kubernetes.io/h2c (HTTP/2 to the pods)");
        }
      }
    }

    // Network policies: a default deny and an explicit allow list per workload, with the allowed callers
    // of its tier only.
    const selecting = policies.filter((p) => (p.spec?.policyTypes ?? ["Ingress"]).includes("Ingress") && selectorMatches(p.spec?.podSelector, labels));
    const denyAll = selecting.some((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && (p.spec.ingress ?? []).length === 0);
    const allows = selecting.filter((p) => (p.spec.ingress ?? []).length > 0);
    add("network-default-deny", id(w), denyAll, "a default-deny ingress NetworkPolicy must select its pods");
    add("network-policy", id(w), allows.length > 0, "a NetworkPolicy allowing its callers is required");
    const rules = allows.flatMap((p) => p.spec.ingress.map((r) => ({ ...r, policy: p.metadata.name })));
    const openRules = rules.filter((r) => !r.from || r.from.length === 0);
    add("network-no-open-rule", id(w), openRules.length === 0, `rules open to everyone: ${openRules.map((r) => r.policy).join(", ")}`);
    const name = labels["app.kubernetes.io/name"];
    const grpcPorts = containers.flatMap((c) => (c.ports ?? []).filter((p) => p.name === "grpc").map((p) => p.containerPort));
    const bad = [];
    for (const r of rules) {
      for (const peer of r.from ?? []) {
        const ports = rulePorts(r);
        let ok = false;
        if (component === "datastore") {
          ok = peerIsPods(peer, "service") || (!peer.namespaceSelector && peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === name);
        } else if (component === "service") {
          ok = ((peerIsPods(peer, "gateway") || peerIsPods(peer, "service")) && ports.length > 0 && ports.every((p) => grpcPorts.includes(p)))
            || (peerIsNamespace(peer, "monitoring") && ports.length > 0 && ports.every((p) => !grpcPorts.includes(p)));
        } else if (component === "gateway") {
          ok = (peerIsNamespace(peer, "ingress-nginx") || peerIsNamespace(peer, "monitoring")) && ports.length > 0;
        }
        if (!ok) bad.push(`${r.policy}: ${JSON.stringify(peer)} ports ${JSON.stringify(ports)}`);
      }
    }
    const who = { datastore: "only the services", service: "only the gateway and the services (gRPC port), monitoring (management port)", gateway: "only the Ingress controller and monitoring" }[component];
    add("network-callers", id(w), who !== undefined && bad.length === 0,
      who === undefined ? `label app.kubernetes.io/component must be service, gateway or datastore (is ${component})` : `${who} may reach it; not allowed: ${bad.join("; ")}`);
  }

  // Operated RabbitMQ (production): a policy must guard its pods too.
  for (const rc of of("RabbitmqCluster")) {
    const labels = { "app.kubernetes.io/name": rc.metadata.name };
    const sel = policies.filter((p) => selectorMatches(p.spec?.podSelector, labels) && (p.spec.ingress ?? []).length > 0);
    const amqpFromServicesOnly = sel.flatMap((p) => p.spec.ingress).filter((r) => rulePorts(r).includes(5672) || rulePorts(r).length === 0)
      .every((r) => (r.from ?? []).length > 0 && r.from.every((peer) => peerIsPods(peer, "service") || peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === rc.metadata.name));
    add("network-policy", id(rc), sel.length > 0 && amqpFromServicesOnly, "the operated RabbitMQ's pods must accept AMQP from the services only");
  }

  // The gateway is exposed with HTTP/2 end to end.
  const gatewayGrpc = of("Ingress").some((i) => i.metadata?.annotations?.["nginx.ingress.kubernetes.io/backend-protocol"] === "GRPC"
    && (i.spec?.rules ?? []).some((r) => (r.http?.paths ?? []).some((p) => p.backend?.service?.name === "gateway" && (p.backend.service.port?.name === "grpc" || p.backend.service.port?.number === 5100))))
    || of("GRPCRoute").length > 0;
  if (workloads.some((w) => podLabels(w)["app.kubernetes.io/component"] === "gateway")) {
    add("gateway-http2", "Ingress", gatewayGrpc, "an Ingress with backend-protocol GRPC (or a GRPCRoute) must reach the gateway's gRPC port");
  }

  // ConfigMaps carry no secrets.
  for (const cm of of("ConfigMap")) {
    const leaked = Object.keys(cm.data ?? {}).filter((k) => isSecretName(k));
    add("configmap-no-secrets", id(cm), leaked.length === 0, `secret keys in a ConfigMap: ${leaked.join(", ")}`);
  }

  // Secrets: none in production (operations create them); development ones are marked as such.
  for (const s of of("Secret")) {
    if (context.production) add("no-secret-in-production", id(s), false, "the production overlay must not contain Secret values");
    else add("secret-marked-development", id(s), s.metadata?.labels?.["vigil.dev/development-only"] === "true", "a committed Secret must be labelled vigil.dev/development-only");
  }

  // Every project of the repository is deployed, on the ports of its appsettings.json.
  for (const p of context.projects ?? []) {
    const d = workloads.find((w) => w.kind === "Deployment" && w.metadata.name === p.name);
    add("project-deployed", p.name, !!d, `no Deployment named ${p.name} for ${p.project}`);
    if (!d) continue;
    const c = podSpec(d).containers?.[0] ?? {};
    const ports = Object.fromEntries((c.ports ?? []).map((x) => [x.name, x.containerPort]));
    const mgmt = ports.management ?? ports.http;
    add("ports-match-kestrel", p.name, ports.grpc === p.grpcPort && mgmt === p.managementPort,
      `container ports grpc ${ports.grpc}/management ${mgmt} must match Kestrel's ${p.grpcPort}/${p.managementPort} in ${p.project}/appsettings.json`);
  }
  return results;
}
