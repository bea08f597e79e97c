// A TypeScript client of the JSON API, typed from docs/openapi.yaml (openapi-typescript writes
// schema.d.ts next to this file; tests/integration/test_clients.py runs it): creates, reads,
// merge-patches and searches a student, and reads a typed problem. `tsc --strict` must accept
// it, so every member used here is one the document declares, with the type it declares.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type ActiveStudent = components["schemas"]["ActiveStudent"];
type StudentInput = components["schemas"]["StudentInput"];
type Problem = components["schemas"]["Problem"];

declare const process: { env: Record<string, string | undefined>; exitCode: number };

function need(name: string): string {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`failed: ${what}`);
}

async function main(): Promise<void> {
  const api = createClient<paths>({
    baseUrl: need("KT_BASE_URL"),
    headers: { Authorization: `Bearer ${need("KT_TOKEN")}` },
  });
  const input = JSON.parse(need("KT_STUDENT")) as StudentInput;

  const created = await api.POST("/api/v1/students", {
    params: { query: { reason: "приём, приказ № 1" } },
    body: input,
  });
  check(created.response.status === 201, `create: ${created.response.status}`);
  const student: ActiveStudent | undefined = created.data;
  if (student === undefined) throw new Error("create: no body");
  check(student.version === 1 && student.organization === need("KT_ORG"), "created version 1");
  console.log(`created ${student.id}`);

  const read = await api.GET("/api/v1/students/{id}", { params: { path: { id: student.id } } });
  check(read.data?.id === student.id && read.data.last_name === input.last_name, "read");

  const patched = await api.PATCH("/api/v1/students/{id}", {
    params: {
      path: { id: student.id },
      header: { "If-Match": '"1"' },
      query: { reason: "уточнение места рождения" },
    },
    body: { birth_place: "г. Набережные Челны" },
    headers: { "Content-Type": "application/merge-patch+json" },
  });
  check(patched.data?.version === 2, `patch: ${patched.response.status}`);
  check(patched.data?.birth_place === "г. Набережные Челны", "patched birth_place");

  const found = await api.GET("/api/v1/students", {
    params: { query: { snils: student.snils ?? "" } },
  });
  const ids: string[] = (found.data?.items ?? []).map((s: ActiveStudent) => s.id);
  check(ids.length === 1 && ids[0] === student.id, `search: ${JSON.stringify(ids)}`);

  const stale = await api.PATCH("/api/v1/students/{id}", {
    params: { path: { id: student.id }, header: { "If-Match": '"1"' } },
    body: {},
    headers: { "Content-Type": "application/merge-patch+json" },
  });
  const problem: Problem | undefined = stale.error;
  check(problem?.status === 412 && problem.code === "VERSION_CONFLICT", "a stale If-Match");

  console.log("created, read, patched, searched");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
