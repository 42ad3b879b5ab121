import { FINALIZER_MIRRORS } from "../api/names.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { updateWithRetry } from "../kube/conflict.ts";
import { describeError } from "../kube/errors.ts";
import { Resources } from "../kube/resources.ts";
import type { Logger } from "../log.ts";

export interface LinkRef {
  client: KubeClient;
  namespace: string;
  name: string;
  logger: Logger;
}

/**
 * Adds the mirrors finalizer to the link, so that its deletion waits for the cleanup. `cached` is tried first (no
 * GET); a conflict re-reads the link, a few times, while `active()` holds.
 */
export async function addMirrorsFinalizer(
  ref: LinkRef,
  cached: KubeObject | undefined,
  active: () => boolean,
): Promise<void> {
  try {
    await updateWithRetry({
      cached,
      read: () => ref.client.getOptional(Resources.zoneSyncLinks, ref.namespace, ref.name),
      attempts: 5,
      active,
      write: async (link) => {
        const finalizers = link.metadata.finalizers ?? [];
        if (link.metadata.deletionTimestamp || finalizers.includes(FINALIZER_MIRRORS)) return false;
        await ref.client.patch(Resources.zoneSyncLinks, ref.namespace, ref.name, {
          metadata: { resourceVersion: link.metadata.resourceVersion, finalizers: [...finalizers, FINALIZER_MIRRORS] },
        });
        return true;
      },
    });
  } catch (err) {
    ref.logger.warn("cannot add the finalizer", { error: describeError(err) });
  }
}

/**
 * Removes the mirrors finalizer (the link's deletion then completes). Returns the link as read before, or undefined
 * when it is gone already; a conflict throws (the caller retries).
 */
export async function removeMirrorsFinalizer(ref: LinkRef): Promise<KubeObject | undefined> {
  const link = await ref.client.getOptional(Resources.zoneSyncLinks, ref.namespace, ref.name);
  if (!link) return undefined;
  const current = link.metadata.finalizers ?? [];
  const finalizers = current.filter((f) => f !== FINALIZER_MIRRORS);
  if (finalizers.length !== current.length) {
    await ref.client.patch(Resources.zoneSyncLinks, ref.namespace, ref.name, {
      metadata: { resourceVersion: link.metadata.resourceVersion, finalizers },
    });
  }
  return link;
}
