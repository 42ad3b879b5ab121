import type { Command } from "commander";
import { MCS_GROUP, MCS_VERSION, SERVICE_EXPORT_KIND } from "../mcs/api.ts";
import type { KubeObject } from "../kube/client.ts";
import { Resources } from "../kube/resources.ts";
import { clientFor, explainKubeError, toYaml } from "./common.ts";
import { dnsLabelFlag } from "./flags.ts";

interface ExportFlags {
  namespace: string;
  apply?: boolean;
  context?: string;
  kubeconfig?: string;
}

function serviceExport(name: string, namespace: string): KubeObject {
  return { apiVersion: `${MCS_GROUP}/${MCS_VERSION}`, kind: SERVICE_EXPORT_KIND, metadata: { name, namespace } };
}

function common(command: Command): Command {
  return command
    .option("-n, --namespace <namespace>", "namespace of the Service", "default")
    .option("--apply", "write to the cluster instead of printing")
    .option("--context <context>", "kubeconfig context of the exporting cluster (with --apply)")
    .option("--kubeconfig <file>", "kubeconfig file");
}

/** `zonesync export <service>`: the standard ServiceExport, printed or written. */
export function registerExport(program: Command): void {
  common(
    program
      .command("export")
      .argument("<service>", "the Service to export to the clusterset")
      .description(
        "export a Service through the Multi-Cluster Services API: prints (or with --apply writes) the ServiceExport " +
          "of the same name, which every cluster that links to this one imports",
      ),
  )
    .addHelpText(
      "after",
      `
Examples:
  zonesync export web -n shop | kubectl apply -f -
  zonesync export web -n shop --apply --context east`,
    )
    .action(async (service: string, flags: ExportFlags) => {
      await exportService(service, flags);
    });
}

/** `zonesync unexport <service>`: its ServiceExport, printed or deleted. */
export function registerUnexport(program: Command): void {
  common(
    program
      .command("unexport")
      .argument("<service>", "the Service to stop exporting")
      .description(
        "stop exporting a Service: prints (or with --apply deletes) its ServiceExport; other clusters drop its " +
          "endpoints within seconds",
      ),
  ).action(async (service: string, flags: ExportFlags) => {
    await unexportService(service, flags);
  });
}

async function exportService(service: string, flags: ExportFlags): Promise<void> {
  dnsLabelFlag("<service>", service);
  dnsLabelFlag("--namespace", flags.namespace);
  const obj = serviceExport(service, flags.namespace);
  if (!flags.apply) {
    process.stdout.write(toYaml([obj]));
    return;
  }
  const client = clientFor(flags);
  try {
    const existing = await client.getOptional(Resources.serviceExports, flags.namespace, service);
    if (existing) {
      process.stdout.write(`serviceexport ${flags.namespace}/${service} already exists; nothing to do\n`);
      return;
    }
    await client.create(Resources.serviceExports, { metadata: obj.metadata });
    const svc = await client.getOptional(Resources.services, flags.namespace, service);
    process.stdout.write(`serviceexport ${flags.namespace}/${service} created\n`);
    if (!svc) {
      process.stderr.write(
        `warning: Service ${flags.namespace}/${service} does not exist; the export is Valid=False (NoService) until it does\n`,
      );
    }
  } catch (err) {
    throw explainKubeError(err, `cannot export ${flags.namespace}/${service}`, flags.context);
  } finally {
    await client.close();
  }
}

async function unexportService(service: string, flags: ExportFlags): Promise<void> {
  dnsLabelFlag("<service>", service);
  dnsLabelFlag("--namespace", flags.namespace);
  if (!flags.apply) {
    process.stdout.write(
      `# delete with: zonesync unexport ${service} -n ${flags.namespace} --apply, or kubectl delete -f -\n` +
        toYaml([serviceExport(service, flags.namespace)]),
    );
    return;
  }
  const client = clientFor(flags);
  try {
    const deleted = await client.delete(Resources.serviceExports, flags.namespace, service);
    process.stdout.write(
      deleted
        ? `serviceexport ${flags.namespace}/${service} deleted\n`
        : `serviceexport ${flags.namespace}/${service} does not exist; nothing to do\n`,
    );
  } catch (err) {
    throw explainKubeError(err, `cannot unexport ${flags.namespace}/${service}`, flags.context);
  } finally {
    await client.close();
  }
}
