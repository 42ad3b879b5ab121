import { parse } from "yaml";
import { LABEL_LINK } from "../api/names.ts";
import type { Helm } from "../helm/helm.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { describeError, isKubeError } from "../kube/errors.ts";
import { resourceForObject } from "../kube/resources.ts";
import type { Logger } from "../log.ts";

/** The link label as the chart renders it, one per object's metadata (the first occurrence in a document). */
const LINK_LABEL_LINE = /^\s+zonesync\.io\/link: (\S+)$/m;

/** The most dry-run requests in flight at once. */
const CONCURRENCY = 8;

/**
 * Finds the links whose controller objects the API server would refuse, before the one shared `helm upgrade` that
 * would fail for every link: the chart's per-link template is rendered with the candidate values (`helm template`,
 * for this server's version) and each object of the named links is sent as a server-side dry-run apply. A 400 or
 * 422 answer rejects its link, with the API server's message. Anything else (a 403, an unreachable server) rejects
 * nothing: the upgrade itself then decides.
 */
export class ServerDryRun {
  private readonly options: {
    helm: Helm;
    client: Pick<KubeClient, "apply" | "serverVersion">;
    release: string;
    namespace: string;
    chart: string;
    logger?: Logger;
  };
  private kubeVersion: string | undefined;

  constructor(options: ServerDryRun["options"]) {
    this.options = options;
  }

  async rejected(values: Record<string, unknown>, links: readonly string[]): Promise<Map<string, string>> {
    const rejected = new Map<string, string>();
    if (links.length === 0) return rejected;
    const { helm, client, release, namespace, chart, logger } = this.options;
    this.kubeVersion ??= (await client.serverVersion()).gitVersion.replace(/^v/, "").split("+")[0];
    const manifest = await helm.template({
      release,
      chart,
      namespace,
      values,
      kubeVersion: this.kubeVersion,
      showOnly: ["templates/controllers.yaml"],
    });
    const wanted = new Set(links);
    // Only the documents of the links asked about are parsed: a burst of 500 links renders 2,500 objects, and a
    // YAML document tree of all of them costs more memory than the rest of the manager.
    const objects = manifest
      .split(/^---$/m)
      .filter((doc) => wanted.has(LINK_LABEL_LINE.exec(doc)?.[1]?.replace(/^"(.*)"$/, "$1") ?? ""))
      .map((doc) => parse(doc) as KubeObject | null)
      .filter((o): o is KubeObject => Boolean(o?.kind) && wanted.has(o!.metadata?.labels?.[LABEL_LINK] ?? ""));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < objects.length) {
        const obj = objects[next++]!;
        const link = obj.metadata.labels![LABEL_LINK]!;
        if (rejected.has(link)) continue;
        try {
          const type = resourceForObject(obj);
          await client.apply(
            type,
            { ...obj, metadata: { ...obj.metadata, namespace } },
            {
              dryRun: true,
              fieldManager: "zonesync-manager-dry-run",
            },
          );
        } catch (err) {
          if (isKubeError(err) && (err.status === 400 || err.status === 422)) {
            rejected.set(link, `${obj.kind} ${obj.metadata.name}: ${err.serverMessage || err.message}`);
          } else {
            logger?.debug("dry run inconclusive; the upgrade decides", { link, error: describeError(err) });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, objects.length) }, worker));
    return rejected;
  }
}
