import type { Command } from "commander";
import { stringify } from "yaml";
import { parseLink, type ZoneSyncLink } from "../api/link.ts";
import { DEFAULT_NAMESPACE } from "../api/names.ts";
import { renderControllerEntries } from "../api/render.ts";
import type { KubeObject } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { clientFor, explainKubeError } from "./common.ts";

interface ValuesFlags {
  context?: string;
  kubeconfig?: string;
  namespace: string;
}

export function registerValues(program: Command): void {
  program
    .command("values")
    .description("print the chart's controllers: values rendered from the ZoneSyncLinks in the cluster (GitOps)")
    .option("--context <context>", "kubeconfig context of the source cluster")
    .option("--kubeconfig <file>", "kubeconfig file")
    .option("-n, --namespace <namespace>", "namespace of the links", DEFAULT_NAMESPACE)
    .addHelpText(
      "after",
      `
For GitOps: commit the output into your values and run the manager with --apply=none; it then only reports.

Example:
  zonesync values --context hub > controllers-values.yaml
`,
    )
    .action(async (flags: ValuesFlags) => {
      const client = clientFor(flags, "source");
      let items: KubeObject[];
      try {
        items = (await client.listAll<KubeObject>(Resources.zoneSyncLinks, flags.namespace)).items;
      } catch (err) {
        throw explainKubeError(err, "listing ZoneSyncLinks", flags.context);
      }
      const links: ZoneSyncLink[] = [];
      for (const item of items) {
        const parsed = parseLink(item);
        if (parsed.ok) links.push(parsed.link);
        else
          process.stderr.write(`warning: skipping invalid link ${item.metadata.name}: ${parsed.errors.join("; ")}\n`);
      }
      process.stdout.write(stringify({ controllers: renderControllerEntries(links) }, { lineWidth: 0 }));
    });
}
