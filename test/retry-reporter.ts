import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Reporter, TestCase } from "vitest/node";

/** Where `npm test` reads the tests that needed more than one try. */
export const RETRY_REPORT = ".zonesync-dev/vitest-retries.json";

export interface RetriedTest {
  file: string;
  name: string;
  retries: number;
  state: string;
}

/**
 * Records every test that ran more than once because of a `retry` option, so a pass on a later try is never
 * silent: scripts/test.ts prints each one and counts them in the closing line.
 */
export default class RetryReporter implements Reporter {
  private readonly retried: RetriedTest[] = [];

  onTestCaseResult(testCase: TestCase): void {
    const retries = testCase.diagnostic()?.retryCount ?? 0;
    if (retries > 0) {
      this.retried.push({
        file: testCase.module.relativeModuleId,
        name: testCase.fullName,
        retries,
        state: testCase.result().state,
      });
    }
  }

  onTestRunEnd(): void {
    mkdirSync(dirname(RETRY_REPORT), { recursive: true });
    writeFileSync(RETRY_REPORT, JSON.stringify(this.retried, null, 2));
  }
}
