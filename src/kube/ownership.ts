import type { KubeClient, KubeObject } from "./client.ts";
import { isConflict } from "./errors.ts";
import type { ResourceType } from "./resources.ts";

export type CreateOnlyResult = { created: KubeObject } | { existing: KubeObject };

/**
 * Writes `body` only when no object of its name exists: the first write of a name is create-only. An existing
 * object is returned untouched, for the caller to judge by its identity label; server-side apply's shared-field
 * rules never decide ownership. The create is an apply without force under `fieldManager`: when its response shows
 * another manager (someone created the name in the same instant), our fields are withdrawn again and the other
 * object is returned as existing.
 */
export async function createOnly(
  client: KubeClient,
  type: ResourceType,
  body: KubeObject,
  fieldManager: string,
  options: { absentFromCompleteCache?: boolean } = {},
): Promise<CreateOnlyResult> {
  const { name, namespace } = body.metadata;
  if (!name) throw new Error(`a create-only write of a ${type.kind} needs metadata.name`);
  // A caller whose synced cache holds every object of the type (not only its own) already knows the name is free;
  // one created since is caught by the managedFields check below, as a concurrent create is.
  const live = options.absentFromCompleteCache
    ? undefined
    : await client.getOptional<KubeObject>(type, namespace, name);
  if (live) return { existing: live };
  let written: KubeObject;
  try {
    written = await client.apply<KubeObject>(type, body, { fieldManager, force: false });
  } catch (err) {
    if (isConflict(err)) return { existing: await client.get<KubeObject>(type, namespace, name) };
    throw err;
  }
  if ((written.metadata.managedFields ?? []).some((f) => f.manager !== fieldManager)) {
    const withdrawn = await client.apply<KubeObject>(
      type,
      { metadata: { name, namespace } },
      { fieldManager, force: false },
    );
    return { existing: withdrawn };
  }
  return { created: written };
}
