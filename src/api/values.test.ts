import { describe, expect, it } from "vitest";
import { DEFAULT_IMAGE_REPOSITORY } from "./names.ts";
import { parseValues } from "./values.ts";

describe("parseValues", () => {
  it("fills every default from an empty document", () => {
    const result = parseValues({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.values.image).toEqual({ repository: DEFAULT_IMAGE_REPOSITORY, tag: "", pullPolicy: "IfNotPresent" });
    expect(result.values.manager).toMatchObject({ enabled: true, apply: "helm", args: [], nginx: {} });
    expect(result.values.controllerDefaults).toEqual({
      replicas: 1,
      logLevel: "info",
      logFormat: "json",
      resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
      nodeSelector: {},
      tolerations: [],
      affinity: {},
      podAntiAffinity: false,
      podDisruptionBudget: { enabled: false, minAvailable: 1 },
      image: {},
    });
    expect(result.values.controllers).toEqual([]);
    expect(parseValues(undefined).ok).toBe(true);
  });

  it("keeps controllers entries sparse", () => {
    const result = parseValues({ controllers: [{ name: "east", replicas: 2 }] });
    expect(result.ok && result.values.controllers).toEqual([{ name: "east", replicas: 2 }]);
  });

  it("rejects bad values with the field path", () => {
    const result = parseValues({
      controllers: [{ replicas: 2 }, { name: "west", replica: 3 }],
      controllerDefaults: { replicas: "three", logLevel: "loud" },
      manager: { apply: "kubectl", nginx: { configMap: "just-a-name" } },
    });
    expect(result).toEqual({
      ok: false,
      errors: expect.arrayContaining([
        "controllers[0].name: is required",
        'controllers[1]: Unrecognized key: "replica"',
        "controllerDefaults.replicas: must be an integer",
        "controllerDefaults.logLevel: must be one of error, warn, info, debug",
        "manager.apply: must be one of helm, none",
        'manager.nginx.configMap: must be "namespace/name"',
      ]),
    });
  });

  it("rejects duplicate controllers names", () => {
    expect(parseValues({ controllers: [{ name: "east" }, { name: "west" }, { name: "east" }] })).toEqual({
      ok: false,
      errors: ['controllers[2].name: duplicate "east" (also controllers[0])'],
    });
  });

  it("accepts the NGINX workload forms and quantities as numbers or strings", () => {
    const result = parseValues({
      manager: { nginx: { configMap: "nginx/nginx-config", workload: "DaemonSet/nginx/nginx-ingress" } },
      controllerDefaults: { resources: { requests: { cpu: 0.5, memory: "128Mi" } } },
    });
    expect(result.ok).toBe(true);
    expect(parseValues({ controllerDefaults: { resources: { requests: { memory: "lots" } } } }).ok).toBe(false);
  });
});
