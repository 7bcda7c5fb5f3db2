// Every test file: an agent run that changed OpenClaw's files (openclaw-host-guard.ts)
// fails the test it ran in, or the file when it ended in an afterAll.
import { afterAll, afterEach } from "vitest";
import { takeViolations } from "../helpers/openclaw-host-guard.ts";

function failOnHostChanges(): void {
  const found = takeViolations();
  if (found.length > 0) throw new Error(`The agent is read-only on the host, but:\n${found.join("\n\n")}`);
}

afterEach(failOnHostChanges);
afterAll(failOnHostChanges);
