// A small program on the TypeScript types openapi-typescript generates from /openapi.json:
// tsc --noEmit --strict must accept it (tests/test_generated_clients.py).
import type { components, paths } from "./schema";

type Results = paths["/api/search"]["get"]["responses"]["200"]["content"]["application/json"];
type Basket = paths["/api/export"]["post"]["requestBody"]["content"]["application/json"];
type Section = components["schemas"]["Result"]["section"];

export function citations(results: Results): string[] {
  return results.results.map((r) => r.citation);
}

export const basket: Basket = { passage_ids: ["a-0-1"], format: "docx", title: "素材", notes: { "a-0-1": "开头用" } };
export const section: Section = "problems";
export const nextPage = (results: Results): string | undefined => results.next;
